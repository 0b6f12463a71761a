// The routing table for the default _config: alert labels -> receivers, in the order amtool prints
// them (`amtool config routes test --verify.receivers`).  tests/alertmanager runs every case against
// the generated alertmanager/alertmanager.yml and checks that docs/alerting.md shows this table.
// Change routes.libsonnet or _config.alertmanager -> update this table in the same commit.
[
  {
    why: 'Watchdog goes to the heartbeat only (first route, stops there)',
    labels: { alertname: 'Watchdog', severity: 'none' },
    receivers: ['heartbeat'],
  },
  {
    why: 'Watchdog with team/service labels still only feeds the heartbeat',
    labels: { alertname: 'Watchdog', severity: 'critical', service: 'api', team: 'platform' },
    receivers: ['heartbeat'],
  },
  {
    why: 'severity none (kube-prometheus InfoInhibitor convention) is never sent',
    labels: { alertname: 'InfoInhibitor', severity: 'none', service: 'api' },
    receivers: ['null'],
  },
  {
    why: 'P0: critical and listed in p0Alerts -> incident log, pager, team mail, escalation mail, critical channel',
    labels: { alertname: 'APIDown', severity: 'critical', service: 'api' },
    receivers: ['webhook-incident-log', 'pagerduty-platform', 'email-platform', 'email-p0', 'slack-critical'],
  },
  {
    why: 'P0 of a team without e-mail -> mail to the on-call list, and the escalation mail',
    labels: { alertname: 'DatabaseDown', severity: 'critical', service: 'oltp-db' },
    receivers: ['webhook-incident-log', 'pagerduty-database', 'email-default', 'email-p0', 'slack-critical'],
  },
  {
    why: 'P1: critical, not P0 -> pager, team mail (here the on-call list), critical channel; no escalation mail',
    labels: { alertname: 'DatabaseErrorRateHigh', severity: 'critical', service: 'olap-db' },
    receivers: ['webhook-incident-log', 'pagerduty-database', 'email-default', 'slack-critical'],
  },
  {
    why: 'P1 of the deliverability team (major blacklist listing) -> its own mailbox, no escalation mail',
    labels: { alertname: 'IPListedOnMajorBlacklist', severity: 'critical', service: 'smtp' },
    receivers: ['webhook-incident-log', 'pagerduty-deliverability', 'email-deliverability', 'slack-critical'],
  },
  {
    why: 'P0 of the deliverability team -> its own mailbox and the escalation mail',
    labels: { alertname: 'SMTPServiceDown', severity: 'critical', service: 'smtp' },
    receivers: ['webhook-incident-log', 'pagerduty-deliverability', 'email-deliverability', 'email-p0', 'slack-critical'],
  },
  {
    why: 'P0 for a probe failure of a platform service',
    labels: { alertname: 'ServiceProbeFailing', severity: 'critical', service: 'redis', cluster: 'eu-1' },
    receivers: ['webhook-incident-log', 'pagerduty-platform', 'email-platform', 'email-p0', 'slack-critical'],
  },
  {
    why: 'P2: warning -> the team channel',
    labels: { alertname: 'HighCPUUsage', severity: 'warning', service: 'infrastructure' },
    receivers: ['slack-platform'],
  },
  {
    why: 'P2 of a team whose warnings go by mail',
    labels: { alertname: 'IPListedOnBlacklist', severity: 'warning', service: 'smtp' },
    receivers: ['email-deliverability'],
  },
  {
    why: 'P2: certificate expiring, platform service',
    labels: { alertname: 'TLSCertificateExpiringSoon', severity: 'warning', service: 'elasticsearch' },
    receivers: ['slack-platform'],
  },
  {
    why: 'SLO page tier (fast burn) pages the owning team (a P1: pager, team mail, critical channel)',
    labels: { alertname: 'SLOErrorBudgetBurn', severity: 'critical', sloth_severity: 'page', service: 'api' },
    receivers: ['webhook-incident-log', 'pagerduty-platform', 'email-platform', 'slack-critical'],
  },
  {
    why: 'SLO ticket tier (slow burn) goes to the team channel',
    labels: { alertname: 'SLOErrorBudgetBurn', severity: 'warning', sloth_severity: 'ticket', service: 'api' },
    receivers: ['slack-platform'],
  },
  {
    why: 'info tier: the team mail as a digest (group_wait 5m, group_interval 1h, repeat 24h); here the on-call list',
    labels: { alertname: 'DatabaseConnectionPoolHigh', severity: 'info', service: 'oltp-db' },
    receivers: ['email-default'],
  },
  {
    why: 'info with a team label -> that team mailbox digest, not its channel',
    labels: { alertname: 'DeploymentDetected', severity: 'info', service: 'api', team: 'platform' },
    receivers: ['email-platform'],
  },
  {
    why: 'info of a service no team owns -> the on-call list digest',
    labels: { alertname: 'DeploymentDetected', severity: 'info', service: 'billing' },
    receivers: ['email-default'],
  },
  {
    why: 'an explicit team label wins over the service mapping',
    labels: { alertname: 'HighMemoryUsage', severity: 'warning', service: 'api', team: 'database' },
    receivers: ['slack-database'],
  },
  {
    why: 'an unknown team label falls through to the default routes',
    labels: { alertname: 'RedisDown', severity: 'critical', service: 'redis', team: 'unknown' },
    receivers: ['webhook-incident-log', 'pagerduty-default', 'email-default', 'slack-critical'],
  },
  {
    why: 'P0 of a service no team owns -> default pager, on-call list, escalation mail',
    labels: { alertname: 'HighErrorRate', severity: 'critical', service: 'billing' },
    receivers: ['webhook-incident-log', 'pagerduty-default', 'email-default', 'email-p0', 'slack-critical'],
  },
  {
    why: 'warning of a service no team owns -> default channel',
    labels: { alertname: 'LowDiskSpace', severity: 'warning', service: 'billing' },
    receivers: ['slack-default'],
  },
  {
    why: 'a team alert without severity -> the team channel',
    labels: { alertname: 'CustomCheck', service: 'api' },
    receivers: ['slack-platform'],
  },
  {
    why: 'team label without severity -> the team channel, even when its warnings go by mail',
    labels: { alertname: 'MailQueueCheck', team: 'deliverability' },
    receivers: ['slack-deliverability'],
  },
  {
    why: 'missing labels: no severity, no service -> default channel, still seen',
    labels: { alertname: 'SomethingOdd' },
    receivers: ['slack-default'],
  },
  {
    why: 'critical without a service -> default pager, still paged',
    labels: { alertname: 'UnlabelledCritical', severity: 'critical' },
    receivers: ['webhook-incident-log', 'pagerduty-default', 'email-default', 'slack-critical'],
  },
  {
    why: 'an unknown severity value -> default channel',
    labels: { alertname: 'OddSeverity', severity: 'page', service: 'billing' },
    receivers: ['slack-default'],
  },
  {
    why: "seed 003's P1 error rate > 1 error/s: pager, team mail, critical channel; no escalation mail",
    labels: { alertname: 'HighErrorsPerSecond', severity: 'critical', service: 'api' },
    receivers: ['webhook-incident-log', 'pagerduty-platform', 'email-platform', 'slack-critical'],
  },
  {
    why: 'e-mail delivery failing (warning) -> the deliverability mailbox',
    labels: { alertname: 'EmailDeliveryFailing', severity: 'warning', service: 'smtp' },
    receivers: ['email-deliverability'],
  },
]
