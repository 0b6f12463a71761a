// A job or target that vanished from service discovery makes no series at all, so no alert about
// it can fire: TargetsAbsent (scrape targets) and ProbesAbsent (probe results) notice (absent(), as
// kubernetes-mixin's absent alerts do).  One rule per
// series the other areas need: each service's `up` (upSelector / exporterSelector) and probe results
// (probeSelector), the hosts' node_exporter and the infrawatch exporters.  Down targets still have an
// `up` series (0): they are the down alerts' business, not this one's.
local r = import '../lib/rules.libsonnet';

{
  local c = $._config,
  local svc = [r.service(c, s) for s in c.services],
  local required =
    [
      { service: s.name, title: s.title, metric: 'up', selector: r.sel([s.upSelector]), what: 'the application targets' }
      for s in svc
      if std.objectHas(s, 'upSelector')
    ]
    + [
      { service: s.name, title: s.title, metric: 'up', selector: r.sel([s.exporterSelector]), what: 'the exporter targets' }
      for s in svc
      if std.objectHas(s, 'exporterSelector')
    ]
    + [
      { alert: 'ProbesAbsent', service: s.name, title: s.title, metric: 'probe_success', selector: r.probeSel(c, s), what: 'its probe targets' }
      for s in svc
      if std.objectHas(s, 'probeSelector')
    ]
    + [
      { service: c.nodeService, title: 'Hosts', metric: 'up', selector: r.sel([c.nodeSelector]), what: 'node_exporter' },
      { service: c.pipelineService, title: 'infrawatch', metric: 'up', selector: r.sel([c.infrawatchSelector]), what: 'the infrawatch exporters', severity: c.exporterDownSeverity },
    ],

  ruleFiles+:: r.ruleFile(c, 'absent', [
    r.group(c, 'infrawatch-absent', [
      {
        alert: std.get(t, 'alert', 'TargetsAbsent'),
        expr: 'absent(%s%s)' % [t.metric, t.selector],
        'for': c.absentFor,
        severity: std.get(t, 'severity', c.absentSeverity),
        service: t.service,
        summary: if std.get(t, 'alert', '') == 'ProbesAbsent' then 'A service has no probe results.' else 'Monitored targets have vanished.',
        description: '%s (%s): no %s%s series for %s: %s vanished from service discovery or changed labels, so their alerts cannot fire.' % [t.title, t.service, t.metric, t.selector, c.absentFor, t.what],
      }
      for t in required
    ]),
  ]),
}
