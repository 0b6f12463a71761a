// SMTP: the mail service answering its probes, the Postfix queue, and e-mail delivery failures.
local r = import '../lib/rules.libsonnet';

{
  ruleFiles+:: r.ruleFile($._config, 'smtp', [
    r.group($._config, 'infrawatch-smtp', std.flattenArrays([
      [
        {
          alert: 'SMTPServiceDown',
          expr: 'max(probe_success%s) == 0' % r.sel([$._config.probeSelector, s.probeSelector]),
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
    ]) + [
      // Seed 004's "e-mail delivery success / failure rates": the application counts what the MTA
      // accepted (status="success") and refused; one sending IP failing is a deliverability problem
      // even when the others are fine, so the ratio is per source_ip.
      local all = r.sel([$._config.emailSentSelector]);
      local failed = r.sel([$._config.emailSentSelector, $._config.emailFailureSelector]);
      {
        alert: 'EmailDeliveryFailing',
        expr: |||
          sum by (source_ip) (rate(email_sent_total%(failed)s[%(rate)s]))
          /
          sum by (source_ip) (rate(email_sent_total%(all)s[%(rate)s]))
          > %(threshold)g
          and
          sum by (source_ip) (rate(email_sent_total%(all)s[%(rate)s])) >= %(minRate)g
        ||| % { failed: failed, all: all, rate: $._config.rateInterval, threshold: $._config.emailFailureRatioThreshold, minRate: $._config.emailMinSentPerSecond },
        'for': $._config.alertFor.EmailDeliveryFailing,
        severity: 'warning',
        service: $._config.reputationService,
        summary: 'E-mail delivery is failing.',
        description: '{{ $value | humanizePercentage }} of the e-mails sent from {{ $labels.source_ip }} failed over the last %s (threshold %g%%).' % [$._config.rateInterval, $._config.emailFailureRatioThreshold * 100],
      },
    ]),
  ]),
}
