// WebSocket servers (seed 004's WebSocket dashboard): active connections by role and per session,
// connections opened and closed, errors by type (why connections end), messages sent and received,
// connection duration.  One section per service of kind `websocket` with an appSelector (declared
// once in _config.services); the connection-rate line is WebSocketConnectionSpike's threshold.
local lib = import '../lib/dashboards.libsonnet';
local r = import '../lib/rules.libsonnet';
local servers(cfg) = [s for s in cfg.services if s.kind == 'websocket' && std.objectHas(s, 'appSelector')];

{
  grafanaDashboards+:: {
    local cfg = $._config,
    local dcfg = cfg.dashboards,

    local section(s) =
      local a = r.sel([s.appSelector]);
      local rate(metric, by='') = lib.sumRate(metric, a, by);
      [
        lib.row(s.title),
        [
          lib.stat('Active connections', [lib.target('sum(ws_connections_active%s)' % a, instant=true)], 'none') + lib.size(6, 4),
          lib.stat('New connections',
                   [lib.target('sum(rate(ws_connections_total%s[$__rate_interval]))' % r.sel([s.appSelector, 'status="connected"']), instant=true)],
                   'cps',
                   description='Connections opened per second (WebSocketConnectionSpike above %g for all statuses).' % cfg.websocketConnectionRateThreshold,
                   decimals=2,
                   steps=[[null, 'green'], [cfg.websocketConnectionRateThreshold, 'red']]) + lib.size(6, 4),
          lib.stat('Errors', [lib.target(rate('ws_errors_total'), instant=true)], 'eps', decimals=2, steps=[[null, 'green'], [1, 'yellow']]) + lib.size(6, 4),
          lib.stat('Mean connection duration',
                   [lib.target('%s / %s' % [rate('ws_connection_duration_seconds_sum'), rate('ws_connection_duration_seconds_count')], instant=true)],
                   's') + lib.size(6, 4),
        ],
        [
          lib.timeseries('Active connections by role',
                         [lib.target('sum by (role) (ws_connections_active%s)' % a, '{{role}}')],
                         'none',
                         min=0,
                         stack=true) + lib.size(8, 8),
          lib.timeseries('Connections per session',
                         [lib.target('topk(10, sum by (session_id) (ws_connections_active%s))' % a, '{{session_id}}')],
                         'none',
                         description='The ten sessions with the most open connections (VStudioSessionActive-style: viewers per live session).',
                         min=0) + lib.size(8, 8),
          lib.timeseries('Connections opened and closed',
                         [lib.target('%s * 60' % rate('ws_connections_total', 'status'), '{{status}}')],
                         'none',
                         description='Per minute, by status.',
                         min=0) + lib.size(8, 8),
        ],
        [
          lib.timeseries('Disconnection reasons',
                         [lib.target(rate('ws_errors_total', 'type'), '{{type}}')],
                         'eps',
                         description='Errors by type (auth_failed, rate_limited, timeout, ...), stacked.',
                         min=0,
                         stack=true) + lib.size(8, 8),
          lib.timeseries('Messages', [
            lib.target(rate('ws_messages_sent_total'), 'sent'),
            lib.target(rate('ws_messages_received_total'), 'received', 'B'),
          ], 'mps', min=0) + lib.size(8, 8),
          lib.timeseries('Connection duration', [
            lib.target('histogram_quantile(0.5, %s)' % rate('ws_connection_duration_seconds_bucket', 'le'), 'p50'),
            lib.target('histogram_quantile(0.9, %s)' % rate('ws_connection_duration_seconds_bucket', 'le'), 'p90', 'B'),
            lib.target('%s / %s' % [rate('ws_connection_duration_seconds_sum'), rate('ws_connection_duration_seconds_count')], 'mean', 'C'),
          ], 's', min=0) + lib.size(8, 8),
        ],
      ],

    [if servers($._config) != [] then 'infrawatch-websocket.json']: lib.dashboard(
      uid=dcfg.uidPrefix + 'websocket',
      title='WebSocket',
      description='WebSocket servers: active connections by role and session, connections opened and closed, errors by type, messages, connection duration.',
      tags=dcfg.tags + ['websocket'],
      time=dcfg.defaultTimeRange,
      refresh=dcfg.refresh,
      links=lib.dashboardLinks,
      panels=lib.layout(std.flattenArrays([section(s) for s in servers(cfg)])),
    ),
  },
}
