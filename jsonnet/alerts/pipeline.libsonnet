// The monitoring pipeline itself: exporters up, config reloads, and the always-firing Watchdog.
local r = import '../lib/rules.libsonnet';

{
  local sel = r.sel([$._config.infrawatchSelector]),

  ruleFiles+:: r.ruleFile($._config, 'pipeline', [
    r.group($._config, 'infrawatch-pipeline', [
      {
        alert: 'InfrawatchExporterDown',
        expr: 'up%s == 0' % sel,
        'for': $._config.exporterDownFor,
        severity: $._config.exporterDownSeverity,
        service: $._config.pipelineService,
        summary: 'An infrawatch exporter cannot be scraped.',
        description: 'Prometheus has not scraped {{ $labels.instance }} (job {{ $labels.job }}) for %s: the probes or reputation checks it runs are not seen, so their alerts cannot fire.' % $._config.exporterDownFor,
      },
      {
        alert: 'InfrawatchConfigReloadFailed',
        expr: 'infrawatch_config_last_reload_successful%s == 0' % sel,
        'for': $._config.alertFor.InfrawatchConfigReloadFailed,
        severity: 'warning',
        service: $._config.pipelineService,
        summary: 'An infrawatch exporter failed to reload its configuration.',
        description: '{{ $labels.instance }} (job {{ $labels.job }}) rejected its new configuration and keeps running the previous one.',
      },
      {
        alert: 'InfrawatchSchedulerLagging',
        expr: 'infrawatch_scheduler_lag_seconds%s > %g' % [sel, $._config.schedulerLagThresholdSeconds],
        'for': $._config.schedulerLagFor,
        severity: 'warning',
        service: $._config.pipelineService,
        summary: 'An infrawatch exporter starts its scheduled checks late.',
        description: '{{ $labels.instance }} (job {{ $labels.job }}) started its most delayed scheduled probe or list check {{ $value | humanizeDuration }} late (threshold %gs) for %s: it is overloaded, so its results are older than their interval and alerts on them come late.' % [$._config.schedulerLagThresholdSeconds, $._config.schedulerLagFor],
      },
      {
        alert: 'Watchdog',
        expr: 'vector(1)',
        severity: 'info',
        service: $._config.pipelineService,
        summary: 'The alerting pipeline is alive.',
        description: "This alert always fires. Alertmanager sends it to a dead man's switch; when the heartbeat stops, Prometheus or Alertmanager is broken.",
      },
    ]),
  ]),
}
