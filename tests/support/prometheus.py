"""Re-export of ``infrawatch.devstack.prometheus`` (a real Prometheus on a free loopback port)."""

from infrawatch.devstack.prometheus import *  # noqa: F403
from infrawatch.devstack.prometheus import Prometheus

__all__ = ["Prometheus"]
