// Rule helpers shared by alerts/ and rules/: selectors, runbook links, extra labels, group switches.
// Rule objects are written in the conventional order (alert, expr, for, labels, annotations);
// `make build` keeps that order in the YAML.
{
  // '{a="1", b="2"}' from a list of matcher strings, skipping empty ones; '' when none remain,
  // so `metric + sel([...])` is always valid PromQL.
  sel(matchers)::
    local m = std.filter(function(x) x != null && x != '', matchers);
    if std.length(m) == 0 then '' else '{' + std.join(', ', m) + '}',

  // A service entry of _config.services with _config.serviceDefaults filled in.
  service(config, s):: config.serviceDefaults + s,

  // Services of one kind (http, smtp, postgres, redis, elasticsearch), defaults applied.
  servicesOfKind(config, kind)::
    [self.service(config, s) for s in config.services if s.kind == kind],

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
  ruleFile(config, area, groups)::
    local dropped = std.get(config, 'disabledAlerts', []);
    local trimmed = [g { rules: [r for r in g.rules if !std.member(dropped, std.get(r, 'alert', ''))] } for g in groups];
    local kept = [g for g in trimmed if !std.member(config.disabledAlertGroups, g.name) && std.length(g.rules) > 0];
    if std.length(kept) == 0 then {} else { [area]: { groups: kept } },
}
