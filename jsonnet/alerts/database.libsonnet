// PostgreSQL (postgres_exporter): down, transaction error ratio, connection pool.
local r = import '../lib/rules.libsonnet';

{
  ruleFiles+:: r.ruleFile($._config, 'database', [
    r.group($._config, 'infrawatch-database', std.flattenArrays([
      local exp = r.sel([s.exporterSelector]);
      [
        {
          alert: 'DatabaseDown',
          expr: 'pg_up%s == 0' % exp,
          'for': $._config.downFor,
          severity: 'critical',
          service: s.name,
          summary: 'A database is down.',
          description: '%s (%s): postgres_exporter {{ $labels.instance }} cannot connect to PostgreSQL.' % [s.title, s.name],
        },
        {
          // Errors, not rollbacks: a read-only transaction ending in ROLLBACK is healthy, and
          // pg_stat_database does not tell it from a failed one.  Deadlocks (the victim transaction
          // is aborted) and recovery conflicts (queries cancelled on a standby) are errors PostgreSQL
          // counts as such; the ratio is per transaction, and only with enough transactions to mean
          // something (databaseMinTransactionsPerSecond).
          alert: 'DatabaseErrorRateHigh',
          expr: |||
            (
              sum(rate(pg_stat_database_deadlocks%(exp)s[%(rate)s]))
              +
              sum(rate(pg_stat_database_conflicts%(exp)s[%(rate)s]))
            )
            /
            %(transactions)s
            > %(threshold)g
            and on ()
            %(transactions)s
            >= %(minTps)g
          ||| % {
            exp: exp,
            rate: $._config.rateInterval,
            transactions: '(sum(rate(pg_stat_database_xact_commit%(exp)s[%(rate)s])) + sum(rate(pg_stat_database_xact_rollback%(exp)s[%(rate)s])))' % { exp: exp, rate: $._config.rateInterval },
            threshold: $._config.databaseErrorRatioThreshold,
            minTps: $._config.databaseMinTransactionsPerSecond,
          },
          'for': $._config.alertFor.DatabaseErrorRateHigh,
          severity: 'critical',
          service: s.name,
          summary: 'Database transactions are failing.',
          description: '%s (%s): deadlocks and recovery conflicts abort {{ $value | humanizePercentage }} of transactions (threshold %g%%).' % [s.title, s.name, $._config.databaseErrorRatioThreshold * 100],
        },
        {
          alert: 'DatabaseConnectionPoolHigh',
          expr: |||
            sum by (instance) (pg_stat_activity_count%(exp)s)
            / on (instance)
            max by (instance) (pg_settings_max_connections%(exp)s)
            > %(threshold)g
          ||| % { exp: exp, threshold: $._config.databaseConnectionPoolThreshold },
          'for': $._config.alertFor.DatabaseConnectionPoolHigh,
          severity: 'info',
          service: s.name,
          summary: 'The database connection pool is highly utilised.',
          description: '%s (%s): {{ $labels.instance }} uses {{ $value | humanizePercentage }} of max_connections.' % [s.title, s.name],
        },
        {
          // Capacity (seed 004): connections in use, extrapolated from the last
          // connectionPoolFillWindow, reach max_connections within connectionPoolFillHours.
          alert: 'DatabaseConnectionPoolFillingUp',
          expr: |||
            predict_linear(sum by (instance) (pg_stat_activity_count%(exp)s)[%(window)s:1m], %(horizon)d)
            >= on (instance)
            max by (instance) (pg_settings_max_connections%(exp)s)
          ||| % { exp: exp, window: $._config.connectionPoolFillWindow, horizon: $._config.connectionPoolFillHours * 3600 },
          'for': $._config.alertFor.DatabaseConnectionPoolFillingUp,
          severity: 'warning',
          service: s.name,
          summary: 'The database connection pool will be exhausted soon.',
          description: '%s (%s): at the trend of the last %s, connections on {{ $labels.instance }} reach max_connections within %g hour(s); new clients will then be refused.' % [s.title, s.name, $._config.connectionPoolFillWindow, $._config.connectionPoolFillHours],
        },
      ]
      for s in r.servicesOfKind($._config, 'postgres')
    ])),
  ]),
}
