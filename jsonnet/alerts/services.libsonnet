// Service probes: a probe failing, a service answering but degraded.
local r = import '../lib/rules.libsonnet';

{
  local counted = r.countedProbeServices($._config),
  local failures = $._config.probeFailingAfterFailures,
  local probeSel(s) = r.probeSel($._config, s),

  ruleFiles+:: r.ruleFile($._config, 'services', [
    r.group($._config, 'infrawatch-services', [
      {
        alert: 'ServiceProbeFailing',
        // The probes of services counted below are left to their own rule when the exporter schedules
        // them (probe_result_timestamp_seconds); Prometheus-driven /probe scrapes stay here.
        expr: r.withService('probe_success%s == 0%s' % [
          r.sel([$._config.probeSelector]),
          if counted == [] then ''
          else ' unless (%s)' % std.join(' or ', ['probe_result_timestamp_seconds' + probeSel(s) for s in counted]),
        ]),
        'for': $._config.probeFailingFor,
        severity: 'critical',
        summary: 'A service probe is failing.',
        description: 'Probe of {{ $labels.target }} (module {{ $labels.module }}) for service {{ $labels.service }} has failed for more than %s.' % $._config.probeFailingFor,
      },
    ] + [
      // Seed 004's "alert after 2 failures": the last `failures` scheduled probes failed.  Each result
      // carries its time (probe_result_timestamp_seconds), so probes are counted, not scrapes: the
      // current failed result is at least (failures - 1/2) probe intervals after the last successful
      // one, or no probe succeeded in (failures + 1) intervals and at least `failures` results arrived.
      local interval = r.probeIntervalSeconds(s);
      {
        alert: 'ServiceProbeFailing',
        expr: |||
          (
            probe_result_timestamp_seconds%(p)s
              - max_over_time((probe_result_timestamp_seconds%(p)s and probe_success%(p)s == 1)[%(lookback)ds:%(step)s])
              >= %(span)g
            or
            max_over_time(probe_success%(p)s[%(lookback)ds]) == 0
              and changes(probe_result_timestamp_seconds%(p)s[%(lookback)ds]) >= %(changes)d
          )
          and
          probe_success%(p)s == 0
        ||| % {
          p: probeSel(s),
          lookback: (failures + 1) * interval,
          step: $._config.scrapeInterval,
          span: (failures - 0.5) * interval,
          changes: failures - 1,
        },
        severity: 'critical',
        service: s.name,
        summary: 'A service probe is failing.',
        description: 'Probe of {{ $labels.target }} (module {{ $labels.module }}) for service %s has failed %d times in a row (one probe every %s).' % [s.name, failures, s.probeInterval],
      }
      for s in counted
    ] + [
      local probe = probeSel(s);
      {
        alert: 'ServiceDegraded',
        expr: |||
          (
            min by (target, module) (probe_health_status%(probe)s) < 1 > 0
            or
            max by (target, module) (probe_duration_seconds%(probe)s) > %(threshold)g
          )
          unless on (target, module)
            (probe_success%(probe)s == 0)
        ||| % { probe: probe, threshold: s.latencyThresholdSeconds },
        'for': $._config.serviceDegradedFor,
        severity: 'warning',
        service: s.name,
        summary: 'A service is degraded.',
        description: '%s (%s): {{ $labels.target }} reports a degraded health check or takes longer than %gs to answer.' % [s.title, s.name, s.latencyThresholdSeconds],
      }
      for s in [r.service($._config, x) for x in $._config.services]
      if std.objectHas(s, 'probeSelector')
    ]),
  ]),
}
