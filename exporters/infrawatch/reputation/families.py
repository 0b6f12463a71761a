"""The reputation exporter's metric families, declared once (name, help, type, label names).

``metrics.py`` builds its client_python families from these; the table-driven tests check every
name has one declaration across both exporters.
"""

from __future__ import annotations

from ..core.metrics import MetricFamily

LISTED = MetricFamily(
    "reputation_listed",
    "1 if the target is listed on the list, 0 if not; absent when the last lookup gave no definitive answer.",
    labels=("target", "list"),
)
LOOKUP_ERROR = MetricFamily(
    "reputation_lookup_error",
    "1 if the last lookup of this pair failed (unknown), with why (reason: timeout, servfail, refused, truncated, "
    "blocked_resolver, rate_limited, bad_key, malformed, list_down, ...); 0 with an empty reason otherwise.",
    labels=("target", "list", "reason"),
)
LISTED_SINCE = MetricFamily(
    "reputation_listed_since_timestamp_seconds",
    "When the current listing of the target on the list was first seen (kept across restarts); absent when not listed.",
    labels=("target", "list"),
)
LISTING_INFO = MetricFamily(
    "reputation_listing_info",
    "1 per return code while the target is listed.",
    labels=("target", "list", "code", "category"),
)
LIST_UP = MetricFamily(
    "reputation_list_up", "1 if the list passed its RFC 5782 test points in its last check.", labels=("list",)
)
SCORE = MetricFamily(
    "reputation_score", "Reputation score 0-100 from list weights; absent without evidence.", labels=("target",)
)
STATUS = MetricFamily(
    "reputation_status", "Status state set: good, warning, critical, unknown.", labels=("target", "status")
)
COVERAGE = MetricFamily(
    "reputation_coverage_ratio",
    "Share of applicable lists that answered definitively and are up.",
    labels=("target",),
)
LAST_CHECK = MetricFamily(
    "reputation_last_check_timestamp_seconds", "When the target was last looked up on any list.", labels=("target",)
)
RESULT_AGE = MetricFamily(
    "reputation_result_age_seconds",
    "Age of the oldest result the target's status is based on (restored results count from their original check).",
    labels=("target",),
)
# Configured target labels are appended after these (their names come from the configuration).
TARGET_INFO = MetricFamily(
    "reputation_target_info",
    "Target metadata and configured labels, always 1 (host: the host name an address was found through).",
    labels=("target", "kind", "provider", "pool", "host"),
)
LIST_INFO = MetricFamily(
    "reputation_list_info", "List metadata, always 1.", labels=("list", "zone", "tier", "delist_url")
)
DAILY_QUERY_BUDGET = MetricFamily(
    "reputation_daily_query_budget", "Published daily query limit of the list.", labels=("list",)
)
PROJECTED_DAILY_QUERIES = MetricFamily(
    "reputation_projected_daily_queries",
    "Packets a day the configuration needs for the list: (targets + test points) x checks a day x the packets "
    "per lookup measured so far (retries, TCP), before caching.",
    labels=("list",),
)
QUERIES = MetricFamily(
    "reputation_queries",
    "DNS packets sent to the resolver (UDP, TCP after a truncated reply, retries) by list and the outcome of each "
    "(noerror, nxdomain, servfail, refused, formerr, notimp, truncated, malformed, timeout, error).",
    "counter",
    ("list", "result"),
)
STATE_WRITE_FAILURES = MetricFamily(
    "reputation_state_write_failures",
    "Failed writes of the state file since start (the last error is on the status page).",
    "counter",
)
STATE_LAST_WRITE_OK = MetricFamily(
    "reputation_state_last_write_successful", "1 if the last write of the state file succeeded, 0 if it failed."
)
CHECK_DURATION = MetricFamily(
    "reputation_check_duration_seconds",
    "Duration of the last full check cycle "
    "(all lists), or of the slowest list check when lists run on their own schedule.",
)

FAMILIES = (
    LISTED,
    LOOKUP_ERROR,
    LISTED_SINCE,
    LISTING_INFO,
    LIST_UP,
    SCORE,
    STATUS,
    COVERAGE,
    LAST_CHECK,
    RESULT_AGE,
    TARGET_INFO,
    LIST_INFO,
    DAILY_QUERY_BUDGET,
    PROJECTED_DAILY_QUERIES,
    QUERIES,
    CHECK_DURATION,
    STATE_WRITE_FAILURES,
    STATE_LAST_WRITE_OK,
)
