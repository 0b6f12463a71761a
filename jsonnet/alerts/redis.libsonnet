// Redis (redis_exporter and the redis prober): down, error replies, memory, hit rate.
local r = import '../lib/rules.libsonnet';

{
  ruleFiles+:: r.ruleFile($._config, 'redis', [
    r.group($._config, 'infrawatch-redis', std.flattenArrays([
      local exp = r.sel([s.exporterSelector]);
      [
        {
          alert: 'RedisDown',
          expr: |||
            max(probe_success%(probe)s) == 0
            or
            max(redis_up%(exp)s) == 0
          ||| % { probe: r.probeSel($._config, s), exp: exp },
          'for': $._config.downFor,
          severity: 'critical',
          service: s.name,
          summary: 'Redis is down.',
          description: '%s (%s) has not answered its probes or redis_exporter for more than %s.' % [s.title, s.name, $._config.downFor],
        },
        {
          // Error replies (Redis errorstats: WRONGTYPE, OOM, NOSCRIPT, unknown commands...) per
          // processed command.  MULTI/DISCARD, a WATCH-aborted EXEC and cache misses are no errors.
          alert: 'RedisErrorRateHigh',
          expr: |||
            sum by (instance) (rate(redis_errors_total%(exp)s[%(rate)s]))
            /
            sum by (instance) (rate(redis_commands_processed_total%(exp)s[%(rate)s]))
            > %(threshold)g
            and on (instance)
            sum by (instance) (rate(redis_commands_processed_total%(exp)s[%(rate)s])) >= %(minOps)g
          ||| % { exp: exp, threshold: $._config.redisErrorRatioThreshold, minOps: $._config.redisMinCommandsPerSecond, rate: $._config.rateInterval },
          'for': $._config.alertFor.RedisErrorRateHigh,
          severity: 'critical',
          service: s.name,
          summary: 'Redis commands are failing.',
          description: '%s (%s): {{ $value | humanizePercentage }} of the commands on {{ $labels.instance }} answer an error (threshold %g%%).' % [s.title, s.name, $._config.redisErrorRatioThreshold * 100],
        },
        {
          alert: 'RedisHighMemory',
          expr: |||
            redis_memory_used_bytes%(exp)s
            /
            (redis_memory_max_bytes%(exp)s > 0)
            > %(threshold)g
          ||| % { exp: exp, threshold: $._config.redisMemoryThreshold },
          'for': $._config.alertFor.RedisHighMemory,
          severity: 'warning',
          service: s.name,
          summary: 'Redis memory is nearly full.',
          description: '%s (%s): {{ $labels.instance }} uses {{ $value | humanizePercentage }} of maxmemory; keys will be evicted or writes refused.' % [s.title, s.name],
        },
        {
          alert: 'RedisLowHitRate',
          expr: |||
            sum by (instance) (rate(redis_keyspace_hits_total%(exp)s[%(rate)s]))
            /
            (
              sum by (instance) (rate(redis_keyspace_hits_total%(exp)s[%(rate)s]))
              +
              sum by (instance) (rate(redis_keyspace_misses_total%(exp)s[%(rate)s]))
            )
            < %(threshold)g
            and on (instance)
            (
              sum by (instance) (rate(redis_keyspace_hits_total%(exp)s[%(rate)s]))
              +
              sum by (instance) (rate(redis_keyspace_misses_total%(exp)s[%(rate)s]))
            ) >= %(minOps)g
          ||| % { exp: exp, threshold: $._config.redisHitRateThreshold, minOps: $._config.redisMinOpsPerSecond, rate: $._config.rateInterval },
          'for': $._config.alertFor.RedisLowHitRate,
          severity: 'warning',
          service: s.name,
          summary: 'The Redis cache hit rate is low.',
          description: '%s (%s): only {{ $value | humanizePercentage }} of key lookups on {{ $labels.instance }} hit the cache (threshold %g%%).' % [s.title, s.name, $._config.redisHitRateThreshold * 100],
        },
      ]
      for s in r.servicesOfKind($._config, 'redis')
    ])),
  ]),
}
