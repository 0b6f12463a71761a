// infrawatch exporters: the monitoring pipeline itself — scrape health, configuration reloads, probe and
// DNSBL query rates, errors, scheduler lag and query budgets of the probe and reputation exporters.
local lib = import '../lib/dashboards.libsonnet';

local j = 'job=~"$job", instance=~"$instance"';
local okMappings = [lib.valueMap({ '1': ['ok', 'green'], '0': ['failed', 'red'] })];
local upMappings = [lib.valueMap({ '1': ['up', 'green'], '0': ['down', 'red'] })];

{
  grafanaDashboards+:: {
    local dcfg = $._config.dashboards,

    'infrawatch-exporters.json': lib.dashboard(
      uid=dcfg.uidPrefix + 'exporters',
      title='infrawatch exporters',
      description='Health of the probe and reputation exporters: scrapes, reloads, probe and DNSBL query rates, errors, scheduler lag.',
      tags=dcfg.tags + ['exporters'],
      time=dcfg.defaultTimeRange,
      refresh=dcfg.refresh,
      links=lib.dashboardLinks,
      variables=[
        lib.queryVariable('job', 'Job', 'label_values(infrawatch_build_info, job)'),
        lib.queryVariable('instance', 'Instance', 'label_values(infrawatch_build_info{job=~"$job"}, instance)'),
      ],
      panels=lib.layout([
        lib.row('Scrape and configuration'),
        [
          lib.table('Exporters', [
            lib.tableTarget('max by (job, instance, exporter, version) (infrawatch_build_info{%s})' % j, 'INFO'),
            lib.tableTarget('max by (job, instance) (up{%s})' % j, 'UP'),
            lib.tableTarget('max by (job, instance) (infrawatch_config_last_reload_successful{%s})' % j, 'RELOAD'),
          ], 'none', transformations=[
            lib.merge,
            lib.organize(
              { Time: null, 'Value #INFO': null, job: 'Job', instance: 'Instance', exporter: 'Exporter', version: 'Version', 'Value #UP': 'Scrape', 'Value #RELOAD': 'Last reload' },
              ['exporter', 'job', 'instance', 'version', 'Value #UP', 'Value #RELOAD'],
            ),
          ], mappings=okMappings, steps=[[null, 'text']], overrides=[
            lib.byName('Scrape', { 'custom.cellOptions': { type: 'color-background' } }),
            lib.byName('Last reload', { 'custom.cellOptions': { type: 'color-background' } }),
          ]) + lib.size(16, 7),
          lib.stat('Exporters up',
                   [lib.target('sum(up{%s}) / count(up{%s})' % [j, j], instant=true)],
                   'percentunit',
                   steps=[[null, 'red'], [1, 'green']],
                   colorMode='background') + lib.size(4, 7),
          lib.stat('Config reloads failing',
                   [lib.target('count(infrawatch_config_last_reload_successful{%s} == 0) or vector(0)' % j, instant=true)],
                   'none',
                   steps=[[null, 'green'], [1, 'red']],
                   colorMode='background') + lib.size(4, 7),
        ],
        [
          lib.stateTimeline('Scrape health',
                            [lib.target('max by (job, instance) (up{%s})' % j, '{{job}} {{instance}}')],
                            upMappings,
                            steps=[[null, 'red'], [1, 'green']]) + lib.size(12, 7),
          lib.stateTimeline('Configuration reload',
                            [lib.target('max by (job, instance) (infrawatch_config_last_reload_successful{%s})' % j, '{{job}} {{instance}}')],
                            okMappings,
                            steps=[[null, 'red'], [1, 'green']]) + lib.size(12, 7),
        ],
        [
          lib.timeseries('Scrape duration',
                         [lib.target('max by (job, instance) (scrape_duration_seconds{%s})' % j, '{{job}} {{instance}}')],
                         's',
                         min=0) + lib.size(8, 8),
          lib.timeseries('Time since last successful reload', [
            lib.target('time() - max by (job, instance) (infrawatch_config_last_reload_success_timestamp_seconds{%s})' % j, '{{job}} {{instance}}'),
          ], 's', min=0) + lib.size(8, 8),
          lib.timeseries('Samples per scrape',
                         [lib.target('max by (job, instance) (scrape_samples_scraped{%s})' % j, '{{job}} {{instance}}')],
                         'short',
                         min=0) + lib.size(8, 8),
        ],
        lib.row('Probe exporter'),
        [
          lib.timeseries('Probes by module and result', [
            lib.target('sum by (module, result) (rate(infrawatch_probes_total{%s}[$__rate_interval]))' % j, '{{module}} {{result}}'),
          ], 'ops', min=0, stack=true) + lib.size(8, 8),
          lib.timeseries('Probe failure ratio', [
            lib.target(|||
              sum by (module) (rate(infrawatch_probes_total{%(j)s, result="failure"}[$__rate_interval]))
              /
              sum by (module) (rate(infrawatch_probes_total{%(j)s}[$__rate_interval]))
            ||| % { j: j }, '{{module}}'),
          ], 'percentunit', min=0, max=1) + lib.size(8, 8),
          lib.timeseries('Refused /probe requests', [
            lib.target('sum by (reason) (rate(infrawatch_probe_refused_total{%s}[$__rate_interval]))' % j, '{{reason}}'),
          ], 'reqps', min=0, description='403 (target not in allowed_targets) and 400 (bad request) answers of /probe.') + lib.size(8, 8),
        ],
        lib.row('Scheduler'),
        [
          lib.timeseries('Scheduler lag',
                         [lib.target('max by (job, instance) (infrawatch_scheduler_lag_seconds{%s})' % j, '{{job}} {{instance}}')],
                         's',
                         min=0,
                         description='How late the scheduler starts due jobs; growing lag means too many targets for the concurrency limit.') + lib.size(8, 8),
          lib.timeseries('Scheduled targets',
                         [lib.target('max by (job, instance) (infrawatch_scheduled_targets{%s})' % j, '{{job}} {{instance}}')],
                         'short',
                         min=0) + lib.size(8, 8),
          lib.timeseries('DNSBL check cycle duration',
                         [lib.target('max by (job, instance) (reputation_check_duration_seconds{%s})' % j, '{{job}} {{instance}}')],
                         's',
                         min=0) + lib.size(8, 8),
        ],
        lib.row('Reputation exporter'),
        [
          lib.timeseries('DNSBL queries by result', [
            lib.target('sum by (result) (rate(reputation_queries_total{%s}[$__rate_interval]))' % j, '{{result}}'),
          ], 'reqps', min=0, stack=true) + lib.size(8, 8),
          lib.timeseries('DNSBL query errors by list', [
            lib.target('sum by (list) (rate(reputation_queries_total{%s, result=~"servfail|refused|timeout|error"}[$__rate_interval]))' % j, '{{list}}'),
          ], 'reqps', min=0, description='SERVFAIL, REFUSED, timeouts and other errors; NXDOMAIN/NOERROR are answers.') + lib.size(8, 8),
          lib.timeseries('Daily query budget used (projected)',
                         [
                           lib.target('max by (list) (reputation_projected_daily_queries{%s}) / max by (list) (reputation_daily_query_budget{%s} > 0)' % [j, j], '{{list}}'),
                         ],
                         'percentunit',
                         min=0,
                         steps=[[null, 'green'], [0.8, 'orange'], [1, 'red']],
                         description="Projected queries per day over the list's free-use budget (lists without a budget are not shown).") + lib.size(8, 8),
        ],
        lib.row('Process'),
        [
          lib.timeseries('Resident memory',
                         [lib.target('max by (job, instance) (process_resident_memory_bytes{%s})' % j, '{{job}} {{instance}}')],
                         'bytes',
                         min=0) + lib.size(12, 8),
          lib.timeseries('CPU',
                         [lib.target('sum by (job, instance) (rate(process_cpu_seconds_total{%s}[$__rate_interval]))' % j, '{{job}} {{instance}}')],
                         'percentunit',
                         min=0) + lib.size(12, 8),
        ],
      ]),
    ),
  },
}
