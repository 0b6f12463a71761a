// API requests: the application's own HTTP metrics per endpoint (seed 002's request patterns and error
// rates, seed 004's API dashboard): request rate by method and status code, 4xx and 5xx ratios, the
// busiest endpoints with their error ratio and latency, latency and request size per endpoint.  One
// section per http service with an appSelector (declared once in _config.services); the `endpoint`
// variable narrows every panel.  The 5xx matcher and the latency quantile and thresholds are the
// API alerts' (httpErrorSelector, apiLatencyQuantile, apiLatencyThresholdSeconds / CriticalSeconds).
local lib = import '../lib/dashboards.libsonnet';
local httpApps(cfg) = [s for s in cfg.services if s.kind == 'http' && std.objectHas(s, 'appSelector')];
local r = import '../lib/rules.libsonnet';

{
  grafanaDashboards+:: {
    local cfg = $._config,
    local dcfg = cfg.dashboards,
    local api = dcfg.api,
    local services = httpApps(cfg),
    local ep = api.endpointLabel,
    local method = api.methodLabel,
    local code = api.codeLabel,
    local q = cfg.apiLatencyQuantile,
    local qText = 'p%g' % (q * 100),
    local latencySteps =
      [[null, 'green'], [cfg.apiLatencyThresholdSeconds, 'yellow']]
      + (if cfg.apiLatencyCriticalSeconds > 0 then [[cfg.apiLatencyCriticalSeconds, 'red']] else []),

    // A section of panels for one service.
    local section(s) =
      local sel = r.sel([s.appSelector, '%s=~"$endpoint"' % ep]);
      local selWith(m) = r.sel([s.appSelector, '%s=~"$endpoint"' % ep, m]);
      local rate = lib.sumRate;
      local total(by='') = rate('http_requests_total', sel, by);
      // Ratio of the requests matching `m`, 0 (not "no data") while there are none.
      local ratio(m, by='') =
        '(%s or %s * 0) / %s' % [rate('http_requests_total', selWith(m), by), total(by), total(by)];
      local server = cfg.httpErrorSelector;
      local client = '%s=~"4.."' % code;
      local latency(by) =
        'histogram_quantile(%g, %s)' % [q, rate('http_request_duration_seconds_bucket', sel, std.join(', ', by + ['le']))];
      local endpointKeys = [method, ep];
      [
        lib.row('%s: traffic' % s.title),
        [
          lib.stat('Request rate', [lib.target(total(), instant=true)], 'reqps', decimals=1) + lib.size(4, 4),
          lib.stat('Client errors (4xx)',
                   [lib.target(ratio(client), instant=true)],
                   'percentunit',
                   description='Share of requests answered 4xx (%s=~"4..").' % code,
                   decimals=2,
                   steps=[[null, 'green'], [0.05, 'yellow'], [0.25, 'red']]) + lib.size(4, 4),
          lib.stat('Server errors (5xx)',
                   [lib.target(ratio(server), instant=true)],
                   'percentunit',
                   description='Share of requests matching %s (HighErrorRate above %g%%).' % [server, cfg.highErrorRateThreshold * 100],
                   decimals=2,
                   steps=[[null, 'green'], [cfg.highErrorRateThreshold, 'red']]) + lib.size(4, 4),
          lib.stat('Latency %s' % qText,
                   [lib.target(latency([]), instant=true)],
                   's',
                   description='APIHighLatency above %gs for %s.' % [cfg.apiLatencyThresholdSeconds, cfg.apiLatencyFor],
                   steps=latencySteps) + lib.size(4, 4),
          lib.stat('Requests in flight',
                   [lib.target('sum(http_requests_in_flight%s)' % r.sel([s.appSelector]), instant=true)],
                   'none') + lib.size(4, 4),
          lib.stat('Endpoints',
                   [lib.target('count(%s)' % total(std.join(', ', endpointKeys)), instant=true)],
                   'none',
                   description='Method and %s pairs that served requests.' % ep) + lib.size(4, 4),
        ],
        [
          lib.timeseries('Requests by method',
                         [lib.target(total(method), '{{%s}}' % method)],
                         'reqps',
                         min=0,
                         stack=true) + lib.size(8, 8),
          lib.timeseries('Responses by status code',
                         [lib.target(total(code), '{{%s}}' % code)],
                         'reqps',
                         description="Status-code trend: each code's request rate, stacked.",
                         min=0,
                         stack=true) + lib.size(8, 8),
          lib.timeseries('Error ratios', [
            lib.target(ratio(client), '4xx'),
            lib.target(ratio(server), '5xx', 'B'),
          ], 'percentunit', min=0, steps=[[null, 'green'], [cfg.highErrorRateThreshold, 'red']]) + lib.size(8, 8),
        ],
        lib.row('%s: endpoints' % s.title),
        [
          local keys = std.join(', ', endpointKeys);
          local top = 'topk(%d, %s)' % [api.topEndpoints, total(keys)];
          lib.table(
            'Busiest endpoints',
            [
              lib.tableTarget(top, 'RATE'),
              lib.tableTarget('(%s) and on (%s) %s' % [ratio(server, keys), keys, top], 'ERRORS'),
              lib.tableTarget('(%s) and on (%s) %s' % [latency(endpointKeys), keys, top], 'LATENCY'),
            ],
            description='The %d endpoints with the most requests, with their 5xx ratio and %s latency.' % [api.topEndpoints, qText],
            transformations=[
              lib.merge,
              lib.organize(
                {
                  Time: null,
                  [method]: 'Method',
                  [ep]: 'Endpoint',
                  'Value #RATE': 'Requests/s',
                  'Value #ERRORS': '5xx ratio',
                  'Value #LATENCY': 'Latency %s (s)' % qText,
                },
                [method, ep, 'Value #RATE', 'Value #ERRORS', 'Value #LATENCY'],
              ),
            ],
            sortBy=[{ displayName: 'Requests/s', desc: true }],
            // One unit per table (the schema allows no per-column unit): plain numbers, named in the headers.
            unit='none',
            decimals=3,
          ) + lib.size(24, 8),
        ],
        [
          lib.timeseries('5xx ratio by endpoint',
                         [lib.target(ratio(server, ep), '{{%s}}' % ep)],
                         'percentunit',
                         min=0,
                         steps=[[null, 'green'], [cfg.highErrorRateThreshold, 'red']]) + lib.size(8, 8),
          lib.timeseries('Latency %s by endpoint' % qText,
                         [lib.target(latency([ep]), '{{%s}}' % ep)],
                         's',
                         min=0,
                         steps=latencySteps) + lib.size(8, 8),
          lib.timeseries('Request rate by endpoint',
                         [lib.target(total(ep), '{{%s}}' % ep)],
                         'reqps',
                         min=0) + lib.size(8, 8),
        ]
        + (if api.requestSizeMetric == '' then [] else [
             lib.timeseries('Request size p95 by endpoint',
                            [lib.target('histogram_quantile(0.95, %s)' % rate(api.requestSizeMetric + '_bucket', sel, '%s, le' % ep), '{{%s}}' % ep)],
                            'bytes',
                            description='95th percentile of request body sizes (%s).' % api.requestSizeMetric,
                            min=0) + lib.size(12, 8),
             lib.timeseries('Request bytes by endpoint',
                            [lib.target(rate(api.requestSizeMetric + '_sum', sel, ep), '{{%s}}' % ep)],
                            'Bps',
                            min=0) + lib.size(12, 8),
           ]),
      ],

    [if httpApps($._config) != [] then 'infrawatch-api.json']: lib.dashboard(
      uid=dcfg.uidPrefix + 'api',
      title='API requests',
      description="The application's HTTP metrics per endpoint: request rate by method and status code, 4xx and 5xx ratios, busiest endpoints, latency and request size.",
      tags=dcfg.tags + ['api'],
      time=dcfg.defaultTimeRange,
      refresh=dcfg.refresh,
      links=lib.dashboardLinks,
      variables=[
        lib.queryVariable('endpoint', 'Endpoint', 'label_values(http_requests_total%s, %s)' % [r.sel(if std.length(services) == 1 then [services[0].appSelector] else []), ep]),
      ],
      panels=lib.layout(std.flattenArrays([section(s) for s in services])),
    ),
  },
}
