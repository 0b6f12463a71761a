// E-mail delivery (seed 004's "e-mail delivery success / failure rates"): the application's
// email_sent_total{status, source_ip} (docs/reputation.md's metric contract), whatever MTA it uses.
local r = import '../lib/rules.libsonnet';

{
  ruleFiles+:: r.ruleFile($._config, 'email', [
    r.group($._config, 'infrawatch-email', [
      // The application counts what the MTA accepted (status="success") and what it refused; one
      // sending IP failing is a deliverability problem even when the others are fine, so the ratio is
      // per source_ip, with a minimum of mail per IP as the other ratio alerts have.
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
