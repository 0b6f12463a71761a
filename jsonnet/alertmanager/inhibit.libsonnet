// Inhibition: a louder alert mutes quieter alerts about the same problem.  Every rule has a
// non-empty `equal` (otherwise one critical alert anywhere would mute warnings everywhere) and
// source/target matchers no alert can satisfy both at once (or an alert could mute itself).
{
  rules(am):: [
    // A critical alert mutes the warning/info alerts of the same name and service
    // (e.g. TLSCertificateExpiringSoon critical under 3 days mutes its warning twin).
    {
      source_matchers: ['severity="critical"'],
      target_matchers: ['severity=~"warning|info"'],
      equal: ['alertname', 'service', 'cluster'],
    },
    // A warning mutes the info alert of the same name and service.
    {
      source_matchers: ['severity="warning"'],
      target_matchers: ['severity="info"'],
      equal: ['alertname', 'service', 'cluster'],
    },
  ] + (
    if std.length(am.probeFailingMutes) > 0 then [
      // A service whose probe fails is down: its "degraded" and latency alerts are symptoms.
      {
        source_matchers: ['alertname="ServiceProbeFailing"'],
        target_matchers: ['alertname=~"%s"' % std.join('|', am.probeFailingMutes)],
        equal: ['service', 'cluster'],
      },
    ] else []
  ),
}
