// Per-service recording rules: HTTP rates, error ratios, latency, and the traffic light
// infrawatch:service_status (2 healthy, 1 degraded, 0 down).  They share one group because the
// traffic light reads the HTTP rules recorded just before it in the same evaluation.
local r = import '../lib/rules.libsonnet';

{
  local c = $._config,
  local rec = r.records(c),
  local services = [r.service(c, s) for s in c.services],
  // Recorded latency quantiles; the traffic light and APIHighLatency use _config.apiLatencyQuantile.
  local quantiles = std.set(['0.5', '0.95', '0.99', '%g' % c.apiLatencyQuantile]),

  local httpRules(s) =
    local app = r.sel([s.appSelector]);
    [
      {
        record: rec.requestsRate,
        expr: 'sum(rate(http_requests_total%s[%s]))' % [app, c.rateInterval],
        labels: { service: s.name },
      },
      {
        // `or ... * 0`: an application that never answered 5xx has no 5xx series at all; the zero
        // keeps the labels of the denominator (vector(0) has none to match on with showMultiCluster).
        record: rec.errorsRatio,
        expr: |||
          (sum(rate(http_requests_total%(errors)s[%(rate)s])) or sum(rate(http_requests_total%(all)s[%(rate)s])) * 0)
          /
          sum(rate(http_requests_total%(all)s[%(rate)s]))
        ||| % { errors: r.sel([s.appSelector, c.httpErrorSelector]), all: app, rate: c.rateInterval },
        labels: { service: s.name },
      },
    ] + [
      {
        record: 'service:http_request_duration_seconds:histogram_quantile',
        expr: 'histogram_quantile(%s, sum by (le) (rate(http_request_duration_seconds_bucket%s[%s])))' % [q, app, c.rateInterval],
        labels: { service: s.name, quantile: q },
      }
      for q in quantiles
    ] + [
      {
        record: rec.durationMean,
        expr: |||
          sum(rate(http_request_duration_seconds_sum%(all)s[%(rate)s]))
          /
          sum(rate(http_request_duration_seconds_count%(all)s[%(rate)s]))
        ||| % { all: app, rate: c.rateInterval },
        labels: { service: s.name },
      },
    ],

  // One 2/1/0 value per signal of a service; the traffic light is their minimum.
  // For 0/1 signals with several instances: all up 2, some down 1 (degraded), all down 0.
  local upDown(series) = 'max(%(s)s) + min(%(s)s)' % { s: series },
  local component(s, name, expr) = {
    record: 'infrawatch:service_status:component',
    expr: expr,
    labels: { service: s.name, component: name },
  },

  local components(s) =
    local probe = r.probeSel(c, s);
    local exp = if std.objectHas(s, 'exporterSelector') then r.sel([s.exporterSelector]) else '';
    (if std.objectHas(s, 'probeSelector') then [
       // all probes up: 2, some failing: 1, all failing: 0
       component(s, 'probe', upDown('probe_success' + probe)),
       // health documents: pass 1 / warn 0.5 / fail 0 -> 2 / 1 / 0
       component(s, 'health', '2 * min(probe_health_status%s)' % probe),
       component(s, 'probe_latency', '2 - (max(probe_duration_seconds%s) > bool %g)' % [probe, s.latencyThresholdSeconds]),
     ] else [])
    + (if s.kind == 'http' && std.objectHas(s, 'appSelector') then [
         component(s, 'errors', |||
           2
           - (max(%(ratio)s{service="%(name)s"}) > bool %(degraded)g)
           - (max(%(ratio)s{service="%(name)s"}) > bool %(down)g)
         ||| % { ratio: rec.errorsRatio, name: s.name, degraded: s.errorRatioDegraded, down: s.errorRatioDown }),
         component(s, 'latency', |||
           2 - (max(service:http_request_duration_seconds:histogram_quantile{service="%(name)s", quantile="%(q)g"}) > bool %(t)g)
         ||| % { name: s.name, q: c.apiLatencyQuantile, t: s.latencyThresholdSeconds }),
       ] else [])
    + (if s.kind == 'http' && std.objectHas(s, 'upSelector') then [
         component(s, 'up', upDown('up' + r.sel([s.upSelector]))),
       ] else [])
    + (if s.kind == 'postgres' && exp != '' then [component(s, 'exporter', upDown('pg_up' + exp))] else [])
    + (if s.kind == 'redis' && exp != '' then [component(s, 'exporter', upDown('redis_up' + exp))] else [])
    + (if s.kind == 'smtp' && exp != '' then [
         component(s, 'queue', '2 - (sum(%s%s) > bool %g)' % [c.smtpQueueMetric, exp, c.smtpQueueThreshold]),
       ] else []),

  ruleFiles+:: r.ruleFile(c, 'recording', [
    r.group(c,
            'infrawatch-services.rules',
            std.flattenArrays([httpRules(s) for s in services if s.kind == 'http' && std.objectHas(s, 'appSelector')])
            + std.flattenArrays([components(s) for s in services])
            + [{
              record: 'infrawatch:service_status',
              expr: 'min by (service) (infrawatch:service_status:component)',
            }]),
  ] + (import 'reputation.libsonnet').groups(c), perTenant=true),
}
