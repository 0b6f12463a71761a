"""Re-export of the reputation exporter process helper from ``infrawatch_dev.devstack.exporters``."""

from infrawatch_dev.devstack.exporters import ReputationExporterProc, all_checked

__all__ = ["ReputationExporterProc", "all_checked"]
