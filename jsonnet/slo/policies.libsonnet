// The seeds' error-budget policies as ready tier lists.  The default tiers (sloDefaults.tiers) stay
// the SRE workbook's, which the Sloth / Pyrra anchor tests pin (tests/slo); these lists change two of
// them, keeping the tier names (so `alerting.tiers: { 'ticket-3d': false }` in an SLO still applies):
//
//   local policies = import 'slo/policies.libsonnet';
//   (import 'mixin.libsonnet') + policies.seedPolicy            // both seeds' tiers, every SLO
//   (import 'mixin.libsonnet') + { _config+:: { sloDefaults+: { tiers: policies.seed002Tiers } } }
//
// or `tiers: policies.seed003Tiers` on one SLO entry.  docs/slo.md "The seeds' error-budget
// policies"; tests/slo/test_seed_policies.py builds them and runs the generated promtool tests.
local workbook = (import '../config.libsonnet')._config.sloDefaults.tiers;

// `tiers` with the tier of the same name replaced by `t`.
local replace(tiers, t) =
  if std.length([x for x in tiers if x.name == t.name]) != 1 then error 'policies: no tier ' + t.name
  else [if x.name == t.name then t else x for x in tiers];

{
  // Seed 002: "burn-rate threshold 0.5, investigate within 1 h".  A ticket (severity warning: the
  // team's channel, P2, answered within the hour) once the budget burns at half the sustainable
  // rate over 3 days, confirmed over 6 h.  A burn rate does not depend on the period, so the tier
  // states its factor (5% of a 30-day budget in 3 days; 5.36% of a 28-day one).  It replaces the
  // workbook's ticket-3d (factor 1), which would only ever fire after it.
  halfBurnTicket:: { name: 'ticket-3d', severity: 'ticket', factor: 0.5, long: '3d', short: '6h' },

  // Seed 003: "slow burn: 10% of the budget in 6 h" (the fast burn, 2% in 1 h, is page-1h).  A page
  // when 10% of the period's budget went in 6 hours (factor 12 for 30 days, 11.2 for 28), in place of
  // the workbook's 5% (factor 6).
  slowBurnPage:: { name: 'page-6h', severity: 'page', budgetPercent: 10, long: '6h', short: '30m' },

  seed002Tiers:: replace(workbook, $.halfBurnTicket),
  seed003Tiers:: replace(workbook, $.slowBurnPage),
  // Both seeds' policies together: 2% in 1 h and 10% in 6 h page, 10% in 1 d and burn rate 0.5 over
  // 3 d ticket.
  tiers:: replace($.seed002Tiers, $.slowBurnPage),

  // The override to add to the mixin: every SLO without its own `tiers` alerts with `tiers`.
  seedPolicy:: { _config+:: { sloDefaults+: { tiers: $.tiers } } },
}
