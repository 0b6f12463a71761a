"""The ``infrawatch_*`` self metrics of both exporters, declared once.

The probe exporter and the reputation exporter share the build/reload families and the
scheduler families (same name, same help); the probe-only families are declared here too so
every ``infrawatch_*`` name has exactly one HELP text.
"""

from __future__ import annotations

from .metrics import MetricFamily

BUILD_INFO = MetricFamily(
    "infrawatch_build_info", "infrawatch build information, always 1.", labels=("version", "exporter", "pyversion")
)
RELOAD_SUCCESSFUL = MetricFamily(
    "infrawatch_config_last_reload_successful", "Whether the last configuration reload attempt was successful."
)
RELOAD_SUCCESS_TIMESTAMP = MetricFamily(
    "infrawatch_config_last_reload_success_timestamp_seconds", "Timestamp of the last successful configuration reload."
)
SCHEDULED_TARGETS = MetricFamily(
    "infrawatch_scheduled_targets",
    "Targets this replica checks in the background (scheduled probe targets after --shard; reputation targets).",
)
SCHEDULER_LAG = MetricFamily(
    "infrawatch_scheduler_lag_seconds",
    "How late the most delayed scheduled job (probe or list check) started compared to its slot.",
)

# probe exporter
PROBES = MetricFamily(
    "infrawatch_probes", "Probes run, by module and result (scheduled and /probe).", "counter", ("module", "result")
)
PROBE_REFUSED = MetricFamily("infrawatch_probe_refused", "/probe requests refused, by reason.", "counter", ("reason",))
PROBES_IN_FLIGHT = MetricFamily("infrawatch_probes_in_flight", "Probes running right now.")
FILE_SD_ERRORS = MetricFamily(
    "infrawatch_file_sd_errors", "file_sd files whose last read failed (their previous targets stay in use)."
)

SELF_FAMILIES = (
    BUILD_INFO,
    RELOAD_SUCCESSFUL,
    RELOAD_SUCCESS_TIMESTAMP,
    SCHEDULED_TARGETS,
    SCHEDULER_LAG,
    PROBES,
    PROBE_REFUSED,
    PROBES_IN_FLIGHT,
    FILE_SD_ERRORS,
)
