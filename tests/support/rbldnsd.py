"""Re-export of ``infrawatch_dev.devstack.rbldnsd`` (a real DNSBL server; zones from datasets.txt)."""

from infrawatch_dev.devstack.rbldnsd import *  # noqa: F403
from infrawatch_dev.devstack.rbldnsd import Rbldnsd, Zone, closed_udp_port, start_rbldnsd, zones_from_datasets

__all__ = ["Rbldnsd", "Zone", "closed_udp_port", "start_rbldnsd", "zones_from_datasets"]
