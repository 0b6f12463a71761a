// Area entry point of the recording rules (rules/recording.yaml).
(import 'services.libsonnet') +
{
  ruleFiles+:: {},
  promtoolTests+:: {},
  grafanaDashboards+:: {},
  grafanaProvisioning+:: {},
  alertmanagerConfig+:: {},
  alertmanagerTemplates+:: {},
  slos+:: {},
}
