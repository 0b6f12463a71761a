"""Re-export of ``infrawatch_dev.devstack.alertmanager`` (a real Alertmanager; ``render_mixin_config``)."""

from infrawatch_dev.devstack.alertmanager import *  # noqa: F403
from infrawatch_dev.devstack.alertmanager import ROOT, Alertmanager, alertmanager_binary, iso, render_mixin_config

__all__ = ["ROOT", "Alertmanager", "alertmanager_binary", "iso", "render_mixin_config"]
