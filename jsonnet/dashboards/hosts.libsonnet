// Hosts: infrastructure metrics from node_exporter (seeds 001/004): CPU, load, memory, disk space and
// its fill prediction, disk I/O and network.  The expressions and threshold lines are those of the
// node alerts (alerts/node.libsonnet: HighCPUUsage, HighMemoryUsage, LowDiskSpace, DiskFillingUp),
// from the same _config knobs, so a panel crossing its line is the alert's condition.
local lib = import '../lib/dashboards.libsonnet';
local r = import '../lib/rules.libsonnet';

// Draw the thresholds as lines on a time series.
local thresholdLines = { fieldConfig+: { defaults+: { custom+: { thresholdsStyle: { mode: 'line' } } } } };

{
  grafanaDashboards+:: {
    local cfg = $._config,
    local dcfg = cfg.dashboards,
    local n = r.sel([cfg.nodeSelector, 'instance=~"$instance"']),
    local fs = r.sel([cfg.nodeSelector, 'instance=~"$instance"', cfg.diskFstypeSelector]),
    local idle = r.sel([cfg.nodeSelector, 'instance=~"$instance"', 'mode="idle"']),
    local nonIdle = r.sel([cfg.nodeSelector, 'instance=~"$instance"', 'mode!="idle"']),
    local net = r.sel([cfg.nodeSelector, 'instance=~"$instance"', 'device!="lo"']),
    local cpus = 'count by (instance) (rate(node_cpu_seconds_total%s[$__rate_interval]))' % idle,
    local cpuUsed = '1 - avg by (instance) (rate(node_cpu_seconds_total%s[$__rate_interval]))' % idle,
    local memUsed = '1 - node_memory_MemAvailable_bytes%s / node_memory_MemTotal_bytes%s' % [n, n],
    local diskFree = 'node_filesystem_avail_bytes%s / node_filesystem_size_bytes%s' % [fs, fs],
    local fillHorizon = cfg.diskFillHours * 3600,
    local predicted = 'predict_linear(node_filesystem_avail_bytes%s[%s], %d)' % [fs, cfg.diskFillWindow, fillHorizon],
    // The warning tier in yellow, the critical tier (when set) in red.
    local usedSteps(t, crit) = [[null, 'green'], [t, if crit > 0 then 'yellow' else 'red']] + (if crit > 0 then [[crit, 'red']] else []),
    local freeSteps =
      (if cfg.diskFreeCriticalThreshold > 0 then [[null, 'red'], [cfg.diskFreeCriticalThreshold, 'yellow']] else [[null, 'red']])
      + [[cfg.diskFreeThreshold, 'green']],

    local diskTable =
      lib.table(
        'File systems',
        [
          lib.tableTarget('max by (instance, mountpoint, device, fstype) (node_filesystem_size_bytes%s)' % fs, 'SIZE'),
          lib.tableTarget('max by (instance, mountpoint, device, fstype) (node_filesystem_avail_bytes%s)' % fs, 'AVAIL'),
          lib.tableTarget('max by (instance, mountpoint, device, fstype) (%s)' % predicted, 'PREDICTED'),
        ],
        unit='bytes',
        description='Size and available space of each file system (the free share is in "Free disk space" below), and the available space predicted %d hours ahead from the trend of the last %s (DiskFillingUp when it is below zero on a file system under %g%% free).' % [cfg.diskFillHours, cfg.diskFillWindow, cfg.diskFillFreeThreshold * 100],
        transformations=[
          lib.merge,
          lib.organize(
            {
              Time: null,
              instance: 'Instance',
              mountpoint: 'Mount point',
              device: 'Device',
              fstype: 'Type',
              'Value #SIZE': 'Size',
              'Value #AVAIL': 'Available',
              'Value #PREDICTED': 'Available in %dh' % cfg.diskFillHours,
            },
            ['instance', 'mountpoint', 'device', 'fstype', 'Value #SIZE', 'Value #AVAIL', 'Value #PREDICTED'],
          ),
        ],
        sortBy=[{ displayName: 'Available', desc: false }],
        overrides=[
          lib.byName('Available in %dh' % cfg.diskFillHours, {
            thresholds: lib.thresholds([[null, 'red'], [0, 'green']]),
            'custom.cellOptions': { type: 'color-text' },
          }),
        ],
      ) + lib.size(24, 7),

    'infrawatch-hosts.json': lib.dashboard(
      uid=dcfg.uidPrefix + 'hosts',
      title='Hosts',
      description='Infrastructure metrics from node_exporter: CPU, load, memory, disk space and its fill prediction, disk I/O and network, with the thresholds of the node alerts.',
      tags=dcfg.tags + ['hosts'],
      time=dcfg.defaultTimeRange,
      refresh=dcfg.refresh,
      links=lib.dashboardLinks,
      variables=[
        lib.queryVariable('instance', 'Host', 'label_values(node_uname_info%s, instance)' % r.sel([cfg.nodeSelector])),
      ],
      panels=lib.layout([
        lib.row('Overview'),
        [
          lib.stat('Hosts up',
                   [lib.target('sum(up%s) / count(up%s)' % [n, n], instant=true)],
                   'percentunit',
                   steps=[[null, 'red'], [1, 'green']],
                   colorMode='background') + lib.size(4, 4),
          lib.stat('Highest CPU usage',
                   [lib.target('max(%s)' % cpuUsed, instant=true)],
                   'percentunit',
                   description='HighCPUUsage above %g%% for %s.' % [cfg.cpuUsageThreshold * 100, cfg.cpuUsageFor],
                   steps=usedSteps(cfg.cpuUsageThreshold, cfg.cpuUsageCriticalThreshold)) + lib.size(4, 4),
          lib.stat('Highest memory usage',
                   [lib.target('max(%s)' % memUsed, instant=true)],
                   'percentunit',
                   description='HighMemoryUsage above %g%% for %s.' % [cfg.memoryUsageThreshold * 100, cfg.memoryUsageFor],
                   steps=usedSteps(cfg.memoryUsageThreshold, cfg.memoryUsageCriticalThreshold)) + lib.size(4, 4),
          lib.stat('Lowest free disk space',
                   [lib.target('min(%s)' % diskFree, instant=true)],
                   'percentunit',
                   description='LowDiskSpace below %g%% free for %s.' % [cfg.diskFreeThreshold * 100, cfg.diskFreeFor],
                   steps=freeSteps) + lib.size(4, 4),
          lib.stat('File systems filling up',
                   [lib.target('count((%s < 0) and (%s < %g)) or vector(0)' % [predicted, diskFree, cfg.diskFillFreeThreshold], instant=true)],
                   'none',
                   description='File systems under %g%% free whose trend of the last %s reaches zero within %d hours (the DiskFillingUp condition).' % [cfg.diskFillFreeThreshold * 100, cfg.diskFillWindow, cfg.diskFillHours],
                   steps=[[null, 'green'], [1, 'red']],
                   colorMode='background') + lib.size(4, 4),
          lib.stat('Highest load per CPU',
                   [lib.target('max(node_load5%s / on (instance) %s)' % [n, cpus], instant=true)],
                   'none',
                   description='5-minute load average divided by the number of CPUs: above 1, work waits for a CPU.',
                   decimals=2,
                   steps=[[null, 'green'], [1, 'yellow'], [2, 'red']]) + lib.size(4, 4),
        ],
        lib.row('CPU and load'),
        [
          lib.timeseries('CPU usage',
                         [lib.target(cpuUsed, '{{instance}}')],
                         'percentunit',
                         description='Share of CPU time not idle (HighCPUUsage: above the line for %s).' % cfg.cpuUsageFor,
                         min=0,
                         max=1,
                         steps=usedSteps(cfg.cpuUsageThreshold, cfg.cpuUsageCriticalThreshold)) + thresholdLines + lib.size(8, 8),
          lib.timeseries('CPU by mode',
                         [lib.target('sum by (mode) (rate(node_cpu_seconds_total%s[$__rate_interval])) / scalar(sum(%s))' % [nonIdle, cpus], '{{mode}}')],
                         'percentunit',
                         description='Busy CPU time by mode (user, system, iowait...), as a share of all CPUs of the selected hosts.',
                         min=0,
                         stack=true) + lib.size(8, 8),
          lib.timeseries('Load average', [
            lib.target('node_load1%s' % n, '{{instance}} 1m'),
            lib.target('node_load5%s' % n, '{{instance}} 5m', 'B'),
            lib.target('node_load15%s' % n, '{{instance}} 15m', 'C'),
          ], 'none', min=0) + lib.size(8, 8),
        ],
        lib.row('Memory'),
        [
          lib.timeseries('Memory usage',
                         [lib.target(memUsed, '{{instance}}')],
                         'percentunit',
                         description='1 - MemAvailable / MemTotal (HighMemoryUsage: above the line for %s).' % cfg.memoryUsageFor,
                         min=0,
                         max=1,
                         steps=usedSteps(cfg.memoryUsageThreshold, cfg.memoryUsageCriticalThreshold)) + thresholdLines + lib.size(12, 8),
          lib.timeseries('Memory', [
            lib.target('node_memory_MemTotal_bytes%s - node_memory_MemAvailable_bytes%s' % [n, n], '{{instance}} used'),
            lib.target('node_memory_Cached_bytes%s + node_memory_Buffers_bytes%s' % [n, n], '{{instance}} cache and buffers', 'B'),
            lib.target('node_memory_MemAvailable_bytes%s' % n, '{{instance}} available', 'C'),
          ], 'bytes', min=0) + lib.size(12, 8),
        ],
        lib.row('Disk space'),
        [diskTable],
        [
          lib.timeseries('Free disk space',
                         [lib.target(diskFree, '{{instance}} {{mountpoint}}')],
                         'percentunit',
                         description='Free share of each file system (LowDiskSpace: below the line for %s).' % cfg.diskFreeFor,
                         min=0,
                         max=1,
                         steps=freeSteps) + thresholdLines + lib.size(12, 8),
          lib.timeseries('Available space predicted in %dh' % cfg.diskFillHours,
                         [lib.target(predicted, '{{instance}} {{mountpoint}}')],
                         'bytes',
                         description='Available space %d hours ahead, extrapolated from the last %s (DiskFillingUp: below zero on a file system under %g%% free, for %s).' % [cfg.diskFillHours, cfg.diskFillWindow, cfg.diskFillFreeThreshold * 100, cfg.diskFillFor],
                         steps=[[null, 'red'], [0, 'green']]) + thresholdLines + lib.size(12, 8),
        ],
        lib.row('Disk I/O'),
        [
          lib.timeseries('Disk throughput', [
            lib.target('sum by (instance, device) (rate(node_disk_read_bytes_total%s[$__rate_interval]))' % n, '{{instance}} {{device}} read'),
            lib.target('sum by (instance, device) (rate(node_disk_written_bytes_total%s[$__rate_interval]))' % n, '{{instance}} {{device}} written', 'B'),
          ], 'Bps', min=0) + lib.size(12, 8),
          lib.timeseries('Disk utilisation',
                         [lib.target('sum by (instance, device) (rate(node_disk_io_time_seconds_total%s[$__rate_interval]))' % n, '{{instance}} {{device}}')],
                         'percentunit',
                         description='Share of time the device was busy with I/O (near 100%: the disk is saturated).',
                         min=0,
                         max=1) + lib.size(12, 8),
        ],
        lib.row('Network'),
        [
          lib.timeseries('Network traffic', [
            lib.target('sum by (instance, device) (rate(node_network_receive_bytes_total%s[$__rate_interval]))' % net, '{{instance}} {{device}} in'),
            lib.target('sum by (instance, device) (rate(node_network_transmit_bytes_total%s[$__rate_interval]))' % net, '{{instance}} {{device}} out', 'B'),
          ], 'Bps', min=0) + lib.size(12, 8),
          lib.timeseries('Network errors and drops',
                         [lib.target(|||
                           sum by (instance, device) (
                             rate(node_network_receive_errs_total%(net)s[$__rate_interval]) + rate(node_network_transmit_errs_total%(net)s[$__rate_interval])
                             + rate(node_network_receive_drop_total%(net)s[$__rate_interval]) + rate(node_network_transmit_drop_total%(net)s[$__rate_interval])
                           )
                         ||| % { net: net }, '{{instance}} {{device}}')],
                         'pps',
                         min=0) + lib.size(12, 8),
        ],
      ]),
    ),
  },
}
