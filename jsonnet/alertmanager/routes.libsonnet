// The routing tree, built from _config.alertmanager.  Order of the root's children matters:
//   1. Watchdog -> heartbeat (first, fast timings, stops there)
//   2. extra webhooks (continue: they see alerts, normal routing goes on)
//   3. severity=none -> null (never sent; info too when the info tier is off)
//   4. one route per team (team label), one per team's services (alerts without a team label)
//   5. the default team's routes (alerts no team claims), then the root receiver (slack-default)
// Under a team: critical -> pager (continue), critical -> team mail (continue), critical P0 ->
// escalation mail (continue), critical -> critical channel; warning -> team channel (or mail), muted in
// warningMuteIntervals (none by default); info -> team mail as an hourly digest (or, with
// info.slackChannel, the shared info channel `slack-info` with the same timings); anything else -> the
// team's channel.  The routing table in routing_cases.libsonnet is the executable documentation.
// Names end up inside matchers ("team=\"x\"", "service=~\"a|b\""): allow only safe characters.
// (Character sets rather than std.findSubstr, which is slow in the C++ interpreter.)
local charSet(chars) = { [c]: true for c in std.stringChars(chars) };
local lowerNameChars = charSet('abcdefghijklmnopqrstuvwxyz0123456789_-.');
local alertNameChars = charSet('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:');
local onlyChars(set, n) =
  std.isString(n) && std.length(n) > 0 && std.length([c for c in std.stringChars(n) if !std.objectHas(set, c)]) == 0;

local checkName(kind, n) =
  if onlyChars(lowerNameChars, n) then n
  else error 'alertmanager config: %s %s must be a lower-case name of [a-z0-9_.-]' % [kind, std.toString(n)];

{
  // A team entry with its defaults filled in and its receiver names resolved.
  team(am, t)::
    local name = checkName('team name', t.name);
    local hasEmail = std.objectHas(t, 'email') && am.email.enabled;
    local warningsTo = if std.objectHas(t, 'warningsTo') then t.warningsTo else 'slack';
    {
      name: name,
      services: [checkName('service', s) for s in (if std.objectHas(t, 'services') then t.services else [])],
      slackChannel: t.slackChannel,
      pagerdutyRoutingKeyFile: t.pagerdutyRoutingKeyFile,
      email: if hasEmail then t.email else '',
      pager: 'pagerduty-' + name,
      chat: 'slack-' + name,
      mail: if hasEmail then 'email-' + name else 'email-default',
      warning:
        if warningsTo == 'slack' then 'slack-' + name
        else if warningsTo == 'email' then
          if hasEmail then 'email-' + name
          else error 'alertmanager config: team %s has warningsTo: email but no `email` (or email.enabled is false)' % name
        else error "alertmanager config: team %s: warningsTo must be 'slack' or 'email', not %s" % [name, warningsTo],
    },

  // The pseudo-team for alerts that no team claims.
  defaultTeam(am):: {
    name: 'default',
    services: [],
    pager: 'pagerduty-default',
    chat: 'slack-default',
    mail: 'email-default',
    warning: 'slack-default',
  },

  local severity(s) = 'severity="%s"' % s,

  local p0Matcher(am) =
    local names = [
      if onlyChars(alertNameChars, a) then a
      else error 'alertmanager config: p0Alerts entry %s is not an alert name' % a
      for a in am.p0Alerts
    ];
    'alertname=~"%s"' % std.join('|', names),

  // Where info alerts go: the shared chat channel when info.slackChannel is set, else the team's
  // mail; infoSent false = the root sends them to null.  P0 escalated by mail.
  infoChannel(am):: std.get(am.info, 'slackChannel', ''),
  infoChat(am):: am.info.enabled && $.infoChannel(am) != '',
  infoSent(am):: $.infoChat(am) || (am.email.enabled && am.info.enabled),
  infoReceiver(am, t):: if $.infoChat(am) then 'slack-info' else t.mail,
  p0Escalated(am):: am.email.enabled && am.p0EscalationEmail != '' && std.length(am.p0Alerts) > 0,

  // Children of a team route (or of the root for the default team).
  severityRoutes(am, t)::
    [{ receiver: t.pager, matchers: [severity('critical')], continue: true }]
    + (if am.email.enabled then [{ receiver: t.mail, matchers: [severity('critical')], continue: true }] else [])
    + (if $.p0Escalated(am) then
         [{ receiver: 'email-p0', matchers: [severity('critical'), p0Matcher(am)], continue: true }]
       else [])
    + [
      { receiver: 'slack-critical', matchers: [severity('critical')] },
      { receiver: t.warning, matchers: [severity('warning')] }
      + (if std.length(am.warningMuteIntervals) > 0 then { mute_time_intervals: am.warningMuteIntervals } else {}),
    ]
    + (if $.infoSent(am) then [{
         receiver: $.infoReceiver(am, t),
         matchers: [severity('info')],
         group_wait: am.info.groupWait,
         group_interval: am.info.groupInterval,
         repeat_interval: am.info.repeatInterval,
       }] else []),

  teamRoutes(am, t)::
    [{ receiver: t.chat, matchers: ['team="%s"' % t.name], routes: $.severityRoutes(am, t) }]
    + (if std.length(t.services) > 0 then [{
         receiver: t.chat,
         // team="" matches alerts without a team label; an explicit team label always wins.
         matchers: ['team=""', 'service=~"%s"' % std.join('|', t.services)],
         routes: $.severityRoutes(am, t),
       }] else []),

  root(am, teams):: {
    receiver: 'slack-default',
    group_by: am.groupBy,
    group_wait: am.groupWait,
    group_interval: am.groupInterval,
    repeat_interval: am.repeatInterval,
    routes:
      [{
        receiver: 'heartbeat',
        matchers: ['alertname="Watchdog"'],
        group_wait: am.heartbeat.groupWait,
        group_interval: am.heartbeat.groupInterval,
        repeat_interval: am.heartbeat.repeatInterval,
      }]
      + [
        { receiver: 'webhook-' + checkName('webhook name', w.name), matchers: w.matchers, continue: true }
        for w in am.webhooks
      ]
      // severity="none" (kube-prometheus' InfoInhibitor convention) is never sent; info neither when
      // the info tier is off.
      + [{ receiver: 'null', matchers: [if $.infoSent(am) then 'severity="none"' else 'severity=~"info|none"'] }]
      + std.flattenArrays([$.teamRoutes(am, t) for t in teams])
      + $.severityRoutes(am, $.defaultTeam(am)),
  },

  timeIntervals(am)::
    local undefined = [n for n in am.warningMuteIntervals if !std.objectHas(am.timeIntervals, n)];
    if std.length(undefined) > 0 then
      error 'alertmanager config: warningMuteIntervals names undefined time intervals: ' + std.join(', ', undefined)
    else [
      { name: n, time_intervals: am.timeIntervals[n] }
      for n in std.objectFields(am.timeIntervals)
    ],

  // Every receiver name a route refers to (for dropping receivers nothing routes to).
  usedReceivers(route)::
    [route.receiver] + std.flattenArrays([$.usedReceivers(r) for r in (if std.objectHas(route, 'routes') then route.routes else [])]),
}
