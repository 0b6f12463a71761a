// Normalises and validates one SLO (from _config.slos or imported from a Sloth/OpenSLO file).
// Every problem is a build error naming the SLO.  Input fields (see config.libsonnet):
//   service, name, objective (percent), period, description, labels, info,
//   sli: { events: { errorSelector | goodSelector | errorQuery | goodQuery, totalSelector | totalQuery } }
//      | { latency: { metric, selector, threshold, buckets } } | { raw: { errorRatioQuery } },
//   alerting: { tiers: { <tier>: bool }, page, ticket (bool: all tiers of that severity), nearlyExhausted,
//               absent (SLOMetricAbsent), pageSeverity, ticketSeverity, labels, annotations, pageLabels,
//               ticketLabels, pageAnnotations, ticketAnnotations, name (the spec's alert name, used
//               when sloDefaults.specAlertNames), absentName },
//   tiers (optional: replaces the default tier list; a tier: name, severity, long, short and budgetPercent,
//   or factor with optional `for` and labels), specTiers (an imported spec's own tiers: Pyrra's),
//   test: { good: [series], bad: [series] }.
local u = import 'util.libsonnet';

local nameRe(s) = std.length(s) > 0 && std.length(std.filter(
  function(c) !(std.member('abcdefghijklmnopqrstuvwxyz0123456789-_.', c) || std.member('ABCDEFGHIJKLMNOPQRSTUVWXYZ', c)),
  std.stringChars(s)
)) == 0;

{
  normalise(raw, defaults, where)::
    local id = std.get(raw, 'service', '?') + '-' + std.get(raw, 'name', '?');
    local fail(msg) = error 'SLO "%s" (%s): %s' % [id, where, msg];
    local need(f) = if std.objectHas(raw, f) then raw[f] else fail('missing field "%s"' % f);

    local service = need('service');
    local name = need('name');
    local objective = need('objective');
    local period = std.get(raw, 'period', defaults.period);
    local periodSeconds = u.seconds(period);
    local micros = u.objectiveMicros(objective);
    local budget = (100 * 1e6 - micros) / (100 * 1e6);

    local alerting = { tiers: {}, page: true, ticket: true, nearlyExhausted: true, absent: true, labels: {}, annotations: {}, pageLabels: {}, ticketLabels: {}, pageAnnotations: {}, ticketAnnotations: {} }
                     + { pageSeverity: defaults.pageSeverity, ticketSeverity: defaults.ticketSeverity }
                     + std.get(raw, 'alerting', {});
    // An imported spec's own tiers (Pyrra's windows, `specTiers`) unless sloDefaults.specTiers is false.
    local tierSpecs = std.get(raw,
                              'tiers',
                              if std.objectHas(raw, 'specTiers') && std.get(defaults, 'specTiers', true) then raw.specTiers
                              else defaults.tiers);

    // A tier is "spend budgetPercent of the period's budget within `long`" (the factor is derived and
    // short = long / 12, the workbook's), or states its `factor` as its tool does (Pyrra's: any short
    // window below the long one, a `for` and labels of its own).
    local tier(t) =
      local long = u.seconds(t.long);
      local short = u.seconds(t.short);
      local given = std.objectHas(t, 'factor');
      local factor = if given then t.factor else t.budgetPercent * periodSeconds / (100 * long);
      local holdSeconds = if std.objectHas(t, 'for') then u.seconds(t['for']) else 0;
      if long == null then fail('tier %s: long window "%s" is not a duration' % [t.name, t.long])
      else if short == null then fail('tier %s: short window "%s" is not a duration' % [t.name, t.short])
      else if !given && !std.objectHas(t, 'budgetPercent') then fail('tier %s: needs budgetPercent (or factor)' % t.name)
      else if !given && short * 12 != long then
        fail('tier %s: short window %s must be the long window %s / 12 (= %ss)' % [t.name, t.short, t.long, long / 12])
      else if short >= long then fail('tier %s: short window %s is not shorter than the long window %s' % [t.name, t.short, t.long])
      else if holdSeconds == null then fail('tier %s: for "%s" is not a duration like 15m' % [t.name, t['for']])
      else if long >= periodSeconds then fail('tier %s: long window %s is not shorter than the period %s' % [t.name, t.long, period])
      else if !std.member(['page', 'ticket'], t.severity) then fail('tier %s: severity must be page or ticket' % t.name)
      else t {
        longSeconds: long,
        shortSeconds: short,
        forSeconds: holdSeconds,
        budgetPercent: if given then factor * long * 100 / periodSeconds else t.budgetPercent,
        factor: factor,
        factorStr: u.fmt(factor),
        threshold: factor * budget,
        thresholdExpr: '(' + u.fmt(factor) + ' * ' + u.fmt(budget) + ')',
        enabled: std.get(alerting.tiers, t.name, alerting[t.severity]),
        alertSeverity: if t.severity == 'page' then alerting.pageSeverity else alerting.ticketSeverity,
        extraLabels: (if t.severity == 'page' then alerting.pageLabels else alerting.ticketLabels) + std.get(t, 'labels', {}),
        extraAnnotations: if t.severity == 'page' then alerting.pageAnnotations else alerting.ticketAnnotations,
        // Time to detect a full outage (100% errors): the long window's ratio must reach the threshold.
        outageDetectionSeconds: factor * budget * long,
        // Time the whole budget lasts at exactly this burn rate.
        exhaustionSeconds: periodSeconds / factor,
      };

    local sli = need('sli');
    local events = std.get(sli, 'events', null);
    local latency = std.get(sli, 'latency', null);
    local rawSli = std.get(sli, 'raw', null);
    local rateOf(sel) = 'sum(rate(' + sel + '[{{.window}}]))';

    local eventsSli =
      local total = if std.objectHas(events, 'totalQuery') then events.totalQuery
      else if std.objectHas(events, 'totalSelector') then rateOf(events.totalSelector)
      else fail('sli.events needs totalSelector or totalQuery');
      local err = if std.objectHas(events, 'errorQuery') then events.errorQuery
      else if std.objectHas(events, 'errorSelector') then rateOf(events.errorSelector)
      else null;
      local good = if std.objectHas(events, 'goodQuery') then events.goodQuery
      else if std.objectHas(events, 'goodSelector') then rateOf(events.goodSelector)
      else null;
      if err == null && good == null then fail('sli.events needs errorSelector/errorQuery or goodSelector/goodQuery')
      else {
        kind: 'events',
        totalQuery: total,
        // A missing error series counts as zero errors; a missing good series as zero good events.
        errorQuery: if err != null then '(' + err + ' or (0 * ' + total + '))'
        else '(' + total + ' - (' + good + ' or (0 * ' + total + ')))',
        selectors: {
          total: std.get(events, 'totalSelector', null),
          err: std.get(events, 'errorSelector', null),
          good: std.get(events, 'goodSelector', null),
        },
      };

    local latencySli =
      local buckets = std.get(latency, 'buckets', defaults.latencyBuckets);
      local thr = latency.threshold;
      local thrStr = u.fmt(thr);
      // Prometheus 2 keeps the exposed form ('1'), Prometheus 3 normalises to '1.0': match both.
      local leForms = if std.length(std.findSubstr('.', thrStr)) > 0 then [thrStr] else [thrStr, thrStr + '.0'];
      local leRe = std.join('|', [std.strReplace(f, '.', '\\\\.') for f in leForms]);
      local sel = std.get(latency, 'selector', '');
      local join(a, b) = if a == '' then b else a + ', ' + b;
      local total = rateOf(latency.metric + '_count{' + sel + '}');
      local good = rateOf(latency.metric + '_bucket{' + join(sel, 'le=~"' + leRe + '"') + '}');
      if !std.member([u.fmt(b) for b in buckets], thrStr) then
        fail('sli.latency threshold %s is not one of the histogram buckets [%s]'
             % [thrStr, std.join(', ', [u.fmt(b) for b in buckets])])
      else {
        kind: 'latency',
        totalQuery: total,
        // Requests slower than the threshold; a missing threshold bucket counts every request as slow.
        errorQuery: '(' + total + ' - (' + good + ' or (0 * ' + total + ')))',
        metric: latency.metric,
        selector: sel,
        threshold: thr,
        buckets: [b for b in buckets if b != 'Inf'],
        leForms: leForms,
      };

    local normalisedTiers = [tier(t) for t in tierSpecs];
    local windows = std.uniq(std.sort(
      ['5m'] + std.flattenArrays([[t.short, t.long] for t in normalisedTiers]),
      function(w) u.seconds(w)
    ), function(w) u.seconds(w));

    if !nameRe(service) then fail('service must be a non-empty label-safe name')
    else if !nameRe(name) then fail('name must be a non-empty label-safe name')
    else if std.type(objective) != 'number' then fail('objective must be a number (percent)')
    else if objective >= 100 || objective <= 0 then
      fail('objective %s%% must be above 0 and below 100 (a 100%% objective has no error budget)' % u.fmt(objective))
    else if periodSeconds == null then fail('period "%s" is not a duration like 30d or 4w' % period)
    else if std.length([k for k in std.objectFields(sli) if std.member(['events', 'latency', 'raw'], k)]) != 1 then
      fail('sli needs exactly one of "events", "latency", "raw"')
    else if rawSli != null && std.length(std.findSubstr('{{.window}}', std.strReplace(rawSli.errorRatioQuery, ' ', ''))) == 0 then
      fail('sli.raw.errorRatioQuery needs a {{.window}} placeholder')
    else if std.length(std.setDiff(std.set(std.objectFields(alerting.tiers)), std.set([t.name for t in tierSpecs]))) > 0 then
      fail('alerting.tiers names unknown tiers %s (known: %s)'
           % [std.setDiff(std.set(std.objectFields(alerting.tiers)), std.set([t.name for t in tierSpecs])), [t.name for t in tierSpecs]])
    else {
      id: id,
      service: service,
      name: name,
      where: where,
      source: std.get(raw, 'source', 'infrawatch/v1'),
      description: std.get(raw, 'description', ''),
      objective: objective,
      objectiveStr: u.fmt(objective),
      objectiveRatioStr: u.fmt(micros / (100 * 1e6)),
      budget: budget,
      budgetStr: u.fmt(budget),
      period: period,
      periodSeconds: periodSeconds,
      periodDaysStr: u.fmt(periodSeconds / 86400),
      // The period's window as Sloth (and Prometheus) name it: 28d -> 4w, 7d -> 1w, 30d -> 30d.
      periodWindow: u.promDuration(periodSeconds),
      labels: std.get(raw, 'labels', {}),
      info: std.get(raw, 'info', {}),
      sli: if events != null then eventsSli else if rawSli != null then { kind: 'raw', errorRatioQuery: rawSli.errorRatioQuery }
      else latencySli,
      tiers: normalisedTiers,
      windows: windows,
      alerting: alerting,
      nearlyExhausted: {
        enabled: alerting.nearlyExhausted,
        percent: defaults.budgetExhaustedPercent,
        remaining: u.fmt((100 - defaults.budgetExhaustedPercent) / 100),
      },
      test: std.get(raw, 'test', null),
      ids: { sloth_id: id, sloth_service: service, sloth_slo: name },
      // Alert names: infrawatch's, or the spec's (Sloth alerting.name, Pyrra alerting.name) where
      // sloDefaults.specAlertNames is set, for teams whose routes and silences key on those names.
      burnAlertName: if std.get(defaults, 'specAlertNames', false) && std.objectHas(alerting, 'name') then alerting.name
      else 'SLOErrorBudgetBurn',
      absentAlertName: std.get(alerting, 'absentName', 'SLOMetricAbsent'),
    },
}
