"""Re-export of ``infrawatch_dev.devstack.prometheus`` (a real Prometheus on a free loopback port)."""

from infrawatch_dev.devstack.prometheus import *  # noqa: F403
from infrawatch_dev.devstack.prometheus import Prometheus

__all__ = ["Prometheus"]
