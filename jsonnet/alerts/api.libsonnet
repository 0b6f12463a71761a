// Application (HTTP API) alerts from the standard http_requests_total / http_request_duration_seconds.
local duration = import '../lib/duration.libsonnet';
local r = import '../lib/rules.libsonnet';

{
  ruleFiles+:: r.ruleFile($._config, 'api', [
    r.group($._config, 'infrawatch-api', std.flattenArrays([
      local app = r.sel([s.appSelector]);
      local appErrors = r.sel([s.appSelector, $._config.httpErrorSelector]);
      local up = r.sel([std.get(s, 'upSelector', '')]);
      [
        {
          alert: 'HighErrorRate',
          expr: |||
            sum(rate(http_requests_total%(errors)s[%(rate)s]))
            /
            sum(rate(http_requests_total%(all)s[%(rate)s]))
            > %(threshold)g
            and on ()
            sum(rate(http_requests_total%(all)s[%(rate)s])) >= %(minRps)g
          ||| % { errors: appErrors, all: app, threshold: $._config.highErrorRateThreshold, minRps: $._config.highErrorRateMinRequestsPerSecond, rate: $._config.rateInterval },
          'for': $._config.highErrorRateFor,
          severity: 'critical',
          service: s.name,
          summary: 'Many requests fail with server errors.',
          description: '%s (%s): {{ $value | humanizePercentage }} of requests answered 5xx over the last %s (threshold %g%%).' % [s.title, s.name, $._config.rateInterval, $._config.highErrorRateThreshold * 100],
        },
      ] + (if $._config.highErrorsPerSecondThreshold <= 0 then [] else [
             // Seed 003's P1 "error rate > 1 error/s": errors counted, not a share, so a busy service
             // failing a small share of many requests still pages.  HighErrorRate mutes it for the same
             // service (alertmanager.highErrorRateMutes), and it waits one rateInterval longer: when
             // errors start, the count over the window crosses its threshold first, the share (of the
             // same window) within one window after it -- so when both will fire, HighErrorRate fires
             // first and the outage pages once.
             {
               alert: 'HighErrorsPerSecond',
               expr: |||
                 sum(rate(http_requests_total%(errors)s[%(rate)s])) > %(threshold)g
               ||| % { errors: appErrors, threshold: $._config.highErrorsPerSecondThreshold, rate: $._config.rateInterval },
               'for': duration.format(
                 duration.seconds($._config.highErrorRateFor, '_config.highErrorRateFor')
                 + duration.seconds($._config.rateInterval, '_config.rateInterval')
               ),
               severity: 'critical',
               service: s.name,
               summary: 'Many requests fail with server errors every second.',
               description: '%s (%s): {{ $value | humanize }} requests per second answered 5xx over the last %s (threshold %g/s).' % [s.title, s.name, $._config.rateInterval, $._config.highErrorsPerSecondThreshold],
             },
           ]) + [
        // Latency tiers (seeds 001/004): a warning (chat) above apiLatencyThresholdSeconds and a
        // critical page above apiLatencyCriticalSeconds (0 = no critical tier); the critical one
        // mutes the warning of the same service (inhibition).
        {
          alert: 'APIHighLatency',
          expr: |||
            histogram_quantile(%(q)g, sum by (le) (rate(http_request_duration_seconds_bucket%(all)s[%(rate)s])))
            > %(threshold)g
          ||| % { q: $._config.apiLatencyQuantile, all: app, threshold: tier.threshold, rate: $._config.rateInterval },
          'for': tier['for'],
          severity: tier.severity,
          service: s.name,
          summary: 'API responses are slow.',
          description: '%s (%s): p%g latency is {{ $value | humanizeDuration }} (threshold %gs).' % [s.title, s.name, $._config.apiLatencyQuantile * 100, tier.threshold],
        }
        for tier in [
          { threshold: $._config.apiLatencyThresholdSeconds, 'for': $._config.apiLatencyFor, severity: 'warning' },
        ] + (if $._config.apiLatencyCriticalSeconds > 0 then [
               { threshold: $._config.apiLatencyCriticalSeconds, 'for': $._config.apiLatencyCriticalFor, severity: 'critical' },
             ] else [])
      ] + [
      ] + (if !std.objectHas(s, 'upSelector') then [] else [
             // upSelector is optional: without it there is no `up` series to watch.
             {
               alert: 'APIDown',
               expr: 'up%s == 0' % up,
               'for': $._config.downFor,
               severity: 'critical',
               service: s.name,
               summary: 'An API server is down.',
               description: '%s (%s): Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}).' % [s.title, s.name],
             },
             {
               alert: 'DeploymentDetected',
               expr: 'changes(process_start_time_seconds%s[5m]) > 0' % up,
               severity: 'info',
               service: s.name,
               summary: 'A new deployment was detected.',
               description: '%s (%s): {{ $labels.instance }} restarted in the last 5 minutes (new deployment or crash loop).' % [s.title, s.name],
             },
           ])
      for s in r.servicesOfKind($._config, 'http')
      if std.objectHas(s, 'appSelector')
    ])),
  ]),
}
