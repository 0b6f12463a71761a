"""Re-export of the reputation exporter process helper from ``infrawatch.devstack.exporters``."""

from infrawatch.devstack.exporters import ReputationExporterProc, all_checked

__all__ = ["ReputationExporterProc", "all_checked"]
