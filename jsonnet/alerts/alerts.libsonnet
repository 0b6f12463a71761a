// Area entry point of the alerting rules: one file per alert area, each adding rules/<area>.yaml.
(import 'services.libsonnet') +
(import 'tls.libsonnet') +
(import 'smtp.libsonnet') +
(import 'email.libsonnet') +
(import 'redis.libsonnet') +
(import 'elasticsearch.libsonnet') +
(import 'api.libsonnet') +
(import 'websocket.libsonnet') +
(import 'database.libsonnet') +
(import 'node.libsonnet') +
(import 'reputation.libsonnet') +
(import 'pipeline.libsonnet') +
(import 'absent.libsonnet') +
{
  ruleFiles+:: {},
  promtoolTests+:: {},
  grafanaDashboards+:: {},
  grafanaProvisioning+:: {},
  alertmanagerConfig+:: {},
  alertmanagerTemplates+:: {},
  slos+:: {},
}
