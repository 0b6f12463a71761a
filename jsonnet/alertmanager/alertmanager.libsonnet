// Alertmanager 0.25 configuration and notification templates generated from _config.alertmanager.
// `make build` writes alertmanager/alertmanager.yml and alertmanager/templates/*.tmpl from
// alertmanagerConfig / alertmanagerTemplates; alertmanagerRoutingCases is the table of routing cases
// (labels -> receivers, in amtool's order) that tests/alertmanager runs through amtool and that
// docs/alerting.md shows.
local rules = import '../lib/rules.libsonnet';
local inhibit = import 'inhibit.libsonnet';
local receivers = import 'receivers.libsonnet';
local routes = import 'routes.libsonnet';
local schema = import 'schema.libsonnet';

// Values from _config that the static templates need, as template definitions.
local configTemplates(c) =
  local am = c.alertmanager;
  |||

    {{/* Generated from jsonnet/config.libsonnet (grafanaURL, alertmanager.dashboardPath, runbookURLPattern, clusterLabel). */}}
    {{ define "infrawatch.grafana_url" }}%(dashboard)s{{ end }}
    {{ define "infrawatch.runbook_fallback" }}%(runbook)s{{ end }}
    {{ define "infrawatch.cluster" }}{{ index .CommonLabels "%(cluster)s" }}{{ end }}
    {{ define "infrawatch.cluster_suffix" }}{{ with index .CommonLabels "%(cluster)s" }} ({{ . }}){{ end }}{{ end }}
  ||| % {
    dashboard: c.grafanaURL + am.dashboardPath,
    runbook: rules.runbookURL(c, '{{ .CommonLabels.alertname }}'),
    cluster: c.clusterLabel,
  };

{
  local c = $._config,
  local am = c.alertmanager,
  local teams = [routes.team(am, t) for t in am.teams],
  local route = routes.root(am, teams),

  local allReceivers =
    [
      receivers.heartbeat(am),
      receivers.nullReceiver(),
      receivers.slack('slack-default', am.slack.defaultChannel),
      receivers.slack('slack-critical', am.slack.criticalChannel),
      receivers.pagerduty(am, 'pagerduty-default', am.pagerduty.routingKeyFile),
    ]
    + (if routes.infoChat(am) then
         [receivers.slack('slack-info', routes.infoChannel(am), am, std.get(am.info, 'slackAPIURLFile', ''))]
       else [])
    + (if am.email.enabled then [receivers.email('email-default', am.email.oncall)] else [])
    + (if routes.p0Escalated(am) then [receivers.email('email-p0', am.p0EscalationEmail)] else [])
    + [receivers.webhook(am, w) for w in am.webhooks]
    + std.flattenArrays([
      [
        receivers.pagerduty(am, t.pager, t.pagerdutyRoutingKeyFile),
        receivers.slack(t.chat, t.slackChannel),
      ]
      + (if t.email != '' then [receivers.email('email-' + t.name, t.email)] else [])
      for t in teams
    ]),
  local used = std.set(routes.usedReceivers(route)),
  local defined = std.set([r.name for r in allReceivers]),
  local missing = std.setDiff(used, defined),

  // SLO page-tier alerts mute the ticket tiers of the same SLO (rules owned by slo/).
  local sloInhibitRules = if std.objectHasAll($, 'sloInhibitRules') then $.sloInhibitRules else [],

  alertmanagerConfig+::
    if std.length(missing) > 0 then
      error 'alertmanager config: routes use undefined receivers: ' + std.join(', ', missing)
    else schema.checked({
      global: receivers.global(am),
      templates: ['templates/*.tmpl'],
      route: route,
      inhibit_rules: inhibit.rules(c, $.ruleFiles) + sloInhibitRules,
      receivers: [r for r in allReceivers if std.setMember(r.name, used)],
      time_intervals: routes.timeIntervals(am),
    }),

  alertmanagerTemplates+:: {
    'common.tmpl': (importstr 'templates/common.tmpl') + configTemplates(c),
    'slack.tmpl': importstr 'templates/slack.tmpl',
    'pagerduty.tmpl': importstr 'templates/pagerduty.tmpl',
    'email.tmpl': importstr 'templates/email.tmpl',
  },

  alertmanagerRoutingCases:: (import 'routing_cases.libsonnet'),

  ruleFiles+:: {},
  promtoolTests+:: {},
  grafanaDashboards+:: {},
  grafanaProvisioning+:: {},
  slos+:: {},
}
