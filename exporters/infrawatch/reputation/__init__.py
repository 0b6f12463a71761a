"""Blacklist-reputation exporter: DNSBL lookups on a schedule, scored per target."""
