// infrawatch mixin configuration: the one file SREs edit.  Every knob has a comment.
// Override from another mixin with `(import 'mixin.libsonnet') + { _config+:: { ... } }`.
{
  _config+:: {
    // ---- Common -------------------------------------------------------------------------
    // Unknown fields in _config fail the build ('error', with "did you mean"); 'ignore' accepts
    // unknown top-level fields, for a _config shared with other mixins.  Types, kinds and the
    // fields of nested objects are always checked (jsonnet/lib/config_schema.libsonnet).
    unknownConfigFields: 'error',
    // Labels added to every generated alert (e.g. { tenant: 'acme', cluster: 'eu-1' }).
    extraAlertLabels: {},
    // Where runbooks live; `%(alert)s` (or kubernetes-mixin's plain `%s`) is replaced by the alert name.
    runbookURLPattern: 'https://github.com/infrawatch/infrawatch/blob/main/runbooks/%(alert)s.md',
    // Grafana base URL used in alert links (dashboard link in notifications).
    grafanaURL: 'http://localhost:3000',
    // Multi-cluster Prometheus (kubernetes-mixin's knobs): the label naming the cluster, and whether
    // alerts about the same thing must also share it to mute each other (inhibition `equal`) and
    // every dashboard gets a `cluster` variable matched by all its queries.
    clusterLabel: 'cluster',
    showMultiCluster: false,
    // Prometheus scrape interval the rules assume (rate windows are at least 4x this).
    scrapeInterval: '15s',
    // Window of every rate() in the alerts and the per-service recording rules (node-mixin's knob; the
    // window is part of the recording rules' names: service:http_requests:rate5m).  At least 4 x
    // scrapeInterval.  Not the SLO burn-rate windows (sloDefaults.tiers) nor dashboards.rateInterval.
    rateInterval: '5m',
    // Labels on the generated PrometheusRule objects (match your Prometheus' ruleSelector).
    prometheusRuleLabels: { prometheus: 'k8s', role: 'alert-rules' },

    // ---- Services, alerts and recording rules (alerts/, rules/) ---------------------------
    // @section alerts
    // One entry per service card (dashboards and SLOs read this list too).  Fields:
    //   name, title        the `service` label value and the card's title.
    //   kind               which alert set applies: http | websocket | smtp | postgres | redis | elasticsearch | custom
    //                      (custom: no alerts of its own, a card fed by `details`; see jsonnet/lib/config_schema.libsonnet).
    //   probeSelector      selects this service's probe exporter series (probe_success, probe_health_status...).
    //   appSelector        (http) selects the application's http_requests_total / http_request_duration_seconds;
    //                      (websocket) its ws_connections_total.
    //   upSelector         (http, websocket) selects the application's `up` series (APIDown, DeploymentDetected).
    //   exporterSelector   (smtp/postgres/redis) selects postfix_exporter / postgres_exporter / redis_exporter series.
    //   latencyThresholdSeconds  p95 (application) and probe duration above which the service is degraded.
    //   errorRatioDegraded / errorRatioDown  5xx ratio making the traffic light yellow / red.
    //   probeInterval      optional: the interval of the service's scheduled probes (probe exporter
    //                      `targets[].interval`); ServiceProbeFailing then fires after
    //                      probeFailingAfterFailures consecutive failed probes instead of probeFailingFor.
    services: [
      {
        name: 'api',
        title: 'API Server',
        kind: 'http',
        probeSelector: 'service="api"',
        appSelector: 'job="api-server"',
        upSelector: 'job="api-server"',
        latencyThresholdSeconds: 1,
        errorRatioDegraded: 0.01,
        errorRatioDown: 0.05,
      },
      {
        name: 'smtp',
        title: 'SMTP Service',
        kind: 'smtp',
        probeSelector: 'service="smtp"',
        exporterSelector: 'job="postfix"',
        latencyThresholdSeconds: 5,
      },
      {
        name: 'oltp-db',
        title: 'OLTP Database',
        kind: 'postgres',
        probeSelector: 'service="oltp-db"',
        exporterSelector: 'job="postgres", cluster="oltp"',
        latencyThresholdSeconds: 1,
      },
      {
        name: 'olap-db',
        title: 'OLAP Database',
        kind: 'postgres',
        probeSelector: 'service="olap-db"',
        exporterSelector: 'job="postgres", cluster="olap"',
        latencyThresholdSeconds: 5,
      },
      {
        name: 'redis',
        title: 'Redis Cache',
        kind: 'redis',
        probeSelector: 'service="redis"',
        exporterSelector: 'job="redis"',
        latencyThresholdSeconds: 0.5,
      },
      {
        name: 'elasticsearch',
        title: 'Elasticsearch',
        kind: 'elasticsearch',
        probeSelector: 'service="elasticsearch"',
        latencyThresholdSeconds: 2,
      },
    ],
    // Defaults for fields a service entry leaves out.
    serviceDefaults: { latencyThresholdSeconds: 1, errorRatioDegraded: 0.01, errorRatioDown: 0.05 },
    // Alert groups switched off by name (e.g. ['infrawatch-node'] when node-mixin already covers hosts).
    disabledAlertGroups: [],
    // Single alerts switched off by name (e.g. ['Watchdog'] when kube-prometheus already has one).
    disabledAlerts: [],
    // Extra matchers on every probe exporter series the alerts read ('' = all; e.g. 'env="prod"').
    probeSelector: '',
    // ServiceProbeFailing: how long a probe must fail before it pages.
    probeFailingFor: '2m',
    // ...or, for a service entry with `probeInterval` (the interval of its scheduled probes in the
    // probe exporter, e.g. '30s'), after this many consecutive failed probes (seed 004: "alert after 2
    // failures"), counted from the exporter's probe_result_timestamp_seconds; 0 = probeFailingFor for
    // every service.  Its superseding down alerts (alertmanager.probeFailingSupersededBy) must then
    // not wait longer than (failures - 1) x probeInterval; the build checks it.
    probeFailingAfterFailures: 2,
    // ServiceDegraded: how long health 0.5 or slow probes must last.
    serviceDegradedFor: '5m',
    // TLS certificate expiry thresholds in days (warning, critical).
    tlsExpiryWarningDays: 14,
    tlsExpiryCriticalDays: 3,
    // Platform alerts (seeds' set) -----------------------------------------------------------
    // HighErrorRate: 5xx ratio over rateInterval above this pages (critical) after highErrorRateFor.
    highErrorRateThreshold: 0.05,
    highErrorRateFor: '2m',
    // ...only with at least this many requests per second over those 5m (1 failure in 10 requests
    // is no outage; set 0 to page on any traffic).
    highErrorRateMinRequestsPerSecond: 1,
    // HighErrorsPerSecond (seed 003's P1 "error rate > 1 error/s"): more 5xx per second than this over
    // rateInterval pages (critical, P1) after highErrorRateFor, whatever the ratio; 0 = no such alert.
    // HighErrorRate of the same service mutes it (alertmanager.highErrorRateMutes): one outage, one page.
    highErrorsPerSecondThreshold: 1,
    // Label matcher selecting server errors in http_requests_total (seeds use `code`; some apps `status`).
    httpErrorSelector: 'code=~"5.."',
    // APIHighLatency: this quantile of request duration above apiLatencyThresholdSeconds for apiLatencyFor.
    apiLatencyQuantile: 0.95,
    apiLatencyThresholdSeconds: 1,
    apiLatencyFor: '5m',
    // ...and a critical tier (pages) above this many seconds for apiLatencyCriticalFor (0 = none).
    apiLatencyCriticalSeconds: 5,
    apiLatencyCriticalFor: '5m',
    // WebSocketConnectionSpike (kind websocket): new connections per second over rateInterval above this.
    websocketConnectionRateThreshold: 100,
    // APIDown / DatabaseDown / RedisDown: how long the target must be down.
    downFor: '1m',
    // DatabaseErrorRateHigh: (deadlocks + recovery conflicts) / transactions (postgres_exporter) above
    // this ratio.  Rollbacks are not errors (read-only transactions often end with ROLLBACK).
    databaseErrorRatioThreshold: 0.005,
    // ...only with at least this many transactions (commits + rollbacks) per second over rateInterval.
    databaseMinTransactionsPerSecond: 1,
    // DatabaseConnectionPoolHigh: connections in use / max_connections above this ratio (info).
    databaseConnectionPoolThreshold: 0.8,
    // SMTPQueueBacklog: messages in the Postfix queue (postfix_exporter showq) above this.
    smtpQueueThreshold: 10000,
    // Metric counting queued messages (postfix_exporter: one histogram observation per queued message).
    smtpQueueMetric: 'postfix_showq_message_size_bytes_count',
    // EmailDeliveryFailing (seed 004's e-mail delivery failure rate): the application's
    // email_sent_total{status, source_ip} (docs/reputation.md's metric contract).  Failed / all e-mails
    // of a sending IP over rateInterval above emailFailureRatioThreshold, for alertFor.EmailDeliveryFailing,
    // only while that IP sends at least emailMinSentPerSecond (3 bounces of 10 mails are no trend).
    // The alert's `service` is reputationService (the sending service the IPs belong to).
    emailSentSelector: '',  // extra matchers on email_sent_total ('' = all; e.g. 'job="mailer"')
    emailFailureSelector: 'status!="success"',  // which e-mails failed (only `success` counts as sent)
    emailFailureRatioThreshold: 0.05,
    emailMinSentPerSecond: 0.1,
    // RedisErrorRateHigh: error replies / processed commands above this ratio, only with at least
    // redisMinCommandsPerSecond commands (the exporter's own scrape commands count too).
    redisErrorRatioThreshold: 0.05,
    redisMinCommandsPerSecond: 1,
    // RedisHighMemory: used / maxmemory above this ratio.
    redisMemoryThreshold: 0.9,
    // RedisLowHitRate: keyspace hit ratio below this, only when at least redisMinOpsPerSecond lookups happen.
    redisHitRateThreshold: 0.8,
    redisMinOpsPerSecond: 1,
    // Host alerts (node_exporter) and the `service` label they carry.
    nodeSelector: 'job="node"',
    nodeService: 'infrastructure',
    // Two tiers each (seed 003: P2 "high resource usage > 80%" is a warning to chat, P1 "resource
    // exhaustion > 95%" pages): the warning at ...Threshold, the critical at ...CriticalThreshold
    // (0 = no critical tier), both for the same ...For; the critical one mutes its warning twin.
    cpuUsageThreshold: 0.85,
    cpuUsageCriticalThreshold: 0.95,
    cpuUsageFor: '15m',
    memoryUsageThreshold: 0.85,
    memoryUsageCriticalThreshold: 0.95,
    memoryUsageFor: '10m',
    // LowDiskSpace: free share below diskFreeThreshold (warning) / diskFreeCriticalThreshold (critical).
    diskFreeThreshold: 0.2,
    diskFreeCriticalThreshold: 0.05,
    diskFreeFor: '10m',
    // DiskFillingUp: free space extrapolated over diskFillWindow reaches 0 within diskFillHours, on
    // a file system with less than diskFillFreeThreshold free, for diskFillFor.
    diskFillWindow: '6h',
    diskFillHours: 24,
    diskFillFreeThreshold: 0.4,
    diskFillFor: '1h',
    // DatabaseConnectionPoolFillingUp: connections extrapolated over connectionPoolFillWindow reach
    // max_connections within connectionPoolFillHours.
    connectionPoolFillWindow: '1h',
    connectionPoolFillHours: 1,
    // File systems LowDiskSpace ignores.
    diskFstypeSelector: 'fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs"',
    // Reputation alerts (reputation exporter) ---------------------------------------------------
    // Extra matchers on every reputation exporter series the alerts read ('' = all).
    reputationSelector: '',
    // `service` label of reputation alerts (the sending service the IPs belong to).
    reputationService: 'smtp',
    // List tiers whose listing pages (IPListedOnMajorBlacklist); other tiers warn.
    majorListTiers: ['major'],
    // IPReputationLow: score below this (the exporter's warning threshold).
    reputationScoreThreshold: 70,
    // DNSBLLookupsFailing: share of a list's lookups that failed, for dnsblLookupsFailingFor.
    dnsblLookupErrorRatio: 0.5,
    dnsblLookupsFailingFor: '30m',
    // DNSBLQueriesRefused: lookups a list refuses for one of these reasons (reputation_lookup_error
    // `reason`; the exporter's classify.REASONS) for alertFor.DNSBLQueriesRefused.  They do not heal
    // by waiting: our resolver is blocked, we are over the list's query limit, or the key is wrong.
    dnsblRefusalReasons: ['blocked_resolver', 'rate_limited', 'bad_key'],
    // DNSBLListDown: list failing its RFC 5782 test points for this long.
    dnsblListDownFor: '30m',
    // ReputationCheckStale: no completed check of a target for this many seconds (default interval 5m).
    reputationStaleSeconds: 3600,
    // Pipeline alerts -------------------------------------------------------------------------
    // Jobs scraping the infrawatch exporters.
    infrawatchSelector: 'job=~"infrawatch.*"',
    // `service` label of pipeline alerts (InfrawatchExporterDown, ...).
    pipelineService: 'infrawatch',
    // InfrawatchExporterDown severity: critical because every probe alert goes blind with it.
    exporterDownSeverity: 'critical',
    exporterDownFor: '5m',
    // InfrawatchSchedulerLagging: the most delayed scheduled probe or list check of an exporter
    // (infrawatch_scheduler_lag_seconds) started more than this many seconds late, for
    // schedulerLagFor: the exporter is overloaded and its results are older than their interval.
    schedulerLagThresholdSeconds: 30,
    schedulerLagFor: '10m',
    // TargetsAbsent: a required series (a service's `up` or probe results, node_exporter, the
    // infrawatch exporters) matched nothing for this long: the job vanished from discovery.
    // Switch the alerts off with disabledAlertGroups: ['infrawatch-absent'].
    absentFor: '15m',
    absentSeverity: 'warning',
    // How long the condition of the other alerts must hold before they fire (pending duration).
    alertFor: {
      TLSCertificateExpiringSoon: '10m',
      TLSCertificateInvalid: '5m',
      SMTPQueueBacklog: '5m',
      EmailDeliveryFailing: '15m',
      RedisErrorRateHigh: '5m',
      RedisHighMemory: '10m',
      RedisLowHitRate: '15m',
      // Not longer than probeFailingFor: it mutes ServiceProbeFailing of the red cluster.
      ElasticsearchClusterRed: '2m',
      ElasticsearchClusterYellow: '15m',
      DatabaseErrorRateHigh: '5m',
      WebSocketConnectionSpike: '5m',
      DatabaseConnectionPoolHigh: '5m',
      DatabaseConnectionPoolFillingUp: '15m',
      IPReputationLow: '15m',
      DNSBLQueriesRefused: '15m',
      ReputationCheckStale: '5m',
      InfrawatchConfigReloadFailed: '5m',
    },

    // ---- SLOs (slo/) ------------------------------------------------------------------------
    // @section slos
    // SLOs (docs/slo.md).  Each entry: service, name, objective (percent, 0 < x < 100), period
    // (default sloDefaults.period), description, labels (on every SLO series and alert, e.g. tenant,
    // team), info (only on the sloth_slo_info series: metadata that may change), sli and alerting.
    //   sli.events:  errorSelector (or goodSelector) and totalSelector: counters, rated per window;
    //                or errorQuery/goodQuery/totalQuery with a Sloth `{{.window}}` placeholder.
    //   sli.latency: metric (classic histogram base name), selector, threshold (seconds; must be one
    //                of `buckets`, default sloDefaults.latencyBuckets).
    //   sli.raw:     errorRatioQuery, a precomputed error ratio with `{{.window}}` (Sloth's raw SLI).
    //   alerting:    tiers { 'page-1h': false, ... } switches tiers off (page/ticket: false all of
    //                that severity); nearlyExhausted (bool);
    //                absent (SLOMetricAbsent); pageSeverity / ticketSeverity; labels and annotations added
    //                to the SLO's alerts; pageLabels/ticketLabels, pageAnnotations/ticketAnnotations per
    //                severity; name/absentName (alert names, with sloDefaults.specAlertNames).
    //   tiers:       optional, replaces sloDefaults.tiers for this SLO.
    //   test:        optional { good: [series], bad: [series] } input series for the generated
    //                promtool tests when they cannot be derived from the selectors.
    // Sloth (prometheus/v1 and the PrometheusServiceLevel CRD), OpenSLO v1 and Pyrra files in slos/ are
    // imported next to these (docs/slo.md).
    // The bundled SLOs are the seed's, on the service named 'api'; a service list without one
    // (an SRE's own) gets none of them rather than an evaluation error.
    local apiServices = std.filter(function(s) s.name == 'api', self.services),
    local sloApiSelector = apiServices[0].appSelector,
    slos: if apiServices == [] then [] else [
      {
        // Seed: 99.9% availability over 30 days.
        service: 'api',
        name: 'requests-availability',
        objective: 99.9,
        description: 'Share of API requests answered without a server error.',
        labels: { team: 'platform' },
        sli: { events: {
          errorSelector: 'http_requests_total{%s, code=~"5.."}' % sloApiSelector,
          totalSelector: 'http_requests_total{%s}' % sloApiSelector,
        } },
      },
      {
        // Seed: p95 < 300 ms, i.e. 95% of requests within 0.3 s over 30 days.
        service: 'api',
        name: 'requests-latency',
        objective: 95,
        description: 'Share of API requests served within 300 ms.',
        labels: { team: 'platform' },
        // Slow latency drifts are reviewed weekly: no 3-day ticket tier.
        alerting: { tiers: { 'ticket-3d': false } },
        sli: { latency: {
          metric: 'http_request_duration_seconds',
          selector: sloApiSelector,
          threshold: 0.3,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 1, 2.5, 5, 10],
        } },
      },
      {
        // Seed: 99.99% for the premium tenant (52.6 minutes of errors a year); tenant-labelled.
        service: 'api',
        name: 'tenant-acme-availability',
        objective: 99.99,
        description: 'Share of requests of tenant acme answered without a server error.',
        labels: { team: 'platform', tenant: 'acme' },
        info: { owner: 'sre@acme.example' },
        sli: { events: {
          errorSelector: 'http_requests_total{%s, tenant="acme", code=~"5.."}' % sloApiSelector,
          totalSelector: 'http_requests_total{%s, tenant="acme"}' % sloApiSelector,
        } },
      },
      {
        // A 28-day SLO (four full weeks): 99% of requests within 1 s; factors 13.44 / 5.6 / 2.8 / 0.93.
        service: 'api',
        name: 'requests-latency-1s-28d',
        objective: 99,
        period: '28d',
        description: 'Share of API requests served within 1 s, over four weeks.',
        labels: { team: 'platform' },
        sli: { latency: {
          metric: 'http_request_duration_seconds',
          selector: sloApiSelector,
          threshold: 1,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 1, 2.5, 5, 10],
        } },
      },
    ],
    sloDefaults: {
      // Period of SLOs that do not set one.
      period: '30d',
      // Multiwindow multi-burn-rate tiers (SRE workbook): a tier fires when `budgetPercent` of the
      // period's budget is spent within `long` (and the `short` = long/12 window confirms it is still
      // burning).  factor = budgetPercent/100 * period / long: 14.4, 6, 3, 1 for 30d; 13.44, 5.6,
      // 2.8, 0.93 for 28d.  severity page|ticket picks pageSeverity/ticketSeverity.
      tiers: [
        { name: 'page-1h', severity: 'page', budgetPercent: 2, long: '1h', short: '5m' },
        { name: 'page-6h', severity: 'page', budgetPercent: 5, long: '6h', short: '30m' },
        { name: 'ticket-1d', severity: 'ticket', budgetPercent: 10, long: '1d', short: '2h' },
        { name: 'ticket-3d', severity: 'ticket', budgetPercent: 10, long: '3d', short: '6h' },
      ],
      // `severity` label of page and ticket tiers (critical pages, warning goes to chat).
      pageSeverity: 'critical',
      ticketSeverity: 'warning',
      // SLOErrorBudgetNearlyExhausted fires when this percentage of the period's budget is spent.
      budgetExhaustedPercent: 90,
      // SLOMetricAbsent fires when an SLO's SLI series have been absent this long.
      absentFor: '10m',
      // true: burn-rate alerts of imported specs are named as the spec names them (Sloth's and
      // Pyrra's `alerting.name`), for routes and silences written against those names; false: every
      // SLO's alert is SLOErrorBudgetBurn (one runbook, one inhibit rule).
      specAlertNames: false,
      // true: imported Pyrra SLOs alert with Pyrra's own burn-rate windows (14/7/2/1 over 1h/5m, 6h/30m,
      // 1d/2h, 4d/6h for 28d, scaled by the window, with Pyrra's `for` and long/short/exhaustion
      // labels); false: with the `tiers` above, like every other SLO.
      specTiers: true,
      // Buckets assumed for latency SLIs that do not list theirs (client library defaults).
      latencyBuckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    },
    // SLO specs imported from files (filled by `make build` from slos/*.yaml; see docs/slo.md).
    sloImported: [],
    // Where the generated SLO tests (tests/rules/generated/) find the rule files, relative to them.
    sloTestRulesDir: '../../../rules/',

    // ---- Alertmanager routing (alertmanager/) ----------------------------------------------
    // @section alertmanager
    // Override one knob with `_config+:: { alertmanager+: { groupWait: '10s' } }`.  The routing tree,
    // tiers and the table of routing cases are described in docs/alerting.md.
    alertmanager: {
      // Directory holding the secret files; every relative `*File` path below is resolved against it.
      // Keep it outside the repository: Alertmanager reads the files when it sends a notification.
      secretsDir: '/etc/alertmanager/secrets',
      // Labels that make one notification group (one Slack message, one PagerDuty incident).
      groupBy: ['alertname', 'service', $._config.clusterLabel],
      // Wait before the first notification of a new group, so alerts firing together arrive together.
      groupWait: '30s',
      // Wait before notifying about alerts added to a group that was already notified.
      groupInterval: '5m',
      // Re-send a group that is still firing this often.
      repeatInterval: '4h',
      // An alert without endsAt (not from Prometheus) counts as resolved after this long.
      resolveTimeout: '5m',
      // Dead-man's switch: the always-firing Watchdog alert is posted to this webhook at fast timings and
      // the heartbeat service pages when the posts stop.  The URL must not carry a token (0.25 has no
      // url_file): the token goes in the Authorization header, read from credentialsFile.
      heartbeat: {
        url: 'https://heartbeat.example.com/api/v1/pings/infrawatch',
        credentialsFile: 'heartbeat-token',
        groupWait: '0s',
        groupInterval: '1m',
        repeatInterval: '1m',
      },
      pagerduty: {
        // Events API v2 endpoint (change only for a proxy or a test double).
        url: 'https://events.pagerduty.com/v2/enqueue',
        // Integration (routing) key of the service paged for critical alerts no team claims.
        routingKeyFile: 'pagerduty-default.key',
      },
      slack: {
        // File holding the incoming-webhook URL (the URL itself is the secret).
        apiURLFile: 'slack-webhook-url',
        // Catch-all channel: unmatched alerts, alerts with missing labels, warnings no team claims.
        defaultChannel: '#alerts',
        // Every critical alert is also posted here (the incident channel), whichever team owns it.
        criticalChannel: '#alerts-critical',
      },
      // E-mail for the P0 tier and for teams whose warnings go by mail (P2).  enabled: false removes
      // every e-mail receiver (teams must then not use `warningsTo: 'email'`).
      email: {
        enabled: true,
        smarthost: 'smtp.example.com:587',
        from: 'alertmanager@example.com',
        // SMTP AUTH user ('' = no AUTH) and the file with its password (written without a newline).
        authUsername: 'alertmanager@example.com',
        authPasswordFile: 'smtp-password',
        requireTLS: true,
        // Recipients of P0 mail for alerts whose team has no `email` (comma-separated list allowed).
        oncall: 'oncall@example.com',
      },
      // Tiers (seed 003): P0 and P1 = critical: pager, the critical channel and the team's mail (or
      // email.oncall); P0 is also mailed to p0EscalationEmail (the seed's "+ executives"); P2 = warning
      // to the team channel (or mail, per team).  A critical alert is P0 when its name is listed here.
      p0Alerts: ['APIDown', 'DatabaseDown', 'HighErrorRate', 'ServiceProbeFailing', 'SMTPServiceDown'],
      // Extra recipients of P0 mail ('' = the team's mail only; needs email.enabled).
      p0EscalationEmail: 'executives@example.com',
      // Info tier (seed 002: "performance degradation, within 1 h"): info alerts are mailed to the owning
      // team's mailbox (or email.oncall) as a digest: collected for groupWait, then new ones at most every
      // groupInterval, re-sent after repeatInterval, so someone reading mail hourly sees them.
      // slackChannel (seed 004: "info alerts -> Slack #monitoring"): '' = the mail digest above; a
      // channel name = info alerts of every team are posted there instead of mailed, with the same
      // digest timings (and sent even when email.enabled is false).  Default '': the channel must exist
      // and the webhook be allowed to post to it, or every info notification fails.  slackAPIURLFile:
      // the incoming-webhook URL file for that channel ('' = slack.apiURLFile; a Slack app's webhook
      // posts only to the channel it was created for, so a second channel usually needs its own).
      // enabled: false (or email.enabled false without slackChannel) = info is never sent.
      // severity="none" (kube-prometheus' InfoInhibitor) is never sent either way.
      info: {
        enabled: true,
        groupWait: '5m',
        groupInterval: '1h',
        repeatInterval: '24h',
        slackChannel: '',
        slackAPIURLFile: '',
      },
      // Teams: alerts with label team=<name>, or without a team label but with one of `services`, go to
      // the team: critical -> pagerduty-<name> (key from pagerdutyRoutingKeyFile) + the critical channel,
      // warning -> slackChannel (or `email` when warningsTo is 'email').  `email` (optional) receives the
      // team's critical (P0 and P1) mail and its info digest; without it they go to email.oncall.
      teams: [
        {
          name: 'platform',
          services: ['api', 'redis', 'elasticsearch', 'infrastructure', 'infrawatch'],
          slackChannel: '#platform-alerts',
          pagerdutyRoutingKeyFile: 'pagerduty-platform.key',
          email: 'platform-oncall@example.com',
        },
        {
          name: 'database',
          services: ['oltp-db', 'olap-db'],
          slackChannel: '#database-alerts',
          pagerdutyRoutingKeyFile: 'pagerduty-database.key',
        },
        {
          name: 'deliverability',
          services: ['smtp'],
          slackChannel: '#deliverability',
          pagerdutyRoutingKeyFile: 'pagerduty-deliverability.key',
          email: 'postmaster@example.com',
          warningsTo: 'email',
        },
      ],
      // Extra webhook receivers (incident log, ticketing...): each gets every alert matching `matchers`
      // (a `continue` route, so normal routing still happens).  Bearer token from credentialsFile.
      webhooks: [
        {
          name: 'incident-log',
          url: 'https://incidents.example.com/hooks/alertmanager',
          credentialsFile: 'incident-log-token',
          matchers: ['severity="critical"'],
        },
      ],
      // Named time intervals (Alertmanager `time_intervals` syntax) and the ones during which warning
      // notifications are muted.  Muted warnings are sent when the interval ends if still firing.
      // Critical routes (pager) are never muted.  [] = warnings are sent at any time.
      timeIntervals: {
        'outside-business-hours': [
          { weekdays: ['saturday', 'sunday'], location: 'UTC' },
          { weekdays: ['monday:friday'], times: [{ start_time: '00:00', end_time: '08:00' }], location: 'UTC' },
          { weekdays: ['monday:friday'], times: [{ start_time: '18:00', end_time: '24:00' }], location: 'UTC' },
        ],
      },
      // Default []: the seeds want warnings answered within 15 minutes / 1 hour at any hour.  Set
      // ['outside-business-hours'] to hold them until the next working day.
      warningMuteIntervals: [],
      // Inhibition (docs/alerting.md): alert name -> the labels that must be equal for the rule to apply.
      // These service-specific down alerts mute ServiceProbeFailing about the same thing, so an outage
      // pages once (their `for` must not exceed ServiceProbeFailing's; the build checks it).
      // DatabaseDown: the exporter's `cluster` label names the PostgreSQL cluster, not the probe's.
      probeFailingSupersededBy: {
        SMTPServiceDown: ['service'],
        ElasticsearchClusterRed: ['service', 'target'],
        RedisDown: ['service'],
        DatabaseDown: ['service'],
        APIDown: ['service'],
      },
      // ServiceProbeFailing mutes these alerts (symptoms of the outage): ServiceDegraded of the same
      // probed target only, the application's latency of the same service.
      probeFailingMutes: {
        ServiceDegraded: ['service', 'target', 'module'],
        APIHighLatency: ['service'],
      },
      // HighErrorRate mutes these alerts of the same service: the absolute errors-per-second page is
      // the same outage seen as a count (their `for` must not be shorter than HighErrorRate's; the
      // build checks it).
      highErrorRateMutes: {
        HighErrorsPerSecond: ['service'],
      },
      // Grafana page linked from notifications when an alert has no `dashboard_url` annotation.
      dashboardPath: '/dashboards?tag=infrawatch',
    },

    // ---- Grafana dashboards (dashboards/) --------------------------------------------------
    // @section dashboards
    // Override one knob with `_config+:: { dashboards+: { refresh: '30s' } }`.
    dashboards: {
      // Prefix of every dashboard title (e.g. 'Acme / '); '' = none.
      titlePrefix: '',
      // Window of every rate()/increase() in the dashboards (Grafana's `$__rate_interval` adapts to
      // the scrape interval and zoom; set e.g. '5m' for a fixed window).
      rateInterval: '$__rate_interval',
      // Per-tenant health (seed 001): the label naming the tenant ('' = no tenant variable).  When set,
      // the dashboards in tenantDashboards get a `tenant` variable (values of that label on
      // tenantVariableMetric) and every query matches it; "All" also matches series without the label
      // (the recording rules aggregate it away unless their selectors keep it).
      tenantLabel: '',
      tenantDashboards: ['infrawatch-overview.json', 'infrawatch-probes.json'],
      tenantVariableMetric: 'probe_success',
      // Prefix of every dashboard uid (uids stay stable so links and bookmarks survive rebuilds).
      uidPrefix: 'infrawatch-',
      // Extra tags on every dashboard (all carry `infrawatch`; the dashboards link to each other by it).
      tags: [],
      // Auto-refresh interval and default time range of the dashboards.
      refresh: '1m',
      defaultTimeRange: 'now-6h',
      // Alerts feed: how far back it lists alerts (the seed's "last 24 hours").
      alertsFeedRange: '24h',
      // Show each alert's summary in the feed (taken from the mixin's alert rules; costs one more
      // evaluation of the rule files at build time -- set false if `make build` gets too slow).
      alertsFeedSummaries: true,
      // Per-service detail stats under each service card are derived from the service's `kind` and
      // selectors in `services`; a service entry may carry `details: [{ title, expr, unit }]` instead.
      // Elasticsearch indexing lag (elasticsearch_exporter): average time to index one document.
      elasticsearchIndexingLagQuery: |||
        sum(rate(elasticsearch_indices_indexing_index_time_seconds_total{%(selector)s}[$__rate_interval]))
        /
        sum(rate(elasticsearch_indices_indexing_index_total{%(selector)s}[$__rate_interval]))
      |||,
      // Elasticsearch exporter selector for the query above.
      elasticsearchExporterSelector: 'job="elasticsearch"',
      // API requests dashboard (infrawatch-api.json, seeds 002/004): one section per http service
      // with an appSelector, from the application's http_requests_total, its
      // http_request_duration_seconds histogram and a request-size histogram.  The label names as the
      // application exports them (seeds: method, path, code; some apps route/handler, status).
      api: {
        endpointLabel: 'path',
        methodLabel: 'method',
        codeLabel: 'code',
        // A histogram of request body sizes ('' = no request-size panel).
        requestSizeMetric: 'http_request_size_bytes',
        // Rows of the busiest-endpoints table.
        topEndpoints: 10,
      },
      // Database dashboard (infrawatch-database.json): statements and tables from the custom queries
      // of deploy/postgres/queries.yaml (pg_stat_statements, pg_stat_user_tables), which already keep
      // the 20 costliest statements and the 50 largest tables; how many of them a panel shows.
      database: {
        topStatements: 10,
        topTables: 10,
      },
      // IP reputation table: emails sent per sending IP over the last day.  Must return one series per
      // IP with a `target` label equal to the reputation exporter's target (the IP).
      dailyVolumeQuery: |||
        sum by (target) (
          label_replace(increase(email_sent_total{status="success"}[1d]), "target", "$1", "source_ip", "(.+)")
        )
      |||,
      // The reputation exporter's status page (TXT reasons, delisting instructions); linked from the table.
      reputationStatusPageURL: 'http://localhost:9517/',
      // Score history span (the seed keeps 90 days of reputation scores).
      reputationHistoryRange: '90d',
      // Grafana provisioning: folder the dashboards go to, where Grafana finds the JSON files, and the
      // Prometheus data source it provisions (the dashboards' `datasource` variable defaults to it).
      grafanaFolder: 'infrawatch',
      grafanaDashboardsPath: '/var/lib/grafana/dashboards/infrawatch',
      prometheusDatasourceName: 'Prometheus',
      prometheusDatasourceUID: 'prometheus',
      prometheusURL: 'http://prometheus:9090',
    },

    // ---- Kubernetes manifests (deploy/kubernetes/) ---------------------------------------
    // @section kubernetes
    // Prometheus Operator flavour: Deployment, Service and ServiceMonitor per exporter, Probe objects
    // for `/probe` targets, PrometheusRule objects (docs/deployment.md).  Override one knob with
    // `_config+:: { kubernetes+: { namespace: 'observability' } }`.
    kubernetes: {
      // Namespace of every object (it must exist; the manifests do not create it).
      namespace: 'monitoring',
      // Image of both exporters (built from the repository's Dockerfile); the tag follows the release.
      image: 'ghcr.io/infrawatch/infrawatch:0.1.0',
      imagePullPolicy: 'IfNotPresent',
      // Resources of each exporter container (both are single-process asyncio programs).
      resources: {
        requests: { cpu: '50m', memory: '64Mi' },
        limits: { memory: '256Mi' },
      },
      // Labels on ServiceMonitor and Probe objects: what your Prometheus' serviceMonitorSelector and
      // probeSelector match (kube-prometheus: `release: <helm release>` or none).  PrometheusRule objects
      // carry `prometheusRuleLabels` (Common section) for the ruleSelector.
      monitorLabels: { prometheus: 'k8s' },
      // Scrape interval of the ServiceMonitors and default interval of the Probe objects.
      scrapeInterval: $._config.scrapeInterval,
      // Ports the exporters listen on (the defaults of docs/architecture.md).
      probePort: 9516,
      reputationPort: 9517,
      // Probe exporter shards: N > 1 makes N Deployments, each running `--shard i/N`, so every
      // scheduled target is probed by exactly one replica (docs/scaling.md).  All shards sit behind
      // one Service: `/probe` is not sharded and any replica serves it.  Each shard runs one pod:
      // two pods of one shard would both probe its targets and double every series.
      probeShards: 1,
      // Contents of the exporters' configuration files (ConfigMaps).  Secrets are never inline:
      // they are `*_file` paths under `secretsMountPath`, where the Secrets below are mounted.
      probeConfig: importstr 'deploy/config/probe.yml',
      reputationConfig: importstr 'deploy/config/reputation.yml',
      // Where the configuration files and the Secrets are mounted in the containers.
      configMountPath: '/etc/infrawatch/config',
      secretsMountPath: '/etc/infrawatch/secrets',
      // Secret (created by you, never generated) mounted into the reputation exporter, e.g.
      //   kubectl -n monitoring create secret generic infrawatch-reputation --from-file=dqs-key
      // reputation.yml names its files (`dqs_key_file: /etc/infrawatch/secrets/dqs-key`).
      // '' = no Secret mounted (then reputation.yml must not name secret files).
      reputationSecret: 'infrawatch-reputation',
      // Secret (created by you) mounted into the probe exporter for module credentials
      // (`password_file`, `bearer_token_file`, client certificates); '' = none.
      probeSecret: '',
      // Basic auth in front of both exporters ('' = off).  The Secret holds the exporter-toolkit web
      // config under `web-config.yml` (bcrypt hashes) and the scrape credentials under `username` and
      // `password`, read by the ServiceMonitors and Probes.  Kubelet health checks then use TCP.
      webConfigSecret: '',
      // State of the reputation exporter (last results, served at once after a restart): an emptyDir
      // survives container restarts, not rescheduling.  Set a PersistentVolumeClaim name to keep it.
      reputationStateClaim: '',
      // The operator console (the seed's Infrastructure Monitoring page, docs/console.md) as a third
      // Deployment, Service and ServiceMonitor in deploy/kubernetes/console.yaml.  It reads Prometheus and
      // Alertmanager at these URLs (kube-prometheus' Services by default), the reputation exporter's
      // API through its Service, and the generated overview dashboard from a ConfigMap; its audit log
      // is on an emptyDir.  Hooks (tickets, pool rotation) and upstream credentials: `consoleExtraConfig`
      // (`extraConfig`, merged into console.yml; secrets as `*_file` paths under secretsMountPath, in
      // the Secret named `secret`, '' = none).
      console: {
        enabled: true,
        port: 9518,
        prometheusURL: 'http://prometheus-k8s.monitoring.svc:9090',
        alertmanagerURL: 'http://alertmanager-main.monitoring.svc:9093',
        extraConfig: {},
        secret: '',
      },
      // The reputation exporter's own recursive resolver (Spamhaus refuses public and cloud ones):
      // Debian's unbound as a second container of the reputation pod, image built from
      // deploy/compose/unbound/Dockerfile.  It listens on `port` (non-root: above 1024) and answers
      // only the pod itself; reputation.yml's `resolver.nameservers` must be `127.0.0.1:<port>` (the
      // build fails otherwise).  Its configuration is `config` (jsonnet/deploy/config/unbound.conf)
      // plus the port and one stub-zone per `stubZones` entry: `{name: 'zen.spamhaus.org', addrs:
      // ['10.0.0.25@53']}` sends a list zone to your own mirror (rbldnsd) instead of resolving it
      // from the root servers.  `enabled: false` = no unbound; then point reputation.yml at yours.
      unbound: {
        enabled: true,
        image: 'ghcr.io/infrawatch/unbound:0.1.0',
        imagePullPolicy: 'IfNotPresent',
        port: 5353,
        stubZones: [],
        config: importstr 'deploy/config/unbound.conf',
        resources: {
          requests: { cpu: '20m', memory: '32Mi' },
          limits: { memory: '128Mi' },
        },
      },
      // Long-term history (docs/deployment.md "Long-term history"): `enabled: true` adds
      // deploy/kubernetes/victoria-metrics.yaml (single-node VictoriaMetrics: Deployment, its
      // PersistentVolumeClaim, Service `name` on `port`, ServiceMonitor for its own metrics) and
      // deploy/kubernetes/patches/prometheus-remote-write.yaml, a merge patch setting your
      // `Prometheus` object's `spec.remoteWrite` to it (also the jsonnet field
      // `kubernetesPrometheusRemoteWrite`).  The name stays outside `infrawatchSelector`'s
      // `infrawatch.*` jobs, so the pipeline alerts do not count it as an exporter.
      longTermStorage: {
        enabled: false,
        name: 'victoria-metrics',
        image: 'victoriametrics/victoria-metrics:v1.102.1',
        imagePullPolicy: 'IfNotPresent',
        // VictoriaMetrics' -retentionPeriod (a number is months; 1y, 90d...).
        retention: '1y',
        port: 8428,
        // The PersistentVolumeClaim; storageClassName '' = the cluster's default class.
        storageSize: '50Gi',
        storageClassName: '',
        resources: {
          requests: { cpu: '100m', memory: '512Mi' },
          limits: { memory: '2Gi' },
        },
        // More VictoriaMetrics flags, e.g. ['-dedup.minScrapeInterval=15s'].
        extraArgs: [],
      },
      // Probe objects: blackbox-style probing through the exporter's `/probe`, scraped by Prometheus
      // on its own schedule.  Fields: name, module (a module of probeConfig), service (label),
      // targets (every host must be in probeConfig's allowed_targets), interval (optional).
      probes: [
        {
          name: 'public-endpoints',
          module: 'http_2xx',
          service: 'api',
          targets: ['https://www.example.com/', 'https://api.example.com/healthz'],
        },
        {
          name: 'smtp-banner',
          module: 'smtp_starttls',
          service: 'smtp',
          interval: '60s',
          targets: ['mx1.example.com:25', 'mx2.example.com:25'],
        },
      ],
    },
  },
}
