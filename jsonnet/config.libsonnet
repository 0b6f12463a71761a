// infrawatch mixin configuration: the one file SREs edit.  Every knob has a comment.
// Override from another mixin with `(import 'mixin.libsonnet') + { _config+:: { ... } }`.
{
  _config+:: {
    // ---- Common -------------------------------------------------------------------------
    // Labels added to every generated alert (e.g. { tenant: 'acme', cluster: 'eu-1' }).
    extraAlertLabels: {},
    // Where runbooks live; `%(alert)s` is replaced by the alert name.
    runbookURLPattern: 'https://github.com/infrawatch/infrawatch/blob/main/runbooks/%(alert)s.md',
    // Grafana base URL used in alert links (dashboard link in notifications).
    grafanaURL: 'http://localhost:3000',
    // Prometheus scrape interval the rules assume (rate windows are at least 4x this).
    scrapeInterval: '15s',
    // Labels on the generated PrometheusRule objects (match your Prometheus' ruleSelector).
    prometheusRuleLabels: { prometheus: 'k8s', role: 'alert-rules' },

    // ---- Services, alerts and recording rules (alerts/, rules/) ---------------------------
    // @section alerts

    // ---- SLOs (slo/) ------------------------------------------------------------------------
    // @section slos

    // ---- Alertmanager routing (alertmanager/) ----------------------------------------------
    // @section alertmanager

    // ---- Grafana dashboards (dashboards/) --------------------------------------------------
    // @section dashboards
  },
}
