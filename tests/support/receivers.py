"""Re-export of ``infrawatch_dev.devstack.receivers`` (fake PagerDuty, Slack, webhook and SMTP receivers)."""

from infrawatch_dev.devstack.receivers import *  # noqa: F403
from infrawatch_dev.devstack.receivers import (
    PD_ACTIONS,
    PD_SEVERITIES,
    FakePagerDuty,
    FakeSlack,
    FakeSMTP,
    FakeWebhook,
    HTTPRequest,
    RecordingHTTPServer,
    SMTPMessage,
)

__all__ = [
    "PD_ACTIONS",
    "PD_SEVERITIES",
    "FakePagerDuty",
    "FakeSMTP",
    "FakeSlack",
    "FakeWebhook",
    "HTTPRequest",
    "RecordingHTTPServer",
    "SMTPMessage",
]
