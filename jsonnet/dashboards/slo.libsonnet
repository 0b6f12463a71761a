// SLOs: one repeated row per SLO (Sloth recording rules: slo:sli_error:ratio_rate<window>,
// slo:objective:ratio, slo:error_budget:ratio, slo:current_burn_rate:ratio, slo:period_burn_rate:ratio,
// slo:period_error_budget_remaining:ratio, slo:time_period:days; labels sloth_id/sloth_service/sloth_slo).
local lib = import '../lib/dashboards.libsonnet';

local s = 'sloth_id=~"$slo"';
local on = 'on (sloth_id, sloth_service, sloth_slo)';

// Multiwindow multi-burn-rate tiers when the SLO area's `sloDefaults.tiers` is absent (SRE workbook,
// 30-day period).  The burn-rate panel draws each tier's long window; the factor is where it alerts.
local defaultTiers = [
  { name: 'page-1h', budgetPercent: 2, long: '1h', short: '5m' },
  { name: 'page-6h', budgetPercent: 5, long: '6h', short: '30m' },
  { name: 'ticket-1d', budgetPercent: 10, long: '1d', short: '2h' },
  { name: 'ticket-3d', budgetPercent: 10, long: '3d', short: '6h' },
];

{
  grafanaDashboards+:: {
    local dcfg = $._config.dashboards,
    local sloDefaults = std.get($._config, 'sloDefaults', {}),
    local tiers = std.get(sloDefaults, 'tiers', defaultTiers),
    local periodSeconds = lib.durationSeconds(std.get(sloDefaults, 'period', '30d')),
    local factor(tier) = tier.budgetPercent / 100 * periodSeconds / lib.durationSeconds(tier.long),
    local burnRate(window) =
      'max by (sloth_id) (slo:sli_error:ratio_rate%s{%s} / %s group_left () slo:error_budget:ratio{%s})' % [window, s, on, s],

    local perSLO = [
      lib.stat('SLI (period)', [lib.target(
        '1 - max(slo:period_burn_rate:ratio{%s} * %s group_left () slo:error_budget:ratio{%s})' % [s, on, s], instant=true
      )], 'percentunit', description='Share of good events over the SLO period.', decimals=3) + lib.size(4, 5),
      lib.stat('Objective', [lib.target('max(slo:objective:ratio{%s})' % s, instant=true)], 'percentunit', decimals=3) + lib.size(4, 5),
      lib.stat('Error budget remaining',
               [lib.target('max(slo:period_error_budget_remaining:ratio{%s})' % s, instant=true)],
               'percentunit',
               steps=[[null, 'red'], [0.1, 'orange'], [0.25, 'green']],
               colorMode='background',
               decimals=1) + lib.size(4, 5),
      lib.stat('Budget consumed this period',
               [lib.target('max(slo:period_burn_rate:ratio{%s})' % s, instant=true)],
               'percentunit',
               steps=[[null, 'green'], [0.75, 'orange'], [1, 'red']],
               decimals=1) + lib.size(4, 5),
      lib.stat('Current burn rate',
               [lib.target('max(slo:current_burn_rate:ratio{%s})' % s, instant=true)],
               'none',
               description='1 means the budget lasts exactly one period.',
               steps=[[null, 'green'], [1, 'orange'], [6, 'red']],
               decimals=2) + lib.size(4, 5),
      lib.stat('Projected time to exhaustion',
               [lib.target(|||
                 max(
                   slo:period_error_budget_remaining:ratio{%(s)s}
                   * %(on)s group_left () (slo:time_period:days{%(s)s} * 86400)
                   / %(on)s group_left () slo:current_burn_rate:ratio{%(s)s}
                 )
               ||| % { s: s, on: on }, instant=true)],
               'dtdurations',
               description='Remaining budget divided by the current burn rate (infinite while nothing burns).',
               steps=[[null, 'red'], [86400, 'orange'], [7 * 86400, 'green']],
               noValue='∞') + lib.size(4, 5),
      lib.timeseries('Burn rate per alert tier',
                     [
                       lib.target(burnRate(tier.long), '%s: %s window (alerts above %.3g)' % [tier.name, tier.long, factor(tier)], refId=std.char(65 + i))
                       for i in std.range(0, std.length(tiers) - 1)
                       for tier in [tiers[i]]
                     ],
                     'none',
                     description="Error ratio over each tier's long window divided by the error budget; a tier alerts when both its windows exceed its factor.",
                     min=0,
                     steps=[[null, 'green'], [1, 'orange'], [std.foldl(std.max, [factor(t) for t in tiers], 1), 'red']]) + lib.size(12, 8),
      lib.timeseries('SLI (5m) and objective', [
        lib.target('1 - max(slo:sli_error:ratio_rate5m{%s})' % s, 'SLI 5m', refId='A'),
        lib.target('max(slo:objective:ratio{%s})' % s, 'objective', refId='B'),
      ], 'percentunit', decimals=3) + lib.size(12, 8),
    ],

    'infrawatch-slo.json': lib.dashboard(
      uid=dcfg.uidPrefix + 'slo',
      title='SLOs',
      description='Service level objectives: SLI, objective, error budget, burn rates per alert tier and projected budget exhaustion.',
      tags=dcfg.tags + ['slo'],
      time=dcfg.defaultTimeRange,
      refresh=dcfg.refresh,
      links=lib.dashboardLinks,
      variables=[
        lib.queryVariable('service', 'Service', 'label_values(slo:objective:ratio, sloth_service)'),
        lib.queryVariable('slo', 'SLO', 'label_values(slo:objective:ratio{sloth_service=~"$service"}, sloth_id)'),
      ],
      panels=lib.layout([
        [
          lib.table('Error budget overview',
                    [
                      lib.tableTarget('max by (sloth_service, sloth_slo, sloth_id) (slo:period_error_budget_remaining:ratio{%s})' % s, 'A'),
                    ],
                    'percentunit',
                    transformations=[lib.organize(
                      { Time: null, sloth_id: null, sloth_service: 'Service', sloth_slo: 'SLO', Value: 'Budget remaining' },
                      ['sloth_service', 'sloth_slo', 'Value'],
                    )],
                    decimals=1,
                    overrides=[lib.byName('Budget remaining', {
                      'custom.cellOptions': { type: 'color-background' },
                      thresholds: lib.thresholds([[null, 'red'], [0.1, 'orange'], [0.25, 'green']]),
                    })],
                    sortBy=[{ displayName: 'Budget remaining', desc: false }]) + lib.size(24, 6),
        ],
        lib.row('SLO $slo') + { repeat: 'slo' },
        perSLO,
      ]),
    ),
  },
}
