// Dashboards area entry point: one file per dashboard, each adding itself to `grafanaDashboards`
// (file name -> dashboard JSON), plus the Grafana provisioning files in `grafanaProvisioning`.
(import 'overview.libsonnet') +
(import 'reputation.libsonnet') +
(import 'slo.libsonnet') +
(import 'probes.libsonnet') +
(import 'exporters.libsonnet') +
(import 'hosts.libsonnet') +
(import 'api.libsonnet') +
(import 'database.libsonnet') +
(import 'websocket.libsonnet') +
(import 'provisioning.libsonnet') +
{
  ruleFiles+:: {},
  promtoolTests+:: {},
  grafanaDashboards+:: {},
  grafanaProvisioning+:: {},
  alertmanagerConfig+:: {},
  alertmanagerTemplates+:: {},
  slos+:: {},
}
