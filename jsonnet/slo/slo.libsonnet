// SLO area entry point: burn-rate rules (rules/slo-<id>.yaml), generated promtool tests
// (tests/rules/generated/slo-*.yaml), the normalised SLO list and the Alertmanager inhibit rules.
local sloRules = import 'rules.libsonnet';
local spec = import 'spec.libsonnet';
local sloTests = import 'tests.libsonnet';

{
  local config = $._config,
  local imported = std.get($._config, 'sloImported', []),
  local all = [spec.normalise(s, config.sloDefaults, 'jsonnet/config.libsonnet') for s in $._config.slos]
              + [spec.normalise(s, config.sloDefaults, std.get(s, 'file', 'slos/')) for s in imported],
  local duplicates = [
    id
    for id in std.set([s.id for s in all])
    if std.length(std.filter(function(s) s.id == id, all)) > 1
  ],
  local checked = if duplicates != [] then
    error 'SLO "%s": defined more than once (SLO ids are service-name)' % duplicates[0]
  else all,

  slos+:: { [s.id]: s for s in checked },

  // One rule file per SLO (rules/slo-<id>.yaml), so each SLO's generated tests load only its rules.
  ruleFiles+:: { ['slo-' + s.id]: { groups: sloRules.groups(s, config) } for s in checked },

  promtoolTests+:: std.foldl(function(acc, s) acc + sloTests.files(s, config), checked, {}),

  // Alertmanager 0.25 inhibit rules: a firing page tier of an SLO mutes the ticket tiers of the same SLO.
  sloInhibitRules:: [{
    source_matchers: ['alertname="SLOErrorBudgetBurn"', 'sloth_severity="page"'],
    target_matchers: ['alertname="SLOErrorBudgetBurn"', 'sloth_severity="ticket"'],
    equal: ['sloth_id'],
  }],

  grafanaDashboards+:: {},
  grafanaProvisioning+:: {},
  alertmanagerConfig+:: {},
  alertmanagerTemplates+:: {},
}
