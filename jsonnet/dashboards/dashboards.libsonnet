// Area entry point; filled by its issue.  Contributes to the mixin's hidden fields.
{
  ruleFiles+:: {},
  promtoolTests+:: {},
  grafanaDashboards+:: {},
  grafanaProvisioning+:: {},
  alertmanagerConfig+:: {},
  alertmanagerTemplates+:: {},
  slos+:: {},
}
