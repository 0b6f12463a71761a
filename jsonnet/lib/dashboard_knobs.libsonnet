// The dashboard knobs every dashboard gets, applied after the dashboards are written (mixin.libsonnet):
// title prefix, the multi-cluster `cluster` variable, the tenant variable and the rate interval.
// A dashboard file needs nothing for them: its queries are rewritten (lib/promql.libsonnet).
local lib = import 'dashboards.libsonnet';
local promql = import 'promql.libsonnet';

function(c)
  local d = c.dashboards;
  local cluster = if c.showMultiCluster then [{
    variable: lib.queryVariable('cluster', 'Cluster', 'label_values(up, %s)' % c.clusterLabel),
    matcher: '%s=~"$cluster"' % c.clusterLabel,
  }] else [];
  // The tenant list follows the chosen cluster.
  local tenantQuery = promql.variableWithMatchers(
    'label_values(%s, %s)' % [d.tenantVariableMetric, d.tenantLabel], std.join(', ', [s.matcher for s in cluster])
  );
  local tenant = if d.tenantLabel != '' then [{
    variable: lib.queryVariable('tenant', 'Tenant', tenantQuery),
    matcher: '%s=~"$tenant"' % d.tenantLabel,
  }] else [];
  local rate(expr) =
    if d.rateInterval == '$__rate_interval' then expr
    else std.strReplace(expr, '[$__rate_interval]', '[%s]' % d.rateInterval);
  {
    // The variables (and matchers) of one dashboard: the tenant only on dashboards.tenantDashboards.
    scopes(name):: cluster + (if std.member(d.tenantDashboards, name) then tenant else []),

    apply(name, dash)::
      local scopes = self.scopes(name);
      local matchers = std.join(', ', [s.matcher for s in scopes]);
      local expr(e) = promql.withMatchers(rate(e), matchers);
      local target(t) = if std.objectHas(t, 'expr') then t { expr: expr(t.expr) } else t;
      local panel(p) =
        p
        + (if std.objectHas(p, 'targets') then { targets: [target(t) for t in p.targets] } else {})
        + (if std.objectHas(p, 'panels') then { panels: [panel(q) for q in p.panels] } else {});
      local variable(v) =
        if v.type == 'query' then v { query: promql.variableWithMatchers(v.query, matchers), definition: self.query }
        else v;
      local vars = dash.templating.list;
      if matchers == '' && d.rateInterval == '$__rate_interval' && d.titlePrefix == '' then dash
      else dash {
        title: d.titlePrefix + dash.title,
        panels: [panel(p) for p in dash.panels],
        // datasource first, then cluster / tenant, then the dashboard's own variables (filtered by them).
        templating+: { list: [v for v in vars if v.type != 'query'] + [s.variable for s in scopes] + [variable(v) for v in vars if v.type == 'query'] },
      },
  }
