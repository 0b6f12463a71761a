// DNS blacklist reputation (reputation exporter): listings, score, lookups and freshness.
local r = import '../lib/rules.libsonnet';

{
  local rep = $._config.reputationSelector,
  local majorTiers = std.join('|', $._config.majorListTiers),
  local listed(tierMatcher) = |||
    (reputation_listed%(rep)s == 1)
    * on (list) group_left (zone, tier, delist_url)
      max by (list, zone, tier, delist_url) (reputation_list_info%(info)s)
  ||| % { rep: r.sel([rep]), info: r.sel([rep, tierMatcher]) },

  ruleFiles+:: r.ruleFile($._config, 'reputation', [
    r.group($._config, 'infrawatch-reputation', [
      {
        alert: 'IPListedOnMajorBlacklist',
        expr: listed('tier=~"%s"' % majorTiers),
        severity: 'critical',
        service: $._config.reputationService,
        summary: 'A sending IP or domain is listed on a major blacklist.',
        description: '{{ $labels.target }} is listed on {{ $labels.list }} ({{ $labels.zone }}); most receivers reject its mail. Delisting: {{ $labels.delist_url }}',
      },
      {
        alert: 'IPListedOnBlacklist',
        expr: listed('tier!~"%s"' % majorTiers),
        severity: 'warning',
        service: $._config.reputationService,
        summary: 'A sending IP or domain is listed on a blacklist.',
        description: '{{ $labels.target }} is listed on {{ $labels.list }} ({{ $labels.zone }}, tier {{ $labels.tier }}). Delisting: {{ $labels.delist_url }}',
      },
      {
        alert: 'IPReputationLow',
        expr: 'reputation_score%s < %g' % [r.sel([rep]), $._config.reputationScoreThreshold],
        'for': $._config.alertFor.IPReputationLow,
        severity: 'warning',
        service: $._config.reputationService,
        summary: 'The reputation score of a sending IP or domain is low.',
        description: '{{ $labels.target }} has a reputation score of {{ $value }} (threshold %g).' % $._config.reputationScoreThreshold,
      },
      {
        alert: 'DNSBLLookupsFailing',
        expr: 'avg by (list) (reputation_lookup_error%s) > %g' % [r.sel([rep]), $._config.dnsblLookupErrorRatio],
        'for': $._config.dnsblLookupsFailingFor,
        severity: 'warning',
        service: $._config.reputationService,
        summary: 'Blacklist lookups are failing.',
        description: 'Lookups against {{ $labels.list }} fail for {{ $value | humanizePercentage }} of targets; their listing status is unknown.',
      },
      {
        alert: 'DNSBLListDown',
        expr: 'reputation_list_up%s == 0' % r.sel([rep]),
        'for': $._config.dnsblListDownFor,
        severity: 'warning',
        service: $._config.reputationService,
        summary: 'A blacklist fails its test points.',
        description: '{{ $labels.list }} has not answered its RFC 5782 test points correctly for %s: the list is dead, or refuses our resolver.' % $._config.dnsblListDownFor,
      },
      {
        alert: 'ReputationCheckStale',
        expr: 'time() - reputation_last_check_timestamp_seconds%s > %g' % [r.sel([rep]), $._config.reputationStaleSeconds],
        'for': $._config.alertFor.ReputationCheckStale,
        severity: 'warning',
        service: $._config.reputationService,
        summary: 'Reputation checks are stale.',
        description: '{{ $labels.target }} was last checked {{ $value | humanizeDuration }} ago (limit %gs); its listing status may be out of date.' % $._config.reputationStaleSeconds,
      },
    ]),
  ]),
}
