// Reputation aggregates the dashboards read (listings per target, per list, on major lists).
// HA exporter pairs report the same (target, list) twice, hence the inner max.
local r = import '../lib/rules.libsonnet';

{
  groups(c):: [
    local rep = r.sel([c.reputationSelector]);
    local listed = 'max by (target, list) (reputation_listed%s)' % rep;
    r.group(c, 'infrawatch-reputation.rules', [
      {
        record: 'target:reputation_listed:count',
        expr: 'sum by (target) (%s)' % listed,
      },
      {
        record: 'target:reputation_listed_major:count',
        expr: |||
          sum by (target) (
            %(listed)s
            * on (list) group_left ()
              max by (list) (reputation_list_info%(info)s)
          )
        ||| % { listed: listed, info: r.sel([c.reputationSelector, 'tier=~"%s"' % std.join('|', c.majorListTiers)]) },
      },
      {
        record: 'list:reputation_listed:count',
        expr: 'sum by (list) (%s)' % listed,
      },
    ]),
  ],
}
