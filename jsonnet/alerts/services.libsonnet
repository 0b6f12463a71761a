// Service probes: a probe failing, a service answering but degraded.
local r = import '../lib/rules.libsonnet';

{
  ruleFiles+:: r.ruleFile($._config, 'services', [
    r.group($._config, 'infrawatch-services', [
      {
        alert: 'ServiceProbeFailing',
        expr: r.withService('probe_success%s == 0' % r.sel([$._config.probeSelector])),
        'for': $._config.probeFailingFor,
        severity: 'critical',
        summary: 'A service probe is failing.',
        description: 'Probe of {{ $labels.target }} (module {{ $labels.module }}) for service {{ $labels.service }} has failed for more than %s.' % $._config.probeFailingFor,
      },
    ] + [
      local probe = r.sel([$._config.probeSelector, s.probeSelector]);
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
