// Prometheus rules of one normalised SLO: Sloth's names and labels, minus Sloth's holes.
// - every ratio is guarded: zero traffic gives 0, never NaN/Inf; a missing error series counts as 0;
// - the period ratio is event-weighted (sum of error rates / sum of total rates), not a mean of ratios;
// - the budget spent is weighted by the share of the period the data covers (slo:period_data_coverage:ratio),
//   so a young SLO's first incident is not taken for a month's worth of errors;
// - SLOMetricAbsent fires when the SLI's series disappear (as Pyrra's alert does);
// - thresholds are printed as exact decimals ('(14.4 * 0.001)', not '0.0009999999999999432').
local u = import 'util.libsonnet';

local sel(slo) = '{sloth_id="' + slo.ids.sloth_id + '", sloth_service="' + slo.ids.sloth_service
                 + '", sloth_slo="' + slo.ids.sloth_slo + '"}';

// E / T without NaN: 0 when there was no traffic (T == 0), absent when T itself is absent.
// (String concatenation throughout: std.format is implemented in Jsonnet and far too slow here.)
local guardedRatio(e, t) = '(\n  ' + e + '\n  /\n  (' + t + ' > 0)\n)\nor\n(0 * ' + t + ')\n';

local defaultWho = '{{ $labels.sloth_service }} SLO {{ $labels.sloth_slo }}';

// The spec's summary (its page/ticket annotations over its alerting ones, as Sloth merges them), as a
// sentence; else the default.
local summary(annotations, default) =
  if std.objectHas(annotations, 'summary') then
    local s = annotations.summary;
    if std.endsWith(s, '.') then s else s + '.'
  else default;

// The SLO ids are static labels too, so two SLOs' alerts never look like duplicate rules.
local alertBase(slo, config) = config.extraAlertLabels + slo.alerting.labels + slo.ids + { service: slo.service };

{
  sliSelector:: sel,

  // Labels and annotations of the alerts (shared with the generated tests, which expect them).
  // Page/ticket labels of the spec come last: imported Sloth specs route on their own labels.
  burnLabels(slo, t, config):: alertBase(slo, config) + {
    severity: t.alertSeverity,
    sloth_severity: t.severity,
    slo_burn_tier: t.name,
  } + t.extraLabels,
  // The spec's annotations (alerting, then the tier's page/ticket ones) win over infrawatch's, as in Sloth.
  burnAnnotations(slo, t, config, who=defaultWho)::
    local spec = slo.alerting.annotations + t.extraAnnotations;
    {
      description: who + ': errors over the last ' + t.long + ' and ' + t.short + ' are above ' + t.factorStr
                   + 'x the error budget (' + u.fmt(t.factor * slo.budget * 100) + '% of events for a '
                   + slo.objectiveStr + '% objective); at that rate the ' + slo.period + ' budget lasts '
                   + u.human(t.exhaustionSeconds) + '. Tier ' + t.name + ' fires once ' + u.fmt(t.budgetPercent)
                   + '% of the budget is spent within ' + t.long + '.',
      runbook_url: std.strReplace(config.runbookURLPattern, '%(alert)s', 'SLOErrorBudgetBurn'),
    } + spec + { summary: summary(spec, 'SLO error budget is burning too fast.') },
  exhaustedLabels(slo, config):: alertBase(slo, config) + {
    severity: slo.alerting.ticketSeverity,
    sloth_severity: 'ticket',
  } + slo.alerting.ticketLabels,
  exhaustedAnnotations(slo, config, who=defaultWho):: slo.alerting.annotations + slo.alerting.ticketAnnotations {
    summary: 'SLO error budget is nearly exhausted.',
    description: who + ' has spent more than ' + u.fmt(slo.nearlyExhausted.percent) + '% of its '
                 + slo.period + ' error budget.',
    runbook_url: std.strReplace(config.runbookURLPattern, '%(alert)s', 'SLOErrorBudgetNearlyExhausted'),
  },
  // absent() keeps only the selector's equality labels: the SLO's own labels (team, tenant) are added.
  absentLabels(slo, config):: slo.labels + alertBase(slo, config) + { severity: slo.alerting.ticketSeverity, sloth_severity: 'ticket' }
                              + slo.alerting.ticketLabels,
  absentAnnotations(slo, config, who=defaultWho):: slo.alerting.annotations + slo.alerting.ticketAnnotations {
    summary: 'SLO indicator has no data.',
    description: who + ': the SLI series are absent, so its burn-rate alerts cannot fire.',
    runbook_url: std.strReplace(config.runbookURLPattern, '%(alert)s', 'SLOMetricAbsent'),
  },
  // The series whose absence means "no SLI data": the recorded 5m rate (or ratio, for raw SLIs).
  presenceRecord(slo):: if slo.sli.kind == 'raw' then 'slo:sli_error:ratio_rate5m' else 'slo:sli_total_events:rate5m',

  groups(slo, config)::
    local labels = slo.labels + slo.ids;
    local window(w) = { sloth_window: w };
    local errEvents = 'slo:sli_error_events:rate5m' + sel(slo);
    local totEvents = 'slo:sli_total_events:rate5m' + sel(slo);
    local ratio(w) = 'slo:sli_error:ratio_rate' + w + sel(slo);
    local raw = slo.sli.kind == 'raw';
    local P = slo.period;
    local PW = slo.periodWindow;
    local ids = 'sloth_id, sloth_service, sloth_slo';
    local absentFor = std.get(config.sloDefaults, 'absentFor', '10m');
    [
      {
        name: 'sloth-slo-sli-recordings-' + slo.id,
        rules: (if raw then [] else [
                  {
                    record: 'slo:sli_error_events:rate5m',
                    expr: u.window(slo.sli.errorQuery, '5m'),
                    labels: labels + window('5m'),
                  },
                  {
                    record: 'slo:sli_total_events:rate5m',
                    expr: u.window(slo.sli.totalQuery, '5m'),
                    labels: labels + window('5m'),
                  },
                  {
                    record: 'slo:sli_error:ratio_rate5m',
                    expr: guardedRatio(errEvents, totEvents),
                    labels: labels + window('5m'),
                  },
                ]) + [
          {
            record: 'slo:sli_error:ratio_rate' + w,
            expr: if raw then u.window(slo.sli.errorRatioQuery, w)
            else guardedRatio(u.window(slo.sli.errorQuery, w), u.window(slo.sli.totalQuery, w)),
            labels: labels + window(w),
          }
          for w in slo.windows
          if raw || w != '5m'
        ] + [
          if raw then {
            // A precomputed ratio cannot be event-weighted: the mean of the 5m ratios, as Sloth does.
            record: 'slo:sli_error:ratio_rate' + PW,
            expr: 'avg_over_time(' + ratio('5m') + '[' + P + '])\n',
            labels: labels + window(PW),
          } else {
            // Event-weighted: each 5m rate sample counts in proportion to its traffic.
            record: 'slo:sli_error:ratio_rate' + PW,
            expr: guardedRatio('sum_over_time(' + errEvents + '[' + P + '])',
                               'sum_over_time(' + totEvents + '[' + P + '])'),
            labels: labels + window(PW),
          },
        ],
      },
      {
        name: 'sloth-slo-meta-recordings-' + slo.id,
        rules: [
          { record: 'slo:objective:ratio', expr: 'vector(' + slo.objectiveRatioStr + ')', labels: labels },
          { record: 'slo:error_budget:ratio', expr: 'vector(' + slo.budgetStr + ')', labels: labels },
          { record: 'slo:time_period:days', expr: 'vector(' + slo.periodDaysStr + ')', labels: labels },
          {
            record: 'slo:current_burn_rate:ratio',
            expr: ratio('5m') + '\n/ on(sloth_id, sloth_slo, sloth_service) group_left\nslo:error_budget:ratio'
                  + sel(slo) + '\n',
            labels: labels,
          },
          {
            record: 'slo:period_burn_rate:ratio',
            expr: ratio(PW) + '\n/ on(sloth_id, sloth_slo, sloth_service) group_left\nslo:error_budget:ratio'
                  + sel(slo) + '\n',
            labels: labels,
          },
          {
            // When the SLI's data starts, at most one period ago: the oldest value this rule recorded
            // within the period (it survives restarts: it is read back from the TSDB), else now.
            record: 'slo:sli_data_since:timestamp',
            expr: 'clamp_min(\n  min by (' + ids + ') (min_over_time(slo:sli_data_since:timestamp' + sel(slo) + '[' + P + ']))\n'
                  + '  or\n  min by (' + ids + ') (timestamp(' + $.presenceRecord(slo) + sel(slo) + ')),\n'
                  + '  time() - ' + std.toString(slo.periodSeconds) + '\n)\n',
            labels: labels,
          },
          {
            // Share of the period the SLI data covers (1 once the data is a period old).
            record: 'slo:period_data_coverage:ratio',
            expr: 'clamp_max((time() - slo:sli_data_since:timestamp' + sel(slo) + ') / '
                  + std.toString(slo.periodSeconds) + ', 1)',
            labels: labels,
          },
          {
            // Budget spent = period error ratio / budget x the share of the period observed: the errors
            // so far as a share of what the whole period may spend (1 - spent = remaining).
            record: 'slo:period_error_budget_remaining:ratio',
            expr: '1 - slo:period_burn_rate:ratio' + sel(slo)
                  + '\n* on(' + ids + ') group_left\nslo:period_data_coverage:ratio' + sel(slo) + '\n',
            labels: labels,
          },
          {
            // Metadata that may change without changing the identity of the SLO series.
            record: 'sloth_slo_info',
            expr: 'vector(1)',
            labels: labels + slo.info + {
              sloth_mode: 'infrawatch',
              sloth_spec: slo.source,
              sloth_version: 'infrawatch',
              sloth_objective: slo.objectiveStr,
              slo_period: slo.period,
              [if slo.description != '' then 'slo_description']: slo.description,
            },
          },
        ],
      },
      {
        name: 'sloth-slo-alerts-' + slo.id,
        rules: [
          {
            alert: slo.burnAlertName,
            expr: 'max without (sloth_window) (' + ratio(t.long) + ' > ' + t.thresholdExpr + ')\n'
                  + 'and ignoring (sloth_window)\n'
                  + ratio(t.short) + ' > ' + t.thresholdExpr + '\n',
            [if std.objectHas(t, 'for') then 'for']: t['for'],
            labels: $.burnLabels(slo, t, config),
            annotations: $.burnAnnotations(slo, t, config),
          }
          for t in slo.tiers
          if t.enabled
        ] + (
          if slo.nearlyExhausted.enabled then [{
            alert: 'SLOErrorBudgetNearlyExhausted',
            expr: 'max without (sloth_window) (slo:period_error_budget_remaining:ratio' + sel(slo) + ') < '
                  + slo.nearlyExhausted.remaining,
            labels: $.exhaustedLabels(slo, config),
            annotations: $.exhaustedAnnotations(slo, config),
          }] else []
        ) + (
          if slo.alerting.absent then [{
            alert: slo.absentAlertName,
            expr: 'absent(' + $.presenceRecord(slo) + sel(slo) + ')',
            'for': absentFor,
            labels: $.absentLabels(slo, config),
            annotations: $.absentAnnotations(slo, config),
          }] else []
        ),
      },
    ],
}
