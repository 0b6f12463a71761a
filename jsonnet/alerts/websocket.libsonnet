// WebSocket servers (seed 004): the server down, and an unusual rate of new connections.
// For services of kind `websocket`: upSelector selects the server's `up`, appSelector its
// ws_connections_total.
local r = import '../lib/rules.libsonnet';

{
  ruleFiles+:: r.ruleFile($._config, 'websocket', [
    r.group($._config, 'infrawatch-websocket', std.flattenArrays([
      (if std.objectHas(s, 'upSelector') then [{
         alert: 'WebSocketDown',
         expr: 'up%s == 0' % r.sel([s.upSelector]),
         'for': $._config.downFor,
         severity: 'critical',
         service: s.name,
         summary: 'A WebSocket server is down.',
         description: '%s (%s): Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}); live connections are dropped.' % [s.title, s.name],
       }] else [])
      + (if std.objectHas(s, 'appSelector') then [{
           alert: 'WebSocketConnectionSpike',
           expr: 'sum(rate(ws_connections_total%s[%s])) > %g' % [r.sel([s.appSelector]), $._config.rateInterval, $._config.websocketConnectionRateThreshold],
           'for': $._config.alertFor.WebSocketConnectionSpike,
           severity: 'warning',
           service: s.name,
           summary: 'WebSocket connections arrive at an unusual rate.',
           description: '%s (%s): {{ $value | humanize }} new connections per second over %s (threshold %g): a reconnect storm or abuse.' % [s.title, s.name, $._config.rateInterval, $._config.websocketConnectionRateThreshold],
         }] else [])
      for s in r.servicesOfKind($._config, 'websocket')
    ])),
  ]),
}
