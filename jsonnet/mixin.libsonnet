// The infrawatch monitoring mixin (monitoring-mixins convention).
// Exposes: _config, prometheusAlerts, prometheusRules, grafanaDashboards, alertmanagerConfig, slos,
// kubernetesManifests (file name -> list of objects, written to deploy/kubernetes/), kubernetesPatches
// (deploy/kubernetes/patches/) and kubernetesPrometheusRemoteWrite (a `Prometheus` spec.remoteWrite).
// Each area file adds itself to `ruleFiles` (area name -> {groups: [...]}) so `make build` can write
// one rules file per area; prometheusAlerts/prometheusRules are derived from it for importers.
local configSchema = import 'lib/config_schema.libsonnet';
local dashboardKnobs = import 'lib/dashboard_knobs.libsonnet';
local isAlertRule(r) = std.objectHas(r, 'alert');
local filterGroups(groups, pred) = [
  g { rules: std.filter(pred, g.rules) }
  for g in groups
  if std.length(std.filter(pred, g.rules)) > 0
];

(import 'config.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'slo/slo.libsonnet') +
(import 'alertmanager/alertmanager.libsonnet') +
(import 'dashboards/dashboards.libsonnet') +
(import 'deploy/kubernetes.libsonnet') +
{
  // _config is checked against lib/config_schema.libsonnet whenever an output is read: a typo,
  // an unknown kind or a bad duration fails the build naming the key.
  assert std.isObject(configSchema.checked(self._config)),
  local allGroups = std.flattenArrays([self.ruleFiles[area].groups for area in std.objectFields(self.ruleFiles)]),
  // Dashboard knobs applied to every dashboard (docs/dashboards.md "Knobs"), as node-mixin and
  // kubernetes-mixin have them: dashboards.titlePrefix on every title; with showMultiCluster a
  // `cluster` variable (label clusterLabel) and its matcher in every query and variable; with
  // dashboards.tenantLabel a tenant variable and matcher on dashboards.tenantDashboards;
  // dashboards.rateInterval as the window of every rate()/increase().
  local knobs = dashboardKnobs(self._config),
  grafanaDashboards:: std.mapWithKey(knobs.apply, super.grafanaDashboards),
  // monitoring-mixins convention (grizzly, kube-prometheus addMixin): the Grafana folder.
  grafanaDashboardFolder:: self._config.dashboards.grafanaFolder,
  prometheusAlerts+:: { groups+: filterGroups(allGroups, isAlertRule) },
  prometheusRules+:: { groups+: filterGroups(allGroups, function(r) !isAlertRule(r)) },
}
