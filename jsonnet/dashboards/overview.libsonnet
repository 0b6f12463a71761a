// Infrastructure overview: the seed's Service Health Grid (one traffic-light card per service in
// `_config.services`, detail stats beneath each card) and the Infrastructure Alerts Feed.
local lib = import '../lib/dashboards.libsonnet';
local rules = import '../lib/rules.libsonnet';

local statusMappings = [lib.valueMap({
  '2': ['Healthy', 'green'],
  '1': ['Degraded', 'yellow'],
  '0': ['Down', 'red'],
})];

// Escapes text for a double-quoted PromQL string that label_replace() uses as replacement
// (`$` would start a capture-group reference).
local promString(s) = std.strReplace(std.strReplace(std.strReplace(s, '\\', '\\\\'), '"', '\\"'), '$', '$$');

{
  grafanaDashboards+:: {
    local cfg = $._config,
    local dcfg = cfg.dashboards,
    local rec = rules.records(cfg),
    local services = cfg.services,
    local sel(s, field) = std.get(s, field, ''),
    local status(s) = 'min(infrawatch:service_status{service="%s"})' % s.name,

    // Detail stats by service kind: the seed's metrics under each card.
    local detailsByKind(s) = {
      http: [
        { title: 'Average', unit: 's', expr: 'max(%s{service="%s"})' % [rec.durationMean, s.name] },
        {
          title: 'p95',
          unit: 's',
          expr: 'max(service:http_request_duration_seconds:histogram_quantile{service="%s", quantile="0.95"})' % s.name,
        },
        {
          title: 'p99',
          unit: 's',
          expr: 'max(service:http_request_duration_seconds:histogram_quantile{service="%s", quantile="0.99"})' % s.name,
        },
        { title: 'Request rate', unit: 'reqps', expr: 'sum(%s{service="%s"})' % [rec.requestsRate, s.name] },
        {
          title: 'Error rate',
          unit: 'percentunit',
          expr: 'max(%s{service="%s"})' % [rec.errorsRatio, s.name],
          steps: [[null, 'green'], [std.get(s, 'errorRatioDegraded', 0.01), 'yellow'], [std.get(s, 'errorRatioDown', 0.05), 'red']],
        },
      ],
      smtp: [
        { title: 'Queue backlog', unit: 'short', expr: 'sum(%s{%s})' % [cfg.smtpQueueMetric, sel(s, 'exporterSelector')] },
        { title: 'SMTP probe time', unit: 's', expr: 'max(probe_duration_seconds{%s})' % sel(s, 'probeSelector') },
      ],
      postgres: [
        {
          title: 'Connections used',
          unit: 'percentunit',
          expr: 'sum(pg_stat_activity_count{%(s)s}) / max(pg_settings_max_connections{%(s)s})' % { s: sel(s, 'exporterSelector') },
          steps: [[null, 'green'], [cfg.databaseConnectionPoolThreshold, 'yellow']],
        },
        { title: 'Query latency', unit: 's', expr: 'max(probe_duration_seconds{%s})' % sel(s, 'probeSelector') },
        { title: 'Storage', unit: 'bytes', expr: 'sum(pg_database_size_bytes{%s})' % sel(s, 'exporterSelector') },
      ],
      redis: [
        {
          title: 'Hit rate',
          unit: 'percentunit',
          expr: |||
            sum(rate(redis_keyspace_hits_total{%(s)s}[$__rate_interval]))
            /
            clamp_min(sum(rate(redis_keyspace_hits_total{%(s)s}[$__rate_interval])) + sum(rate(redis_keyspace_misses_total{%(s)s}[$__rate_interval])), 1e-9)
          ||| % { s: sel(s, 'exporterSelector') },
          steps: [[null, 'red'], [cfg.redisHitRateThreshold, 'green']],
        },
        { title: 'Memory', unit: 'bytes', expr: 'sum(redis_memory_used_bytes{%s})' % sel(s, 'exporterSelector') },
      ],
      elasticsearch: [
        {
          title: 'Cluster health',
          unit: 'none',
          expr: 'min(probe_health_status{%s})' % sel(s, 'probeSelector'),
          mappings: [lib.valueMap({ '1': ['green', 'green'], '0.5': ['yellow', 'yellow'], '0': ['red', 'red'] })],
        },
        {
          title: 'Indexing lag',
          unit: 's',
          expr: dcfg.elasticsearchIndexingLagQuery % { selector: dcfg.elasticsearchExporterSelector },
        },
      ],
    },
    local details(s) =
      if std.objectHas(s, 'details') then s.details
      else std.get(detailsByKind(s), std.get(s, 'kind', ''), []),

    local colW = std.max(3, std.floor(24 / std.max(1, std.length(services)))),
    local perLine = std.floor(24 / colW),
    local cardH = 4,
    local detailH = 3,
    local maxDetails = std.foldl(std.max, [std.length(details(s)) for s in services], 0),
    local blockH = cardH + detailH * maxDetails,

    // One column per service: the card, then its detail stats stacked beneath it.
    local serviceColumn(i, s) =
      local x = (i % perLine) * colW;
      local y = std.floor(i / perLine) * blockH;
      [
        lib.stat(s.title,
                 [lib.target(status(s), s.title, instant=true)],
                 'none',
                 description='Traffic light from infrawatch:service_status (2 healthy, 1 degraded, 0 down).',
                 mappings=statusMappings,
                 steps=[[null, 'red'], [1, 'yellow'], [2, 'green']],
                 colorMode='background',
                 noValue='No data') {
          gridPos: { x: x, y: y, w: colW, h: cardH },
          // The card's menu leads to this service's probes.
          links: [lib.link('Probes of %s' % s.title, '/d/%sprobes?var-service=%s' % [dcfg.uidPrefix, s.name], targetBlank=false)],
        },
      ] + [
        local d = details(s)[j];
        lib.stat('%s: %s' % [s.title, d.title],
                 [lib.target(d.expr, d.title, instant=true)],
                 d.unit,
                 mappings=std.get(d, 'mappings', []),
                 steps=std.get(d, 'steps', [[null, 'green']]),
                 graphMode='none',
                 noValue='No data')
        { gridPos: { x: x, y: y + cardH + j * detailH, w: colW, h: detailH } }
        for j in std.range(0, std.length(details(s)) - 1)
      ],
    local grid = std.flattenArrays([serviceColumn(i, services[i]) for i in std.range(0, std.length(services) - 1)]),
    local gridH = blockH * std.ceil(std.length(services) / perLine),

    // Alerts feed: one row per alert that was pending or firing in the window, newest first.  The time is
    // the alert's activeAt (ALERTS_FOR_STATE's value); the summary comes from the mixin's own alert
    // definitions (summaries are static), added as a label so the table can show it.
    // (`ruleFiles` is bound once: every access of a mixin field re-evaluates it.)
    local ruleFiles = if dcfg.alertsFeedSummaries then std.get($, 'ruleFiles', {}) else {},
    local alertRules = [
      r
      for area in std.objectFields(ruleFiles)
      for g in ruleFiles[area].groups
      for r in g.rules
      if std.objectHas(r, 'alert')
    ],
    // First summary per alert name (an alert name may have one rule per service with the same summary).
    local summaries = std.foldl(
      function(acc, r)
        if std.objectHas(acc, r.alert) || !std.objectHas(std.get(r, 'annotations', {}), 'summary') then acc
        else acc { [r.alert]: r.annotations.summary },
      alertRules,
      {},
    ),
    // Alerts that fired in the range (pending-only ones are left out), as the time they became
    // active, with a `state` label: firing now, or resolved.  One row per alert (label set).
    local fired = |||
      max_over_time(ALERTS_FOR_STATE[%(range)s]) * 1000
        and ignoring (alertstate) max_over_time(ALERTS{alertstate="firing"}[%(range)s])
    ||| % { range: dcfg.alertsFeedRange },
    local feedBase = |||
      label_replace(%(fired)s and ignoring (alertstate) ALERTS{alertstate="firing"}, "state", "firing", "", "")
      or ignoring (state)
      label_replace(%(fired)s, "state", "resolved", "", "")
    ||| % { fired: std.rstripChars(fired, '\n') },
    local withSummaries = std.foldl(
      function(expr, name) 'label_replace(%s, "summary", "%s", "alertname", "%s")' % [expr, promString(summaries[name]), name],
      std.objectFields(summaries),
      feedBase,
    ),
    local runbookURL = (import '../lib/rules.libsonnet').runbookURL(cfg, '${__data.fields.alertname}'),
    local alertsFeed =
      lib.table(
        'Infrastructure alerts (last %s)' % dcfg.alertsFeedRange,
        [lib.tableTarget('sort_desc(%s)' % withSummaries)],
        unit='dateTimeAsIso',
        description='Alerts that fired in the last %s (firing now or resolved; pending-only alerts are left out); Since is when the alert became active. Click a row for its runbook.' % dcfg.alertsFeedRange,
        transformations=[lib.organize(
          { Time: null, __name__: null, Value: 'Since' },
          ['Value', 'state', 'severity', 'service', 'alertname', 'summary'],
        )],
        mappings=[lib.valueMap({
          critical: ['critical', 'red'],
          warning: ['warning', 'yellow'],
          info: ['info', 'blue'],
        })],
        steps=[[null, 'text']],
        overrides=[lib.byName('severity', { 'custom.cellOptions': { type: 'color-text' } })],
        links=[lib.link('Runbook for ${__data.fields.alertname}', runbookURL)],
        sortBy=[{ displayName: 'Since', desc: true }],
        noValue='No alerts',
      ) + lib.size(24, 10),

    local serviceRe = std.join('|', [s.name for s in services]),

    'infrawatch-overview.json': lib.dashboard(
      uid=dcfg.uidPrefix + 'overview',
      title='Infrastructure overview',
      description='Service health grid (traffic lights per service with detail metrics) and the infrastructure alerts feed.',
      tags=dcfg.tags + ['overview'],
      time=dcfg.defaultTimeRange,
      refresh=dcfg.refresh,
      links=lib.dashboardLinks,
      panels=lib.layout([
        lib.row('Service health'),
        { block: grid, h: gridH },
        lib.row('Infrastructure alerts feed'),
        [alertsFeed],
        lib.row('Service health over time'),
        [
          lib.stateTimeline('Service status',
                            [lib.target('min by (service) (infrawatch:service_status{service=~"%s"})' % serviceRe, '{{service}}')],
                            statusMappings,
                            steps=[[null, 'red'], [1, 'yellow'], [2, 'green']]) + lib.size(24, 8),
        ],
        [
          lib.timeseries('Request rate', [lib.target('sum by (service) (%s)' % rec.requestsRate, '{{service}}')], 'reqps') + lib.size(8, 8),
          lib.timeseries('Error ratio (5xx)',
                         [lib.target('max by (service) (%s)' % rec.errorsRatio, '{{service}}')],
                         'percentunit',
                         min=0) + lib.size(8, 8),
          lib.timeseries('Latency quantiles', [
            lib.target('max by (service, quantile) (service:http_request_duration_seconds:histogram_quantile)', '{{service}} p{{quantile}}'),
          ], 's', min=0) + lib.size(8, 8),
        ],
      ]),
    ),
  },
}
