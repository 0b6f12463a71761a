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

  // What each refusal reason means and what to do, for DNSBLQueriesRefused's description
  // (reasons of exporters/infrawatch/reputation/classify.py; tests/rules check the names).
  local refusalTexts = {
    blocked_resolver: ['refuses our resolver', 'the list blocks public or shared resolvers (Spamhaus answers 127.255.255.254): query it through your own recursive resolver, or use a Spamhaus DQS key'],
    rate_limited: ['says we send too many queries', 'we are over its free query limit (Spamhaus answers 127.255.255.255): lengthen its interval, check reputation_projected_daily_queries, or use a DQS key'],
    bad_key: ['rejects the zone name or key', 'the zone name has a typo or the DQS key is invalid (Spamhaus answers 127.255.255.252): check the list profile and the key file'],
  },
  local reasonText(i) =
    std.join('', [
      '{{ %sif eq $labels.reason "%s" }}%s' % [if n == 0 then '' else 'else ', $._config.dnsblRefusalReasons[n], refusalTexts[$._config.dnsblRefusalReasons[n]][i]]
      for n in std.range(0, std.length($._config.dnsblRefusalReasons) - 1)
      if std.objectHas(refusalTexts, $._config.dnsblRefusalReasons[n])
    ]) + '{{ else }}%s{{ end }}' % (if i == 0 then 'refuses our queries' else 'see the runbook'),
  // `Reasons: timeout (2), servfail (1)` from the failing lookups of the alert's list.
  // (inside a Go template string literal: the selector's quotes are escaped)
  local errorSel(extra) = std.join(', ', std.filter(function(x) x != '', [std.strReplace(rep, '"', '\\"'), extra])),
  local reasonsOfList =
    '{{ range $i, $r := query (printf "count by (reason) (reputation_lookup_error{'
    + errorSel('list=%q') + '} == 1)" $labels.list) | sortByLabel "reason" }}'
    + '{{ if $i }}, {{ end }}{{ $r.Labels.reason }} ({{ $r.Value }}){{ end }}',

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
        description: 'Lookups against {{ $labels.list }} fail for {{ $value | humanizePercentage }} of targets; their listing status is unknown. Reasons: ' + reasonsOfList + '.',
      },
      {
        alert: 'DNSBLQueriesRefused',
        expr: 'count by (list, reason) (reputation_lookup_error%s == 1)' % r.sel([rep, 'reason=~"%s"' % std.join('|', $._config.dnsblRefusalReasons)]),
        'for': $._config.alertFor.DNSBLQueriesRefused,
        severity: 'warning',
        service: $._config.reputationService,
        summary: 'A blacklist refuses our queries.',
        description: '{{ $labels.list }} ' + reasonText(0) + ' ({{ $labels.reason }}) for {{ $value }} target(s): their listing status is unknown until this is fixed, ' + reasonText(1) + '.',
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
