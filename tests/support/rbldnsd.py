"""Re-export of ``infrawatch.devstack.rbldnsd`` (a real DNSBL server; zones from datasets.txt)."""

from infrawatch.devstack.rbldnsd import *  # noqa: F403
from infrawatch.devstack.rbldnsd import Rbldnsd, Zone, closed_udp_port, start_rbldnsd, zones_from_datasets

__all__ = ["Rbldnsd", "Zone", "closed_udp_port", "start_rbldnsd", "zones_from_datasets"]
