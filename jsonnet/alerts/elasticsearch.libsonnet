// Elasticsearch cluster health as reported by the elasticsearch prober (green 1, yellow 0.5, red 0).
local r = import '../lib/rules.libsonnet';

{
  ruleFiles+:: r.ruleFile($._config, 'elasticsearch', [
    r.group($._config, 'infrawatch-elasticsearch', std.flattenArrays([
      local probe = r.probeSel($._config, s);
      [
        {
          alert: 'ElasticsearchClusterRed',
          expr: 'min by (target) (probe_health_status%s) == 0' % probe,
          'for': $._config.alertFor.ElasticsearchClusterRed,
          severity: 'critical',
          service: s.name,
          summary: 'The Elasticsearch cluster is red.',
          description: '%s (%s): cluster {{ $labels.target }} reports status red: at least one primary shard is unassigned and its data cannot be searched or written.' % [s.title, s.name],
        },
        {
          alert: 'ElasticsearchClusterYellow',
          expr: 'min by (target) (probe_health_status%s) == 0.5' % probe,
          'for': $._config.alertFor.ElasticsearchClusterYellow,
          severity: 'warning',
          service: s.name,
          summary: 'The Elasticsearch cluster is yellow.',
          description: '%s (%s): cluster {{ $labels.target }} reports status yellow: replica shards are unassigned, one more node failure can lose data.' % [s.title, s.name],
        },
      ]
      for s in r.servicesOfKind($._config, 'elasticsearch')
    ])),
  ]),
}
