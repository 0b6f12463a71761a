// Rule helpers shared by alerts/ and rules/: selectors, runbook links, extra labels, group switches.
// Rule objects are written in the conventional order (alert, expr, for, labels, annotations);
// `make build` keeps that order in the YAML.
local duration = import 'duration.libsonnet';
local promql = import 'promql.libsonnet';

{
  // '{a="1", b="2"}' from a list of matcher strings, skipping empty ones; '' when none remain,
  // so `metric + sel([...])` is always valid PromQL.
  sel(matchers)::
    local m = std.filter(function(x) x != null && x != '', matchers);
    if std.length(m) == 0 then '' else '{' + std.join(', ', m) + '}',

  // A service's probe series: the global probe selector and the service's own probeSelector.
  probeSel(config, s):: self.sel([config.probeSelector, s.probeSelector]),

  // A service's probeInterval in seconds (an error names the service's key).
  probeIntervalSeconds(s):: duration.seconds(s.probeInterval, '_config.services (%s).probeInterval' % s.name),

  // The per-service recording rules whose window is _config.rateInterval: the window is part of the
  // name, as node-mixin's `instance:node_cpu_utilisation:rate%(rateInterval)s` (rules/services.libsonnet
  // records them, the overview dashboard reads them).
  records(config):: {
    requestsRate: 'service:http_requests:rate' + config.rateInterval,
    errorsRatio: 'service:http_requests_errors:ratio_rate' + config.rateInterval,
    durationMean: 'service:http_request_duration_seconds:mean' + config.rateInterval,
  },

  // A service entry of _config.services with _config.serviceDefaults filled in.
  service(config, s):: config.serviceDefaults + s,

  // Services of one kind (http, smtp, postgres, redis, elasticsearch), defaults applied.
  servicesOfKind(config, kind)::
    [self.service(config, s) for s in config.services if s.kind == kind],

  // Services whose ServiceProbeFailing counts failed probes (seed 004: "alert after 2 failures"):
  // with _config.probeFailingAfterFailures > 0, those declaring the interval of their scheduled
  // probes (`probeInterval`, as in the probe exporter's targets).  The others wait probeFailingFor.
  countedProbeServices(config)::
    if config.probeFailingAfterFailures <= 0 then []
    else [
      s
      for s in [self.service(config, x) for x in config.services]
      if std.objectHas(s, 'probeInterval') && std.objectHas(s, 'probeSelector')
    ],

  // Seconds from a service's first failed probe until its ServiceProbeFailing fires: the N-1 probe
  // intervals until the N-th failure when counted, else probeFailingFor.
  probeFailingWait(config, name)::
    local counted = [s for s in self.countedProbeServices(config) if s.name == name];
    if counted == [] then duration.seconds(config.probeFailingFor, '_config.probeFailingFor')
    else (config.probeFailingAfterFailures - 1) * self.probeIntervalSeconds(counted[0]),

  // Give series without a `service` label service="unknown" so every alert carries one.
  withService(expr):: 'label_replace(%s, "service", "unknown", "service", "")' % expr,

  // runbookURLPattern takes `%(alert)s` or, as kubernetes-mixin's, a plain `%s`.
  runbookURL(config, alert)::
    local p = config.runbookURLPattern;
    if std.length(std.findSubstr('%(alert)s', p)) > 0 then p % { alert: alert }
    else if std.length(std.findSubstr('%s', p)) > 0 then p % [alert]
    else error '_config.runbookURLPattern: %s must contain %%(alert)s or %%s (the alert name)' % p,

  // Complete an alerting rule: severity/service labels, tenant labels from _config.extraAlertLabels,
  // runbook_url; drops an empty `for` (pint flags `for: 0s`).
  alert(config, a)::
    assert std.member(['critical', 'warning', 'info'], a.severity) : '%s: bad severity %s' % [a.alert, a.severity];
    {
      alert: a.alert,
      expr: a.expr,
    } + (if std.objectHas(a, 'for') && a['for'] != null && a['for'] != '' then { 'for': a['for'] } else {}) + {
      labels: { severity: a.severity } + (if std.objectHas(a, 'service') then { service: a.service } else {})
              + std.get(a, 'labels', {}) + config.extraAlertLabels,
      annotations: {
        summary: a.summary,
        description: a.description,
        runbook_url: $.runbookURL(config, a.alert),
      },
    },

  // A rule group; alerting rules go through alert() so callers pass the short form.
  group(config, name, rules, interval=null)::
    { name: name }
    + (if interval != null then { interval: interval } else {})
    + { rules: [if std.objectHas(r, 'severity') then $.alert(config, r) else r for r in rules] },

  // ruleFiles entry for one area: groups named in _config.disabledAlertGroups are left out, and an
  // area whose groups are all disabled produces no file at all.
  // Alerts named in _config.disabledAlerts are dropped one by one (e.g. Watchdog when kube-prometheus
  // has its own).
  // perTenant: with dashboards.tenantLabel set, the area's aggregations keep that label too (the
  // per-service recording rules: one traffic light per tenant, seed 001).
  ruleFile(config, area, groups, perTenant=false)::
    local rate = duration.seconds(config.rateInterval, '_config.rateInterval');
    local scrape = duration.seconds(config.scrapeInterval, '_config.scrapeInterval');
    assert rate >= 4 * scrape : '_config.rateInterval: %s is shorter than 4 x scrapeInterval (%s): rate() needs several samples in its window' % [config.rateInterval, config.scrapeInterval];
    local dropped = std.get(config, 'disabledAlerts', []);
    local trimmed = [g { rules: [r for r in g.rules if !std.member(dropped, std.get(r, 'alert', ''))] } for g in groups];
    local kept = [g for g in trimmed if !std.member(config.disabledAlertGroups, g.name) && std.length(g.rules) > 0];
    // showMultiCluster: every aggregation and vector match keeps clusterLabel, so one cluster's
    // series are never summed with, or matched against, another's (alerts carry the label and
    // Alertmanager groups by it).
    local keptLabels =
      (if config.showMultiCluster then [config.clusterLabel] else [])
      + (if perTenant && config.dashboards.tenantLabel != '' then [config.dashboards.tenantLabel] else []);
    local keep(expr) = std.foldl(promql.withGroupingLabel, keptLabels, expr);
    local scoped(g) =
      if keptLabels == [] then g
      else g { rules: [r { expr: keep(r.expr) } for r in g.rules] };
    if std.length(kept) == 0 then {} else { [area]: { groups: [scoped(g) for g in kept] } },
}
