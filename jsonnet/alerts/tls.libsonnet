// TLS certificates seen by the probes: expiring, or failing verification.
local r = import '../lib/rules.libsonnet';

{
  local probe = r.sel([$._config.probeSelector]),
  local daysLeft = '(probe_ssl_earliest_cert_expiry%s - time()) / 86400' % probe,

  ruleFiles+:: r.ruleFile($._config, 'tls', [
    r.group($._config, 'infrawatch-tls', [
      {
        alert: 'TLSCertificateExpiringSoon',
        expr: r.withService('%s < %g >= %g' % [daysLeft, $._config.tlsExpiryWarningDays, $._config.tlsExpiryCriticalDays]),
        'for': $._config.alertFor.TLSCertificateExpiringSoon,
        severity: 'warning',
        summary: 'A TLS certificate expires soon.',
        description: 'The certificate served by {{ $labels.target }} ({{ $labels.service }}) expires in {{ $value | printf "%%.1f" }} days (warning under %g days).' % $._config.tlsExpiryWarningDays,
      },
      {
        alert: 'TLSCertificateExpiringSoon',
        expr: r.withService('%s < %g' % [daysLeft, $._config.tlsExpiryCriticalDays]),
        'for': $._config.alertFor.TLSCertificateExpiringSoon,
        severity: 'critical',
        summary: 'A TLS certificate expires soon.',
        description: 'The certificate served by {{ $labels.target }} ({{ $labels.service }}) expires in {{ $value | printf "%%.1f" }} days (critical under %g days).' % $._config.tlsExpiryCriticalDays,
      },
      {
        alert: 'TLSCertificateInvalid',
        expr: r.withService('probe_tls_verified%s == 0' % probe),
        'for': $._config.alertFor.TLSCertificateInvalid,
        severity: 'critical',
        summary: 'A TLS certificate fails verification.',
        description: 'The certificate chain served by {{ $labels.target }} ({{ $labels.service }}) does not verify (expired, wrong name or untrusted issuer); clients refuse the connection.',
      },
    ]),
  ]),
}
