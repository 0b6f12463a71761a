// IP reputation: the seed's IP Reputation Monitor (IP, provider, pool, score, lists it is on, daily
// volume, status in colour), with links to each list's delisting page and the exporter's status page,
// the 90-day score history, list health and lookup errors (DESIGN's reputation_* set), and the
// e-mail delivery success / failure rates of the sending IPs (the application's email_sent_total).
local lib = import '../lib/dashboards.libsonnet';
local r = import '../lib/rules.libsonnet';

local t = 'target=~"$target"';
local statusColours = lib.valueMap({
  good: ['Good', 'green'],
  warning: ['Warning', 'yellow'],
  critical: ['Critical', 'red'],
  unknown: ['Unknown', 'text'],
});
local upMappings = [lib.valueMap({ '1': ['up', 'green'], '0': ['down', 'red'] })];

{
  grafanaDashboards+:: {
    local dcfg = $._config.dashboards,
    local scoreSteps = [[null, 'red'], [50, 'orange'], [$._config.reputationScoreThreshold, 'green']],

    // The monitor table: one row per IP, frames joined on `target`.  `lists` is the distinct set of
    // lists the IP is listed on (groupBy on that query's frame only).
    local monitor =
      lib.table(
        'IP reputation monitor',
        [
          lib.tableTarget('max by (target, provider, pool, kind) (reputation_target_info{%s})' % t, 'INFO'),
          lib.tableTarget('max by (target) (reputation_score{%s})' % t, 'SCORE'),
          lib.tableTarget('max by (target, status) (reputation_status{%s}) == 1' % t, 'STATUS'),
          lib.tableTarget('max by (target, list) (reputation_listed{%s}) == 1' % t, 'LISTS'),
          lib.tableTarget('(%s) and on (target) reputation_target_info{%s}' % [std.stripChars(dcfg.dailyVolumeQuery, '\n'), t], 'VOLUME'),
          lib.tableTarget('round(100 * max by (target) (reputation_coverage_ratio{%s}))' % t, 'COVERAGE'),
          // Hours since the earliest listing of the target that is still current (one decimal).  The
          // table has one unit (the schema allows no per-column unit), so a number of hours, not a time.
          lib.tableTarget('round((time() - min by (target) (reputation_listed_since_timestamp_seconds{%s})) / 360) / 10' % t, 'SINCE'),
        ],
        unit='none',
        description='One row per monitored IP or domain. "Listed on" shows the lists with a definitive listing, "Listed for (h)" how long since the earliest current listing was first seen (e.g. 2.2: "detected 2 hours ago"); click a row for the exporter status page (TXT reasons, delisting instructions).',
        transformations=[
          // One groupBy over every frame (frame filters need string matcher options the schema
          // forbids): each frame keeps its label columns and the value it contributes; LISTS turns
          // into one row per IP with the distinct lists.
          {
            id: 'groupBy',
            options: {
              fields: {
                target: { aggregations: [], operation: 'groupby' },
                provider: { aggregations: [], operation: 'groupby' },
                pool: { aggregations: [], operation: 'groupby' },
                status: { aggregations: [], operation: 'groupby' },
                list: { aggregations: ['uniqueValues'], operation: 'aggregate' },
                'Value #SCORE': { aggregations: ['lastNotNull'], operation: 'aggregate' },
                'Value #VOLUME': { aggregations: ['lastNotNull'], operation: 'aggregate' },
                'Value #COVERAGE': { aggregations: ['lastNotNull'], operation: 'aggregate' },
                'Value #SINCE': { aggregations: ['lastNotNull'], operation: 'aggregate' },
              },
            },
          },
          lib.merge,
          lib.organize(
            {
              target: 'IP / domain',
              provider: 'Provider',
              pool: 'Pool',
              'Value #SCORE (lastNotNull)': 'Score',
              'list (uniqueValues)': 'Listed on',
              'Value #VOLUME (lastNotNull)': 'Daily volume',
              'Value #COVERAGE (lastNotNull)': 'Coverage %',
              'Value #SINCE (lastNotNull)': 'Listed for (h)',
              status: 'Status',
            },
            ['target', 'provider', 'pool', 'Value #SCORE (lastNotNull)', 'list (uniqueValues)', 'Value #SINCE (lastNotNull)', 'Value #VOLUME (lastNotNull)', 'status', 'Value #COVERAGE (lastNotNull)'],
          ),
        ],
        mappings=[statusColours],
        steps=[[null, 'text']],
        links=[lib.link('Reputation exporter status page', dcfg.reputationStatusPageURL)],
        sortBy=[{ displayName: 'Score', desc: false }],
        overrides=[
          lib.byName('Status', { 'custom.cellOptions': { type: 'color-background' } }),
          lib.byName('Score', {
            'custom.cellOptions': { type: 'color-text' },
            thresholds: lib.thresholds(scoreSteps),
          }),
        ],
        decimals=0,
      ) + lib.size(24, 9),

    local listings =
      lib.table(
        'Active listings',
        [lib.tableTarget(|||
          max by (target, list, code, category) (reputation_listing_info{%s})
          * on (list) group_left (tier, zone, delist_url)
          max by (list, tier, zone, delist_url) (reputation_list_info)
        ||| % t, 'A')],
        unit='none',
        description="Each (IP, list) listing with its return code and category. Click a row for the list's delisting page.",
        transformations=[lib.organize(
          { Time: null, Value: null, target: 'IP / domain', list: 'List', code: 'Code', category: 'Category', tier: 'Tier', zone: 'Zone', delist_url: 'Delisting page' },
          ['target', 'list', 'tier', 'category', 'code', 'zone', 'delist_url'],
        )],
        links=[lib.link('Delisting page of ${__data.fields.list}', '${__data.fields.delist_url}')],
        noValue='Not listed anywhere',
      ) + lib.size(24, 7),

    // Why answers are unknown: one row per (list, reason) with the number of targets, so "Spamhaus
    // refuses our resolver (blocked_resolver)" reads off the table instead of a bare "unknown".
    local unknownAnswers =
      lib.table(
        'Unknown answers by list and reason',
        [lib.tableTarget('count by (list, reason) (reputation_lookup_error{%s} == 1)' % t, 'A')],
        unit='none',
        description='Lookups with no definitive answer, by list and the reason the exporter gives (timeout, servfail, refused, truncated, blocked_resolver, rate_limited, bad_key, malformed, list_down...). blocked_resolver, rate_limited and bad_key do not heal by waiting (alert DNSBLQueriesRefused).',
        transformations=[lib.organize(
          { Time: null, list: 'List', reason: 'Reason', Value: 'Targets' },
          ['list', 'reason', 'Value'],
        )],
        sortBy=[{ displayName: 'Targets', desc: true }],
        noValue='Every lookup answered',
      ) + lib.size(24, 6),

    // Seed 004's e-mail delivery success / failure rates, from the application's email_sent_total
    // (the same series and selectors as EmailDeliveryFailing).  Every sending IP, not only those the
    // reputation exporter checks, so the IP variables do not apply.
    local emailAll = r.sel([$._config.emailSentSelector]),
    local emailFailed = r.sel([$._config.emailSentSelector, $._config.emailFailureSelector]),
    local emailDelivery = [
      lib.timeseries('E-mails sent by status',
                     [lib.target(lib.sumRate('email_sent_total', emailAll, 'status'), '{{status}}')],
                     'cps',
                     description='E-mails handed to the MTA per second, by the status the application records (email_sent_total; only `success` counts as sent).',
                     min=0,
                     stack=true) + lib.size(12, 8),
      lib.timeseries('Delivery failure ratio by sending IP',
                     [lib.target('%s\n/\n%s' % [lib.sumRate('email_sent_total', emailFailed, 'source_ip'), lib.sumRate('email_sent_total', emailAll, 'source_ip')], '{{source_ip}}')],
                     'percentunit',
                     description='Share of the e-mails of each sending IP that failed (%s). EmailDeliveryFailing warns above %g%% for %s.' % [$._config.emailFailureSelector, $._config.emailFailureRatioThreshold * 100, $._config.alertFor.EmailDeliveryFailing],
                     min=0,
                     steps=[[null, 'green'], [$._config.emailFailureRatioThreshold, 'red']]) + lib.size(12, 8),
    ],

    'infrawatch-reputation.json': lib.dashboard(
      uid=dcfg.uidPrefix + 'reputation',
      title='IP reputation',
      description='DNS blacklist reputation of the sending IPs and domains (reputation exporter).',
      tags=dcfg.tags + ['reputation'],
      time=dcfg.defaultTimeRange,
      refresh=dcfg.refresh,
      links=lib.dashboardLinks,
      variables=[
        lib.queryVariable('pool', 'Pool', 'label_values(reputation_target_info, pool)'),
        lib.queryVariable('target', 'IP / domain', 'label_values(reputation_target_info{pool=~"$pool"}, target)', allValue=null),
      ],
      panels=lib.layout([
        lib.row('IP reputation monitor'),
        [
          lib.stat('Monitored', [lib.target('count(max by (target) (reputation_target_info{%s}))' % t, instant=true)], 'none') + lib.size(4, 4),
          lib.stat('Critical',
                   [lib.target('count(max by (target) (reputation_status{%s, status="critical"}) == 1) or vector(0)' % t, instant=true)],
                   'none',
                   steps=[[null, 'green'], [1, 'red']],
                   colorMode='background') + lib.size(4, 4),
          lib.stat('Warning',
                   [lib.target('count(max by (target) (reputation_status{%s, status="warning"}) == 1) or vector(0)' % t, instant=true)],
                   'none',
                   steps=[[null, 'green'], [1, 'yellow']],
                   colorMode='background') + lib.size(4, 4),
          lib.stat('Listings',
                   [lib.target('count(max by (target, list) (reputation_listed{%s}) == 1) or vector(0)' % t, instant=true)],
                   'none',
                   steps=[[null, 'green'], [1, 'red']]) + lib.size(4, 4),
          lib.stat('Lowest score', [lib.target('min(reputation_score{%s})' % t, instant=true)], 'none', steps=scoreSteps, min=0, max=100) + lib.size(4, 4),
          lib.stat('Lists up',
                   [lib.target('sum(max by (list) (reputation_list_up)) / count(max by (list) (reputation_list_up))', instant=true)],
                   'percentunit',
                   steps=[[null, 'red'], [0.5, 'yellow'], [1, 'green']]) + lib.size(4, 4),
        ],
        [monitor],
        [listings],
        lib.row('History'),
        [
          lib.timeseries('Reputation score (%s)' % dcfg.reputationHistoryRange,
                         [lib.target('max by (target) (reputation_score{%s})' % t, '{{target}}')],
                         'none',
                         min=0,
                         max=100,
                         steps=scoreSteps) + lib.size(16, 8) + { timeFrom: dcfg.reputationHistoryRange },
          lib.timeseries('Lookup coverage',
                         [lib.target('max by (target) (reputation_coverage_ratio{%s})' % t, '{{target}}')],
                         'percentunit',
                         min=0,
                         max=1) + lib.size(8, 8),
        ],
        lib.row('Lists'),
        [
          lib.stateTimeline('List health (RFC 5782 test points)',
                            [lib.target('max by (list) (reputation_list_up)', '{{list}}')],
                            upMappings,
                            steps=[[null, 'red'], [1, 'green']]) + lib.size(12, 8),
          lib.timeseries('Lookup errors (unknown results) by list and reason',
                         [lib.target('sum by (list, reason) (reputation_lookup_error{%s})' % t, '{{list}} {{reason}}')],
                         'none',
                         min=0,
                         drawStyle='bars',
                         fillOpacity=80) + lib.size(12, 8),
        ],
        [unknownAnswers],
        [
          lib.timeseries('DNS answers by list', [
            lib.target('sum by (list, result) (rate(reputation_queries_total[$__rate_interval]))', '{{list}} {{result}}'),
          ], 'reqps', min=0) + lib.size(12, 8),
          lib.timeseries('Result age',
                         [lib.target('max by (target) (reputation_result_age_seconds{%s})' % t, '{{target}}')],
                         's',
                         min=0) + lib.size(12, 8),
        ],
        lib.row('E-mail delivery'),
        emailDelivery,
      ]),
    ),
  },
}
