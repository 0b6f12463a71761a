// Alertmanager receivers built from _config.alertmanager.  Names are part of the routing table
// (routing_cases.libsonnet): heartbeat, null, slack-<team|default|critical|info>, pagerduty-<team|default>,
// email-<team|default>, webhook-<name>.  Secrets are only ever file paths.
{
  // A `*File` knob: absolute paths are used as they are, relative ones live in secretsDir.
  secretPath(am, file)::
    if std.startsWith(file, '/') then file else am.secretsDir + '/' + file,

  local bearer(am, file) = { authorization: { type: 'Bearer', credentials_file: $.secretPath(am, file) } },

  heartbeat(am):: {
    name: 'heartbeat',
    webhook_configs: [{
      url: am.heartbeat.url,
      // A heartbeat only says "the pipeline works"; a resolved message would mean nothing.
      send_resolved: false,
      http_config: bearer(am, am.heartbeat.credentialsFile),
    }],
  },

  // severity="none" (and info when the info tier is off): visible in Alertmanager and the alerts feed, never sent.
  nullReceiver():: { name: 'null' },

  // apiURLFile: this receiver's own incoming-webhook URL file ('' = the global slack_api_url_file).
  slack(name, channel, am=null, apiURLFile=''):: {
    name: name,
    slack_configs: [{
      [if apiURLFile != '' then 'api_url_file']: $.secretPath(am, apiURLFile),
      channel: channel,
      send_resolved: true,
      title: '{{ template "slack.infrawatch.title" . }}',
      title_link: '{{ template "slack.default.titlelink" . }}',
      text: '{{ template "slack.infrawatch.text" . }}',
      color: '{{ template "slack.infrawatch.color" . }}',
      fallback: '{{ template "slack.infrawatch.fallback" . }}',
      actions: [
        { type: 'button', text: 'Runbook', url: '{{ template "infrawatch.runbook_url" . }}' },
        { type: 'button', text: 'Dashboard', url: '{{ template "infrawatch.dashboard_url" . }}' },
        { type: 'button', text: 'Silence (acknowledge)', url: '{{ template "infrawatch.silence_url" . }}' },
      ],
    }],
  },

  pagerduty(am, name, keyFile):: {
    name: name,
    pagerduty_configs: [{
      routing_key_file: $.secretPath(am, keyFile),
      send_resolved: true,
      severity: '{{ template "pagerduty.infrawatch.severity" . }}',
      description: '{{ template "pagerduty.infrawatch.description" . }}',
      client: 'infrawatch Alertmanager',
      client_url: '{{ template "pagerduty.default.clientURL" . }}',
      class: '{{ .CommonLabels.alertname }}',
      component: '{{ .CommonLabels.service }}',
      group: '{{ template "infrawatch.cluster" . }}',
      // Alertmanager adds its defaults (firing, resolved, num_firing, num_resolved) to these.
      details: {
        summary: '{{ .CommonAnnotations.summary }}',
        description: '{{ template "pagerduty.infrawatch.details.description" . }}',
        severity: '{{ .CommonLabels.severity }}',
        service: '{{ .CommonLabels.service }}',
        runbook_url: '{{ template "infrawatch.runbook_url" . }}',
        dashboard_url: '{{ template "infrawatch.dashboard_url" . }}',
        silence_url: '{{ template "infrawatch.silence_url" . }}',
      },
      links: [
        { href: '{{ template "infrawatch.runbook_url" . }}', text: 'Runbook' },
        { href: '{{ template "infrawatch.dashboard_url" . }}', text: 'Dashboard' },
        { href: '{{ template "infrawatch.silence_url" . }}', text: 'Silence in Alertmanager' },
      ],
    }],
  },

  email(name, to):: {
    name: name,
    email_configs: [{
      to: to,
      send_resolved: true,
      headers: { Subject: '{{ template "email.infrawatch.subject" . }}' },
      html: '{{ template "email.infrawatch.html" . }}',
      text: '{{ template "email.infrawatch.text" . }}',
    }],
  },

  webhook(am, hook):: {
    name: 'webhook-' + hook.name,
    webhook_configs: [{
      url: hook.url,
      send_resolved: true,
      http_config: bearer(am, hook.credentialsFile),
    }],
  },

  // Global settings shared by the receivers (smarthost, Slack webhook URL file, PagerDuty URL).
  global(am):: {
    resolve_timeout: am.resolveTimeout,
    pagerduty_url: am.pagerduty.url,
    slack_api_url_file: $.secretPath(am, am.slack.apiURLFile),
  } + (
    if am.email.enabled then {
      smtp_smarthost: am.email.smarthost,
      smtp_from: am.email.from,
      smtp_require_tls: am.email.requireTLS,
    } + (
      // authUsername '' = a relay that needs no SMTP AUTH (e.g. a local Postfix).
      if am.email.authUsername != '' then {
        smtp_auth_username: am.email.authUsername,
        smtp_auth_password_file: $.secretPath(am, am.email.authPasswordFile),
      } else {}
    ) else {}
  ),
}
