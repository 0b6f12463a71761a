// promtool tests generated for every SLO and tier, with the expected alerts computed here.
//
// Input series are synthesised from the SLI (good/bad events as counters; latency as a classic
// histogram whose good events land in the threshold bucket and bad ones in the next).  A scenario
// is a list of phases of constant traffic and error ratio; the model below computes, from the same
// phases, the windowed error ratios Prometheus will see (samples sit exactly on window edges, so
// rate() needs no extrapolation) and hence which tiers fire at each evaluation.  Evaluation times
// where a ratio sits within 2% of a threshold are refused, so no test depends on rounding.
local rulesLib = import 'rules.libsonnet';
local u = import 'util.libsonnet';

local eventsPerMinute = 1000;
local margin = 0.02;

// ---- Synthetic input series --------------------------------------------------------------
// [{ series, good, bad }]: the counter grows by good*goodEvents + bad*badEvents.
local matchersLabels(ms, satisfy) = { [m.label]: u.valueFor(m, satisfy) for m in ms };

local eventsSynth(slo) =
  local s = slo.sli.selectors;
  if s.total == null || (s.err == null && s.good == null) then null
  else
    local total = u.parseSelector(s.total);
    local part = u.parseSelector(if s.err != null then s.err else s.good);
    local partIsBad = s.err != null;
    local same(m) = std.length([t for t in total.matchers if t == m]) > 0;
    local base = matchersLabels(total.matchers, true);
    local inPart = base + matchersLabels(part.matchers, true);
    local outOfPart = base + matchersLabels([m for m in part.matchers if !same(m)], false);
    if total.metric == part.metric then [
      { series: u.series(total.metric, inPart), good: if partIsBad then 0 else 1, bad: if partIsBad then 1 else 0 },
      { series: u.series(total.metric, outOfPart), good: if partIsBad then 1 else 0, bad: if partIsBad then 0 else 1 },
    ] else [
      { series: u.series(total.metric, base), good: 1, bad: 1 },
      { series: u.series(part.metric, inPart), good: if partIsBad then 0 else 1, bad: if partIsBad then 1 else 0 },
    ];

// leStyle 'prom2': bounds as client libraries write them ('1'); 'prom3': normalised ('1.0').
local leString(b, leStyle) =
  local s = u.fmt(b);
  if leStyle == 'prom3' && std.length(std.findSubstr('.', s)) == 0 then s + '.0' else s;

local latencySynth(slo, leStyle) =
  local l = slo.sli;
  local base = matchersLabels(u.parseSelector('x{' + l.selector + '}').matchers, true);
  [
    {
      series: u.series(l.metric + '_bucket', base { le: leString(b, leStyle) }),
      good: if b >= l.threshold then 1 else 0,
      bad: if b > l.threshold then 1 else 0,
    }
    for b in l.buckets
  ] + [
    { series: u.series(l.metric + '_bucket', base { le: '+Inf' }), good: 1, bad: 1 },
    { series: u.series(l.metric + '_count', base), good: 1, bad: 1 },
  ];

// `test: { good: [series], bad: [series] }` in the spec overrides the derivation (any SLI kind).
local synth(slo, leStyle='prom2') =
  if slo.test != null then
    [{ series: x, good: 1, bad: 0 } for x in std.get(slo.test, 'good', [])]
    + [{ series: x, good: 0, bad: 1 } for x in std.get(slo.test, 'bad', [])]
  else if slo.sli.kind == 'events' then eventsSynth(slo)
  else if slo.sli.kind == 'latency' then latencySynth(slo, leStyle)
  else null;

// ---- Scenarios and the model ----------------------------------------------------------------
// phase: { minutes, ratio (error ratio), traffic (default true), reset (counters restart) }.
local phase(minutes, ratio, traffic=true, reset=false) = { minutes: minutes, ratio: ratio, traffic: traffic, reset: reset };

local perStep(p, step) = {
  good: if p.traffic then eventsPerMinute * step * (1 - p.ratio) else 0,
  bad: if p.traffic then eventsPerMinute * step * p.ratio else 0,
};

// promtool expanding notation: one 'a+bxn' segment per phase, starting from 0.
local values(s, phases, step) =
  local seg(acc, p) =
    local inc = s.good * perStep(p, step).good + s.bad * perStep(p, step).bad;
    local n = p.minutes / step;
    local v0 = if p.reset then 0 else acc.v;
    { v: v0 + inc * n, out: acc.out + [u.fmt(v0 + inc) + '+' + u.fmt(inc) + 'x' + std.toString(n - 1)] };
  std.join(' ', std.foldl(seg, phases, { v: 0, out: ['0'] }).out);

// The phases with their start sample and the cumulative events before them, computed once per test.
local prepare(phases, step) =
  std.foldl(function(acc, p)
    local n = p.minutes / step;
    local last = if acc == [] then { start: 0, n: 0, good: 0, bad: 0, cumGood: 0, cumBad: 0 } else acc[std.length(acc) - 1];
    acc + [{
      start: last.start + last.n,
      n: n,
      good: perStep(p, step).good,
      bad: perStep(p, step).bad,
      cumGood: last.cumGood + last.n * last.good,
      cumBad: last.cumBad + last.n * last.bad,
    }], if std.length(phases) > 4 then error 'at most 4 phases per scenario' else phases, []);

// Cumulative [good, bad] events at sample k (increases only: rate() undoes counter resets).
// Unrolled over at most four phases: this runs thousands of times per build.
local cumulative(ph, k) =
  local n = std.length(ph);
  local p = if n > 3 && k > ph[3].start then ph[3] else if n > 2 && k > ph[2].start then ph[2]
  else if n > 1 && k > ph[1].start then ph[1] else ph[0];
  local used = if k <= p.start then 0 else if k - p.start > p.n then p.n else k - p.start;
  [p.cumGood + used * p.good, p.cumBad + used * p.bad];

// Error ratio over the `w` steps ending at sample k (0 without traffic, like the guarded rules).
local windowRatio(ph, k, w) =
  local a = cumulative(ph, k);
  local b = cumulative(ph, if k > w then k - w else 0);
  local total = (a[0] + a[1]) - (b[0] + b[1]);
  if total == 0 then 0 else (a[1] - b[1]) / total;

// Period ratio as the rules compute it: the sum of the recorded 5m increases since the first
// evaluation, which telescopes to the sum of the last w cumulative counts (w = 5m in steps).
local periodRatio(ph, step, k) =
  local w = if step >= 5 then 1 else 5 / step;
  local cs = [cumulative(ph, i) for i in std.range(if k - w + 1 > 1 then k - w + 1 else 1, k)];
  local bad = std.foldl(function(a, c) a + c[1], cs, 0);
  local total = std.foldl(function(a, c) a + c[0] + c[1], cs, 0);
  if total == 0 then 0 else bad / total;

local minutes(d) = u.seconds(d) / 60;

local near(x, thr) = std.abs(x - thr) < margin * thr;

{
  synth:: synth,

  files(slo, config)::
    // Synthesised once per SLO and style (selector parsing is the slow part of generation).
    local synthBy = { prom2: synth(slo, 'prom2'), prom3: synth(slo, 'prom3') };
    local series0 = synthBy.prom2;
    local ruleFile = config.sloTestRulesDir + 'slo-' + slo.id + '.yaml';
    local who = slo.service + ' SLO ' + slo.name;
    local seriesLabels = slo.labels + slo.ids;
    local enabled = [t for t in slo.tiers if t.enabled];
    local stepOf(t) = if t.longSeconds <= 6 * 3600 then 1 else 5;
    local fast = [t for t in enabled if stepOf(t) == 1];
    local slow = [t for t in enabled if stepOf(t) == 5];

    // min(long, short) window ratio of every enabled tier at sample k: a tier fires above its threshold
    // (a tier with a `for` once that held at each evaluation of its `for` as well).
    local minRatios(ph, step, k) = [
      std.foldl(std.min, [
        std.min(windowRatio(ph, k - i, t.longSeconds / 60 / step), windowRatio(ph, k - i, t.shortSeconds / 60 / step))
        for i in std.range(0, std.ceil(t.forSeconds / 60 / step))
      ], 1)
      for t in enabled
    ];
    // The expected alert of each tier, built once per SLO.
    local tierAlerts = [
      {
        exp_labels: seriesLabels + rulesLib.burnLabels(slo, t, config),
        exp_annotations: rulesLib.burnAnnotations(slo, t, config, who),
      }
      for t in enabled
    ];
    local burnAlerts(ms) = [tierAlerts[i] for i in std.range(0, std.length(enabled) - 1) if ms[i] > enabled[i].threshold];
    local exhaustedAlert = {
      exp_labels: seriesLabels + rulesLib.exhaustedLabels(slo, config),
      exp_annotations: rulesLib.exhaustedAnnotations(slo, config, who),
    };
    // Share of the period the data covers at sample k: the first 5m rate exists one step in.
    local coverage(step, k) = std.min(1, std.max(0, (k - 1) * step) / (slo.periodSeconds / 60));
    // Share of the period's budget spent, as slo:period_error_budget_remaining:ratio computes it.
    local spent(ph, step, k) = periodRatio(ph, step, k) / slo.budget * coverage(step, k);
    local exhaustedAlerts(ph, step, k) =
      if !slo.nearlyExhausted.enabled || spent(ph, step, k) <= slo.nearlyExhausted.percent / 100 then []
      else [exhaustedAlert];
    local exhaustedDecidable(ph, step, k) = !near(spent(ph, step, k), slo.nearlyExhausted.percent / 100);

    // One promtool test: input series for `phases`, alert checks at each of `evalMinutes`.
    local test(name, phases, step, evalMinutes, checkExhausted=false, leStyle='prom2', dropErrorSeries=false, exprTests=[], direction={}) = {
      local ss = [
        s
        for s in synthBy[leStyle]
        if !(dropErrorSeries && s.good == 0 && s.bad == 1)
      ],
      name: slo.id + ': ' + name,
      interval: std.toString(step) + 'm',
      input_series: [{ series: s.series, values: values(s, phases, step) } for s in ss],
      // An evaluation time moves by up to 10 steps (nearest first) when some tier sits too close to
      // its threshold there; the scenarios leave the focused tier's state unchanged over that span.
      local ph = prepare(phases, step),
      local clear(ms) = std.all([!near(ms[i], enabled[i].threshold) for i in std.range(0, std.length(enabled) - 1)]),
      // direction: { '<minute>': -1 | 1 } restricts that evaluation time to moving earlier / later.
      local offsetsFor(m) =
        local d = std.get(direction, std.toString(m), 0);
        if d == 0 then std.flattenArrays([[i, -i] for i in std.range(0, 10)]) else [d * i for i in std.range(0, 10)],
      local settle(m, i=0) =
        local offsets = offsetsFor(m);
        if i == std.length(offsets) then
          error 'SLO "%s": test "%s": no evaluation time near %dm is clear of the thresholds' % [slo.id, name, m]
        else
          local k = m / step + offsets[i];
          local ms = if k > 0 then minRatios(ph, step, k) else null;
          if ms != null && clear(ms) then { k: k, ms: ms } else settle(m, i + 1),
      alert_rule_test: std.flattenArrays([
        [{
          eval_time: std.toString(e.k * step) + 'm',
          alertname: slo.burnAlertName,
          exp_alerts: burnAlerts(e.ms),
        }] + (
          if checkExhausted && slo.nearlyExhausted.enabled && exhaustedDecidable(ph, step, e.k) then [{
            eval_time: std.toString(e.k * step) + 'm',
            alertname: 'SLOErrorBudgetNearlyExhausted',
            exp_alerts: exhaustedAlerts(ph, step, e.k),
          }] else []
        )
        for e in std.set([settle(m) for m in evalMinutes], function(e) e.k)
      ]),
      [if exprTests != [] then 'promql_expr_test']: exprTests,
    };

    // Expected value of a recorded series of this SLO.
    local sample(record, window, value, at) = {
      expr: record + rulesLib.sliSelector(slo),
      eval_time: at,
      exp_samples: [{
        labels: u.series(record, seriesLabels + (if window != null then { sloth_window: window } else {})),
        value: value,
      }],
    };

    local tierTests(t) =
      local step = stepOf(t);
      local w = minutes(t.long);
      local s = minutes(t.short);
      local phasesAt(k) = [phase(w, 0), phase(w + s, k * t.threshold)];
      if 1.05 * t.threshold >= 1 then std.trace('SLO %s: tier %s can never fire (threshold %s >= 100%% errors)'
                                                % [slo.id, t.name, u.fmt(t.threshold)], [])
      else [
        test(t.name + ' tier: error ratio at 0.95x its threshold stays silent',
             phasesAt(0.95),
             step,
             [w + w * 9 / 10, w + w + s]),
        test(t.name + ' tier: error ratio at 1.05x its threshold fires within the long window',
             phasesAt(1.05),
             step,
             [w + w * 9 / 10, w + w + s],
             leStyle='prom3'),
      ];

    // Full outage after healthy traffic as long as the tiers' longest window: each tier fires at the
    // first evaluation after its detection time (budget share x long window at 100% errors), not
    // one evaluation earlier.
    local outageTest(tiers, step) =
      local lead = std.foldl(function(m, t) std.max(m, minutes(t.long)), tiers, 60);
      local detect = [std.ceil(t.outageDetectionSeconds / 60 / step) * step + std.ceil(t.forSeconds / 60 / step) * step for t in tiers];
      local before = std.set([lead + d - step for d in detect if d > step]);
      local after = std.set([lead + d for d in detect]);
      local longest = std.foldl(std.max, detect, 0);
      test('full outage: each tier fires within its detection time',
           [phase(lead, 0), phase(std.max(60, longest + 12 * step), 1)],
           step,
           before + after,
           leStyle='prom3',
           // A "still silent" time may only move earlier, a "fired" time only later.
           direction={ [std.toString(m)]: -1 for m in before } + { [std.toString(m)]: 1 for m in after });

    // A tier whose full-outage detection takes one evaluation at most has no "silent one evaluation
    // before" in the outage test.  Its bracket: an error ratio at which the long window crosses the
    // threshold 9.5 evaluations in (ratio 0.947x one evaluation before, 1.053x at it), so a wrong long
    // window, factor or `for` moves the firing evaluation out of the bracket.
    local bracketTest(t) =
      local step = stepOf(t);
      local w = minutes(t.long);
      local ratio = t.threshold * w / (9.5 * step);
      local hold = std.ceil(t.forSeconds / 60 / step) * step;
      local before = w + 9 * step + hold;
      local after = w + 10 * step + hold;
      test(t.name + ' tier: detection bracket: silent one evaluation before its detection time, firing at it',
           [phase(w, 0), phase(10 * step + hold + 12 * step, ratio)],
           step,
           [before, after],
           direction={ [std.toString(before)]: -1, [std.toString(after)]: 1 });
    local bracketTests(tiers, step) = [
      bracketTest(t)
      for t in tiers
      if std.ceil(t.outageDetectionSeconds / 60 / step) <= 1
    ];

    // An outage of `minutes` then healthy traffic: tiers resolve once their short window is clean.
    // Each tier is still firing one evaluation before its short window is clean (a short window that
    // is too short resolves early) and silent one evaluation after.
    local recoveryTest(tiers, step, outage) =
      local after = std.set([minutes(t.short) + step for t in tiers]);
      local stillFiring = std.set([60 + outage + minutes(t.short) - step for t in tiers]);
      test('recovery: tiers resolve once their short window is clean again',
           [phase(60, 0), phase(outage, 1), phase(std.max(after[std.length(after) - 1], 60), 0)],
           step,
           [60 + outage] + stillFiring + [60 + outage + a for a in after],
           direction={ [std.toString(m)]: -1 for m in stillFiring });

    // The SLI's series stop after 30 minutes: the recorded 5m rate is gone from minute 34 (35 with
    // Prometheus 2's closed range start), so the absent alert, held for `absentFor`, is silent one
    // evaluation before the earlier and firing at the later of the two.
    local absentFor = minutes(std.get(config.sloDefaults, 'absentFor', '10m'));
    local absentTest = {
      name: slo.id + ': SLI series stop: ' + slo.absentAlertName + ' fires ' + absentFor + ' minutes after the 5m rate is gone',
      interval: '1m',
      input_series: [{ series: x.series, values: values(x, [phase(30, 0)], 1) } for x in series0],
      alert_rule_test: [
        { eval_time: std.toString(m) + 'm', alertname: slo.absentAlertName, exp_alerts: [] }
        for m in [30, 34 + absentFor - 1]
      ] + [{
        eval_time: std.toString(35 + absentFor) + 'm',
        alertname: slo.absentAlertName,
        exp_alerts: [{
          exp_labels: rulesLib.absentLabels(slo, config),
          exp_annotations: rulesLib.absentAnnotations(slo, config, who),
        }],
      }],
    };

    local longest = std.foldl(function(m, t) std.max(m, minutes(t.long)), enabled, 60);
    local healthyStep = if slow != [] then 5 else 1;
    // Healthy traffic burns half the budget rate, unless a tier fires that low (e.g. seed 002's
    // burn-rate 0.5 ticket): then half the lowest tier's threshold, so no evaluation sits on one.
    local lowestFactor = std.foldl(function(m, t) std.min(m, t.factor), enabled, 1);
    local healthyBurn = if lowestFactor > 0.75 then 0.5 else lowestFactor / 2;
    local healthyRatio = healthyBurn * slo.budget;
    local healthyName = if healthyBurn == 0.5 then 'half the budget rate' else u.fmt(healthyBurn) + 'x the budget rate';
    local limit = slo.nearlyExhausted.percent / 100;

    local fastTests =
      (if fast != [] then
         [outageTest(fast, 1)] + bracketTests(fast, 1) + [recoveryTest(fast, 1, 10)]
         + std.flattenArrays([tierTests(t) for t in fast])
       else [])
      + [
        test('zero traffic: no alert and no NaN in the budget series',
             [phase(120, 0, traffic=false)],
             1,
             [60, 120],
             checkExhausted=true,
             exprTests=[
               sample('slo:sli_error:ratio_rate5m', '5m', 0, '2h'),
               sample('slo:sli_error:ratio_rate1h', '1h', 0, '2h'),
               sample('slo:sli_error:ratio_rate' + slo.periodWindow, slo.periodWindow, 0, '2h'),
               sample('slo:period_error_budget_remaining:ratio', slo.periodWindow, 1, '2h'),
               // The constants the burn thresholds are made of (a changed objective or period fails here).
               sample('slo:objective:ratio', null, std.parseJson(slo.objectiveRatioStr), '2h'),
               sample('slo:error_budget:ratio', null, std.parseJson(slo.budgetStr), '2h'),
               sample('slo:time_period:days', null, slo.periodSeconds / 86400, '2h'),
             ]),
        test('counter reset mid-window: no spurious alert',
             [phase(60, healthyRatio), phase(60, healthyRatio, reset=true)],
             1,
             [61, 65, 90, 120],
             checkExhausted=true,
             // Every window spans the reset at 90m and still reads the healthy burn rate (half the budget rate).
             exprTests=[
               {
                 expr: 'round(slo:sli_error:ratio_rate' + w + rulesLib.sliSelector(slo) + ' / ' + slo.budgetStr + ', 0.001)',
                 eval_time: '90m',
                 exp_samples: [{ labels: u.series('', seriesLabels { sloth_window: w }), value: healthyBurn }],
               }
               for w in std.set([t.short for t in enabled] + [t.long for t in enabled] + [slo.periodWindow])
             ]),
      ]
      + (if slo.sli.kind == 'events' then [
           test('missing error series counts as zero errors',
                [phase(120, 0)],
                1,
                [60, 120],
                checkExhausted=true,
                dropErrorSeries=true,
                exprTests=[
                  sample('slo:sli_error_events:rate5m', '5m', 0, '2h'),
                  sample('slo:sli_error:ratio_rate5m', '5m', 0, '2h'),
                  sample('slo:sli_error:ratio_rate1h', '1h', 0, '2h'),
                ]),
         ] else [])
      + (if slo.alerting.absent then [absentTest] else [])
      + (if slo.nearlyExhausted.enabled then [
           // The SLO is 6 hours old: a 10-minute full outage spends a small share of the period's
           // budget, so no budget warning (the period ratio alone would say "more than 90% spent").
           test('born 6 hours ago: a 10-minute outage raises no budget warning',
                [phase(350, 0), phase(10, 1)],
                1,
                [360],
                checkExhausted=true),
         ] else []);

    // Budget warning over 2 days of data (5m steps): error ratios that spend a given share of the
    // period's budget once weighted by the 2 days' coverage of the period.
    local budgetMinutes = 2 * 1440;
    local ratioSpending(share) = share * slo.budget / coverage(5, budgetMinutes / 5);
    local budgetTests =
      if !slo.nearlyExhausted.enabled then [] else
        local quiet = limit * 0.9;
        local loud = limit + (1 - limit) * 0.7;
        [
          test(u.fmt(quiet * 100) + '% of the budget spent in 2 days: no budget warning',
               [phase(budgetMinutes, ratioSpending(quiet))],
               5,
               [budgetMinutes],
               checkExhausted=true),
        ] + (if ratioSpending(loud) < 1 then [
               test(u.fmt(loud * 100) + '% of the budget spent in 2 days: budget warning fires',
                    [phase(budgetMinutes, ratioSpending(loud))],
                    5,
                    [budgetMinutes],
                    checkExhausted=true),
             ] else []);

    // Over the full period (30m evaluations): errors in the first tenth of the period spend 95% of
    // its budget, so the warning fires one hour before the period ends (a period ratio over a shorter
    // window has lost those errors by then) and is silent a day after they left the window (a longer
    // window still holds them).
    local periodTest =
      local P = slo.periodSeconds / 60;
      local E = std.floor(P / 10 / 30) * 30;
      local ratio = 0.95 * P * slo.budget / E;
      local end = P - 60;
      local gone = P + E + 1440;
      if !slo.nearlyExhausted.enabled || E == 0 || ratio >= 1 then [] else [{
        name: slo.id + ': full period: errors of the first ' + u.fmt(E / 1440) + ' days spend 95% of the budget',
        interval: '5m',
        input_series: [{ series: x.series, values: values(x, [phase(E, ratio), phase(gone - E, 0)], 5) } for x in series0],
        alert_rule_test: [
          { eval_time: std.toString(end) + 'm', alertname: 'SLOErrorBudgetNearlyExhausted', exp_alerts: [exhaustedAlert] },
          { eval_time: std.toString(gone) + 'm', alertname: 'SLOErrorBudgetNearlyExhausted', exp_alerts: [] },
        ],
      }];

    local slowTests =
      if slow == [] then [] else
        [outageTest(slow, 5)] + bracketTests(slow, 5) + [recoveryTest(slow, 5, 30)]
        + std.flattenArrays([tierTests(t) for t in slow]);
    local slowFile = slowTests + budgetTests;

    local healthy = test('steady healthy traffic (' + healthyName + '): no alert',
                         [phase(longest + 360, healthyRatio)],
                         healthyStep,
                         [longest, longest + 360],
                         checkExhausted=true);

    local file(interval, tests) = {
      rule_files: [ruleFile],
      evaluation_interval: interval,
      // promtool otherwise evaluates the groups in random order, so alerts could see last minute's ratios.
      group_eval_order: [g + slo.id for g in ['sloth-slo-sli-recordings-', 'sloth-slo-meta-recordings-', 'sloth-slo-alerts-']],
      tests: tests,
    };
    // The model needs windows that are whole multiples of the evaluation step (e.g. Pyrra's 30d tiers).
    local misaligned = [
      t.name
      for t in enabled
      if std.length([x for x in [t.longSeconds, t.shortSeconds, t.forSeconds] if x % (stepOf(t) * 60) != 0]) > 0
    ];
    if series0 == null then
      std.trace('SLO %s: no generated tests (set `test: {good: [...], bad: [...]}` input series)' % slo.id, {})
    else if misaligned != [] then
      std.trace('SLO %s: no generated tests (tiers %s: windows not whole multiples of the test step, 1m or 5m)'
                % [slo.id, std.join(', ', misaligned)], {})
    else {
      ['slo-' + slo.id + '.yaml']: file('1m', fastTests + (if healthyStep == 1 then [healthy] else [])),
    } + (
      if slowFile == [] then {} else {
        ['slo-' + slo.id + '-slow.yaml']: file('5m', slowFile + (if healthyStep == 5 then [healthy] else [])),
      }
    ) + (
      if periodTest == [] then {} else { ['slo-' + slo.id + '-period.yaml']: file('30m', periodTest) }
    ),
}
