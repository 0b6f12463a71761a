// Entry point of `make build`: a map from generated file path to its content.
// .yaml/.json values are objects; other files are strings (see devtools/infrawatch_dev/build.py).
// `sloImported`: the Sloth/OpenSLO specs of slos/ (read by devtools/infrawatch_dev/build.py).
local configSchema = import 'lib/config_schema.libsonnet';
local mixin = (import 'mixin.libsonnet') + { _config+:: { sloImported: std.extVar('sloImported') } }
              // The whole _config, the SLO list included (mixin.libsonnet checks all but the SLOs).
              + { assert std.isObject(configSchema.checked(self._config, withSlos=true)) };

local prometheusRule(area, file) = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: {
    name: 'infrawatch-' + area,
    labels: { 'app.kubernetes.io/name': 'infrawatch', 'app.kubernetes.io/component': area } + mixin._config.prometheusRuleLabels,
  },
  spec: file,
};

{
  ['rules/%s.yaml' % area]: mixin.ruleFiles[area]
  for area in std.objectFields(mixin.ruleFiles)
} + {
  ['rules/kubernetes/%s.yaml' % area]: prometheusRule(area, mixin.ruleFiles[area])
  for area in std.objectFields(mixin.ruleFiles)
} + {
  ['dashboards/%s' % name]: mixin.grafanaDashboards[name]
  for name in std.objectFields(mixin.grafanaDashboards)
} + {
  ['dashboards/provisioning/%s' % name]: mixin.grafanaProvisioning[name]
  for name in std.objectFields(mixin.grafanaProvisioning)
} + (
  if std.length(std.objectFields(mixin.alertmanagerConfig)) > 0 then
    { 'alertmanager/alertmanager.yml': mixin.alertmanagerConfig }
  else {}
) + {
  ['alertmanager/templates/%s' % name]: mixin.alertmanagerTemplates[name]
  for name in std.objectFields(mixin.alertmanagerTemplates)
} + {
  ['tests/rules/generated/%s' % name]: mixin.promtoolTests[name]
  for name in std.objectFields(mixin.promtoolTests)
} + {
  ['deploy/kubernetes/%s' % name]: mixin.kubernetesManifests[name]
  for name in std.objectFields(mixin.kubernetesManifests)
} + {
  ['deploy/kubernetes/patches/%s' % name]: mixin.kubernetesPatches[name]
  for name in std.objectFields(mixin.kubernetesPatches)
}
