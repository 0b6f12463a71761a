// Databases: PostgreSQL from postgres_exporter (seed 004's database dashboard, seeds 002/003's database
// performance): connections by state against max_connections, transactions and rollbacks, rows read
// and written, deadlocks and recovery conflicts, locks by mode, the longest open transaction, cache
// hit ratio and database sizes.  One section per postgres service (its exporterSelector, declared
// once in _config.services); the connection threshold is DatabaseConnectionPoolHigh's.
local lib = import '../lib/dashboards.libsonnet';
local r = import '../lib/rules.libsonnet';
local databases(cfg) = [s for s in cfg.services if s.kind == 'postgres' && std.objectHas(s, 'exporterSelector')];

{
  grafanaDashboards+:: {
    local cfg = $._config,
    local dcfg = cfg.dashboards,

    local section(s) =
      local e = r.sel([s.exporterSelector]);
      local rate(metric, by='') = lib.sumRate(metric, e, by);
      [
        lib.row(s.title),
        [
          lib.stat('Connections used',
                   [lib.target('sum(pg_stat_activity_count%s) / max(pg_settings_max_connections%s)' % [e, e], instant=true)],
                   'percentunit',
                   description='Connections of every state / max_connections (DatabaseConnectionPoolHigh above %g%%).' % (cfg.databaseConnectionPoolThreshold * 100),
                   steps=[[null, 'green'], [cfg.databaseConnectionPoolThreshold, 'yellow'], [0.95, 'red']]) + lib.size(4, 4),
          lib.stat('Transactions',
                   [lib.target(rate('pg_stat_database_xact_commit') + ' + ' + rate('pg_stat_database_xact_rollback'), instant=true)],
                   'ops',
                   decimals=1) + lib.size(4, 4),
          lib.stat('Cache hit ratio',
                   [lib.target('%s / (%s + %s)' % [rate('pg_stat_database_blks_hit'), rate('pg_stat_database_blks_hit'), rate('pg_stat_database_blks_read')], instant=true)],
                   'percentunit',
                   description='Blocks found in shared buffers / blocks read (below ~0.9 most reads go to disk).',
                   decimals=3,
                   steps=[[null, 'red'], [0.9, 'yellow'], [0.99, 'green']]) + lib.size(4, 4),
          lib.stat('Longest transaction',
                   [lib.target('max(pg_stat_activity_max_tx_duration%s)' % e, instant=true)],
                   's',
                   description='Age of the oldest open transaction (long ones hold locks and block vacuum).',
                   steps=[[null, 'green'], [60, 'yellow'], [600, 'red']]) + lib.size(4, 4),
          lib.stat('Active connections',
                   [lib.target('sum(pg_stat_activity_count%s)' % r.sel([s.exporterSelector, 'state="active"']), instant=true)],
                   'none',
                   description='Connections running a statement now.') + lib.size(4, 4),
          lib.stat('Size',
                   [lib.target('sum(pg_database_size_bytes%s)' % e, instant=true)],
                   'bytes') + lib.size(4, 4),
        ],
        [
          lib.timeseries('Connections by state',
                         [lib.target('sum by (state) (pg_stat_activity_count%s)' % e, '{{state}}')],
                         'none',
                         description='active, idle, idle in transaction (waiting on the pool), ... from pg_stat_activity.',
                         min=0,
                         stack=true) + lib.size(8, 8),
          lib.timeseries('Transactions', [
            lib.target(rate('pg_stat_database_xact_commit'), 'commits'),
            lib.target(rate('pg_stat_database_xact_rollback'), 'rollbacks', 'B'),
          ], 'ops', min=0) + lib.size(8, 8),
          lib.timeseries('Rows', [
            lib.target(rate('pg_stat_database_tup_fetched'), 'fetched'),
            lib.target(rate('pg_stat_database_tup_inserted'), 'inserted', 'B'),
            lib.target(rate('pg_stat_database_tup_updated'), 'updated', 'C'),
            lib.target(rate('pg_stat_database_tup_deleted'), 'deleted', 'D'),
          ], 'rps', description='Query load: rows read and written per second.', min=0) + lib.size(8, 8),
        ],
        [
          lib.timeseries('Locks by mode',
                         [lib.target('sum by (mode) (pg_locks_count%s)' % e, '{{mode}}')],
                         'none',
                         min=0,
                         stack=true) + lib.size(8, 8),
          lib.timeseries('Deadlocks and conflicts', [
            lib.target(rate('pg_stat_database_deadlocks'), 'deadlocks'),
            lib.target(rate('pg_stat_database_conflicts'), 'recovery conflicts', 'B'),
          ], 'ops', description='What DatabaseErrorRateHigh counts as errors.', min=0) + lib.size(8, 8),
          lib.timeseries('Database size',
                         [lib.target('sum by (datname) (pg_database_size_bytes%s)' % e, '{{datname}}')],
                         'bytes',
                         min=0) + lib.size(8, 8),
        ],
      ],

    [if databases($._config) != [] then 'infrawatch-database.json']: lib.dashboard(
      uid=dcfg.uidPrefix + 'database',
      title='Databases',
      description='PostgreSQL from postgres_exporter: connections by state, transactions, rows, locks, deadlocks, the longest transaction, cache hit ratio and sizes.',
      tags=dcfg.tags + ['database'],
      time=dcfg.defaultTimeRange,
      refresh=dcfg.refresh,
      links=lib.dashboardLinks,
      panels=lib.layout(std.flattenArrays([section(s) for s in databases(cfg)])),
    ),
  },
}
