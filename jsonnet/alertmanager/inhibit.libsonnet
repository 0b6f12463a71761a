// Inhibition: a louder or more specific alert mutes the alerts that report the same problem, so one
// outage pages once.  Every rule has a non-empty `equal` naming the labels that identify "the same
// thing" (service, target, instance, SLO) -- a missing label counts as equal on both sides, so an
// `equal` list may name labels some alerts do not carry -- and source/target matchers that no alert
// satisfies both (otherwise an alert could mute itself).  docs/alerting.md shows the table;
// tests/alertmanager/test_inhibit_live.py runs every rule on a live Alertmanager.
local duration = import '../lib/duration.libsonnet';
local rules = import '../lib/rules.libsonnet';

{
  // Labels that tell two alerts of the same name apart: the service, the probed target, the scraped
  // instance, the SLO (sloth_id) and the mount point / device of host alerts.
  local identity(c) = ['alertname', 'service', c.clusterLabel, 'target', 'instance', 'sloth_id', 'mountpoint', 'device'],

  // The `for` of an alert of the generated rule files (null when no rule has that name, e.g. its
  // group is disabled); the rules with that name must agree.
  local pendingFor(ruleFiles, alert) =
    local fors = std.set([
      std.get(r, 'for', '0s')
      for f in std.objectValues(ruleFiles)
      for g in f.groups
      for r in g.rules
      if std.get(r, 'alert') == alert
    ]);
    if std.length(fors) == 0 then null else duration.seconds(fors[0], alert + ' for'),

  // With showMultiCluster every cross-alert rule also requires the same cluster label.
  local scoped(c, labels) = labels + (if c.showMultiCluster then [c.clusterLabel] else []),

  // Service-specific "down" alerts mute ServiceProbeFailing of the same thing: they say more (every
  // probe of the SMTP service fails; the Elasticsearch cluster is red) and page on their own.  Each
  // must not wait longer than ServiceProbeFailing, or the generic page goes out first: checked here.
  // ServiceProbeFailing waits per service: probeFailingFor, or the probe intervals until the N-th
  // consecutive failure for a service with probeInterval (lib/rules.libsonnet probeFailingWait).
  probeFailingSupersededBy(c, ruleFiles)::
    local probeFor = pendingFor(ruleFiles, 'ServiceProbeFailing');
    [
      local late = [
        { service: r.labels.service, wait: duration.seconds(std.get(r, 'for', '0s'), alert + ' for'), probe: rules.probeFailingWait(c, r.labels.service) }
        for f in std.objectValues(ruleFiles)
        for g in f.groups
        for r in g.rules
        if std.get(r, 'alert') == alert && std.objectHas(r.labels, 'service')
      ];
      local tooLate = [x for x in late if x.wait > x.probe];
      if probeFor != null && tooLate != [] then
        error ('alertmanager.probeFailingSupersededBy: %s of %s waits %ds before firing, longer than ServiceProbeFailing (%ds): '
               + 'the generic page would go out first; lower its `for`') % [alert, tooLate[0].service, tooLate[0].wait, tooLate[0].probe]
      else {
        source_matchers: ['alertname="%s"' % alert],
        target_matchers: ['alertname="ServiceProbeFailing"'],
        equal: scoped(c, c.alertmanager.probeFailingSupersededBy[alert]),
      }
      for alert in std.objectFields(c.alertmanager.probeFailingSupersededBy)
      if pendingFor(ruleFiles, alert) != null && probeFor != null
    ],

  // `source` mutes the alerts named in `mutes` (alert name -> equal labels): symptoms, or the same
  // outage seen another way.  A muted alert must not fire before its source, or it pages first:
  // checked here against the generated rules (an alert whose group is disabled has no rule).
  mutedBy(c, ruleFiles, source, mutes, knob)::
    local srcFor = pendingFor(ruleFiles, source);
    [
      local targetFor = pendingFor(ruleFiles, alert);
      if srcFor != null && targetFor != null && targetFor < srcFor then
        error ('alertmanager.%s: %s waits %ds before firing, less than %s (%ds) which mutes it: '
               + 'it would page first; raise its `for`') % [knob, alert, targetFor, source, srcFor]
      else {
        source_matchers: ['alertname="%s"' % source],
        target_matchers: ['alertname="%s"' % alert],
        equal: scoped(c, mutes[alert]),
      }
      for alert in std.objectFields(mutes)
    ],

  rules(c, ruleFiles)::
    local severityTwins = [
      // A critical alert mutes the warning/info alerts of the same name about the same thing
      // (TLSCertificateExpiringSoon critical under 3 days mutes its warning twin for that target only).
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity=~"warning|info"'],
        equal: identity(c),
      },
      // A warning mutes the info alert of the same name about the same thing.
      {
        source_matchers: ['severity="warning"'],
        target_matchers: ['severity="info"'],
        equal: identity(c),
      },
    ];
    severityTwins
    + $.probeFailingSupersededBy(c, ruleFiles)
    // A service whose probe fails is down: its "degraded" and latency alerts are symptoms.
    + $.mutedBy(c, ruleFiles, 'ServiceProbeFailing', c.alertmanager.probeFailingMutes, 'probeFailingMutes')
    // A share of requests failing and many errors per second are one outage: the ratio pages (P0).
    + $.mutedBy(c, ruleFiles, 'HighErrorRate', c.alertmanager.highErrorRateMutes, 'highErrorRateMutes'),
}
