// Databases: PostgreSQL from postgres_exporter (seed 004's database dashboard, seeds 002/003's database
// performance): connections by state against max_connections, transactions and rollbacks, rows read
// and written, deadlocks and recovery conflicts, locks by mode, the longest open transaction, cache
// hit ratio and database sizes; statement times and calls, table sizes and index usage from the
// custom queries of deploy/postgres/queries.yaml (pg_top_statements_* from pg_stat_statements,
// pg_top_tables_* from pg_stat_user_tables).  One section per postgres service (its exporterSelector,
// declared once in _config.services); the connection threshold is DatabaseConnectionPoolHigh's.
local lib = import '../lib/dashboards.libsonnet';
local r = import '../lib/rules.libsonnet';
local databases(cfg) = [s for s in cfg.services if s.kind == 'postgres' && std.objectHas(s, 'exporterSelector')];

{
  grafanaDashboards+:: {
    local cfg = $._config,
    local dcfg = cfg.dashboards,

    local top = dcfg.database,
    // A statement is pg_stat_statements' key (database, user, queryid); a table (database, schema, name).
    local statement = 'datname, usename, queryid, query',
    local table = 'datname, schemaname, relname',

    local section(s) =
      local e = r.sel([s.exporterSelector]);
      local rate(metric, by='') = lib.sumRate(metric, e, by);
      local over(metric, range) = 'sum by (%s) (increase(%s%s[%s]))' % [statement, metric, e, range];
      // Mean execution time per call: time spent / calls, statements not called in the window left out.
      local meanTime(exec, calls) = '%s / (%s > 0)' % [exec, calls];
      local slowest = 'topk(%d, %s)' % [
        top.topStatements,
        meanTime(over('pg_top_statements_exec_seconds_total', '$__range'), over('pg_top_statements_calls_total', '$__range')),
      ];
      local ofSlowest(expr) = '(%s) and on (%s) %s' % [expr, statement, slowest];
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
        [
          lib.table(
            'Slowest statements',
            [
              lib.tableTarget(slowest, 'MEAN'),
              lib.tableTarget(ofSlowest(over('pg_top_statements_calls_total', '$__range')), 'CALLS'),
              lib.tableTarget(ofSlowest(over('pg_top_statements_exec_seconds_total', '$__range')), 'TOTAL'),
            ],
            description='The %d statements with the highest mean execution time over the time range (pg_stat_statements through deploy/postgres/queries.yaml, which keeps the 20 with the most execution time).' % top.topStatements,
            transformations=[
              lib.merge,
              lib.organize(
                {
                  Time: null,
                  datname: 'Database',
                  usename: 'User',
                  queryid: 'Query ID',
                  query: 'Statement',
                  'Value #MEAN': 'Mean time (s)',
                  'Value #CALLS': 'Calls',
                  'Value #TOTAL': 'Total time (s)',
                },
                ['query', 'Value #MEAN', 'Value #CALLS', 'Value #TOTAL', 'datname', 'usename', 'queryid'],
              ),
            ],
            sortBy=[{ displayName: 'Mean time (s)', desc: true }],
            // One unit per table (the schema allows no per-column unit): plain numbers, named in the headers.
            unit='none',
            decimals=3,
          ) + lib.size(12, 8),
          lib.timeseries('Mean time per statement',
                         [lib.target('topk(%d, %s)' % [top.topStatements, meanTime(rate('pg_top_statements_exec_seconds_total', statement), rate('pg_top_statements_calls_total', statement))], '{{query}}')],
                         's',
                         description='Execution time per call of the statements run in the window (pg_stat_statements).',
                         min=0) + lib.size(12, 8),
        ],
        [
          lib.timeseries('Statement calls',
                         [lib.target('topk(%d, %s)' % [top.topStatements, rate('pg_top_statements_calls_total', statement)], '{{query}}')],
                         'ops',
                         description='Executions per second of the busiest statements (pg_stat_statements).',
                         min=0) + lib.size(6, 8),
          lib.timeseries('Table size',
                         [lib.target('topk(%d, sum by (%s) (pg_top_tables_size_bytes%s))' % [top.topTables, table, e], '{{schemaname}}.{{relname}}')],
                         'bytes',
                         description='The largest tables with their indexes and TOAST data, in the databases the exporter reads (pg_stat_user_tables).',
                         min=0) + lib.size(6, 8),
          lib.timeseries('Index usage',
                         [lib.target('%s / (%s + %s > 0)' % [rate('pg_top_tables_idx_scan_total', table), rate('pg_top_tables_idx_scan_total', table), rate('pg_top_tables_seq_scan_total', table)], '{{schemaname}}.{{relname}}')],
                         'percentunit',
                         description='Index scans / all scans of each table scanned in the window: near 0 on a large table, its reads are sequential scans (a missing index).',
                         min=0,
                         max=1) + lib.size(6, 8),
          lib.timeseries('Sequential scans',
                         [lib.target('topk(%d, %s)' % [top.topTables, rate('pg_top_tables_seq_scan_total', table)], '{{schemaname}}.{{relname}}')],
                         'ops',
                         description='Sequential scans per second of the tables scanned most (pg_stat_user_tables).',
                         min=0) + lib.size(6, 8),
        ],
      ],

    [if databases($._config) != [] then 'infrawatch-database.json']: lib.dashboard(
      uid=dcfg.uidPrefix + 'database',
      title='Databases',
      description='PostgreSQL from postgres_exporter: connections by state, transactions, rows, locks, deadlocks, the longest transaction, cache hit ratio and sizes; slowest statements, statement times and calls, table sizes and index usage (deploy/postgres/queries.yaml).',
      tags=dcfg.tags + ['database'],
      time=dcfg.defaultTimeRange,
      refresh=dcfg.refresh,
      links=lib.dashboardLinks,
      panels=lib.layout(std.flattenArrays([section(s) for s in databases(cfg)])),
    ),
  },
}
