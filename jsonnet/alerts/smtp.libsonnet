// SMTP: the mail service answering its probes, and the Postfix queue.
local r = import '../lib/rules.libsonnet';

{
  ruleFiles+:: r.ruleFile($._config, 'smtp', [
    r.group($._config, 'infrawatch-smtp', std.flattenArrays([
      [
        {
          alert: 'SMTPServiceDown',
          expr: 'max(probe_success%s) == 0' % r.probeSel($._config, s),
          'for': $._config.probeFailingFor,
          severity: 'critical',
          service: s.name,
          summary: 'The SMTP service does not answer.',
          description: 'Every probe of %s (%s) has failed for more than %s: no mail is accepted or relayed.' % [s.title, s.name, $._config.probeFailingFor],
        },
        {
          alert: 'SMTPQueueBacklog',
          expr: 'sum by (instance) (%s%s) > %g' % [$._config.smtpQueueMetric, r.sel([s.exporterSelector]), $._config.smtpQueueThreshold],
          'for': $._config.alertFor.SMTPQueueBacklog,
          severity: 'critical',
          service: s.name,
          summary: 'The mail queue is backing up.',
          description: '%s (%s): {{ $value }} messages are queued on {{ $labels.instance }} (threshold %g).' % [s.title, s.name, $._config.smtpQueueThreshold],
        },
      ]
      for s in r.servicesOfKind($._config, 'smtp')
    ])),
  ]),
}
