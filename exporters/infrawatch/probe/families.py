"""The probe metric families more than one file records.

Families only one prober records are declared at the top of that prober's file; those of the
network helpers (resolve, TLS, health) in the helper.  ``COMMON`` is what every probe result has.
"""

from __future__ import annotations

from ..core.metrics import MetricFamily

SUCCESS = MetricFamily("probe_success", "Displays whether or not the probe was a success")
DURATION = MetricFamily("probe_duration_seconds", "Returns how long the probe took to complete in seconds")
FAILURE_INFO = MetricFamily("probe_failure_info", "Why the probe failed (1 for the reason)", labels=("reason",))
RESULT_TIMESTAMP = MetricFamily(
    "probe_result_timestamp_seconds", "When the scheduled probe's result was taken (Unix time)"
)
COMMON = (SUCCESS, DURATION, FAILURE_INFO, RESULT_TIMESTAMP)

# http and elasticsearch
HTTP_STATUS_CODE = MetricFamily("probe_http_status_code", "Response HTTP status code")
# http and tcp
FAILED_DUE_TO_REGEX = MetricFamily("probe_failed_due_to_regex", "Indicates if probe failed due to regex")

# The labels every scheduled result carries before the families' own.
TARGET_LABELS = ("target", "module", "service")
# Labels Prometheus itself attaches or uses on scrape and in histograms/summaries.
PROMETHEUS_LABELS = ("job", "instance", "le", "quantile")
