// Hosts (node_exporter): CPU, memory, disk.
local r = import '../lib/rules.libsonnet';

{
  local node = $._config.nodeSelector,
  local fs = r.sel([node, $._config.diskFstypeSelector]),
  // The warning tier, and the critical one when its threshold is set (not 0).
  local tiers(warning, critical) =
    [{ threshold: warning, severity: 'warning' }]
    + (if critical > 0 then [{ threshold: critical, severity: 'critical' }] else []),

  ruleFiles+:: r.ruleFile($._config, 'node', [
    r.group($._config, 'infrawatch-node', [
      {
        alert: 'HighCPUUsage',
        expr: |||
          1 - avg by (instance) (rate(node_cpu_seconds_total%(cpu)s[%(rate)s]))
          > %(threshold)g
        ||| % { cpu: r.sel([node, 'mode="idle"']), threshold: t.threshold, rate: $._config.rateInterval },
        'for': $._config.cpuUsageFor,
        severity: t.severity,
        service: $._config.nodeService,
        summary: if t.severity == 'critical' then 'CPU is nearly exhausted.' else 'CPU usage is high.',
        description: '{{ $labels.instance }} has used {{ $value | humanizePercentage }} of its CPU for more than %s (threshold %g%%).' % [$._config.cpuUsageFor, t.threshold * 100],
      }
      for t in tiers($._config.cpuUsageThreshold, $._config.cpuUsageCriticalThreshold)
    ] + [
      {
        alert: 'HighMemoryUsage',
        expr: |||
          1 - node_memory_MemAvailable_bytes%(node)s / node_memory_MemTotal_bytes%(node)s
          > %(threshold)g
        ||| % { node: r.sel([node]), threshold: t.threshold },
        'for': $._config.memoryUsageFor,
        severity: t.severity,
        service: $._config.nodeService,
        summary: if t.severity == 'critical' then 'Memory is nearly exhausted.' else 'Memory usage is high.',
        description: '{{ $labels.instance }} has used {{ $value | humanizePercentage }} of its memory for more than %s (threshold %g%%).' % [$._config.memoryUsageFor, t.threshold * 100],
      }
      for t in tiers($._config.memoryUsageThreshold, $._config.memoryUsageCriticalThreshold)
    ] + [
      {
        alert: 'LowDiskSpace',
        expr: |||
          node_filesystem_avail_bytes%(fs)s / node_filesystem_size_bytes%(fs)s < %(threshold)g
          and
          node_filesystem_readonly%(fs)s == 0
        ||| % { fs: fs, threshold: t.threshold },
        'for': $._config.diskFreeFor,
        severity: t.severity,
        service: $._config.nodeService,
        summary: if t.severity == 'critical' then 'A file system is nearly full.' else 'A file system is running out of space.',
        description: '{{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} has only {{ $value | humanizePercentage }} space left (threshold %g%%).' % (t.threshold * 100),
      }
      for t in tiers($._config.diskFreeThreshold, $._config.diskFreeCriticalThreshold)
    ] + [
      {
        // Capacity (seed 004): the free space trend of the last diskFillWindow reaches zero within
        // diskFillHours, on a file system already below diskFillFreeThreshold (node-mixin's shape).
        alert: 'DiskFillingUp',
        expr: |||
          predict_linear(node_filesystem_avail_bytes%(fs)s[%(window)s], %(horizon)d) < 0
          and
          node_filesystem_avail_bytes%(fs)s / node_filesystem_size_bytes%(fs)s < %(free)g
          and
          node_filesystem_readonly%(fs)s == 0
        ||| % { fs: fs, window: $._config.diskFillWindow, horizon: $._config.diskFillHours * 3600, free: $._config.diskFillFreeThreshold },
        'for': $._config.diskFillFor,
        severity: 'warning',
        service: $._config.nodeService,
        summary: 'A file system will be full soon.',
        description: '{{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} has less than %g%% free and, at the rate of the last %s, fills up within %d hours.' % [$._config.diskFillFreeThreshold * 100, $._config.diskFillWindow, $._config.diskFillHours],
      },
    ]),
  ]),
}
