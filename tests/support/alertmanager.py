"""Re-export of ``infrawatch.devstack.alertmanager`` (a real Alertmanager; ``render_mixin_config``)."""

from infrawatch.devstack.alertmanager import *  # noqa: F403
from infrawatch.devstack.alertmanager import ROOT, Alertmanager, alertmanager_binary, iso, render_mixin_config

__all__ = ["ROOT", "Alertmanager", "alertmanager_binary", "iso", "render_mixin_config"]
