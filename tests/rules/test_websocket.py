"""Services of kind `websocket` (seed 004's WebSocketDown and WebSocketConnectionSpike).

The default config has no WebSocket server, so the mixin is rendered with one added (job ws-server)
and the resulting rules/websocket.yaml runs a promtool unit test: each alert fires on its condition
and stays quiet otherwise.
"""

from __future__ import annotations

from pathlib import Path

from infrawatch_dev.build import render
from support.rulefiles import own_rule_files, promtool

OVERRIDE = """{ _config+:: { services+: [
  { name: 'ws', title: 'WebSocket Server', kind: 'websocket',
    upSelector: 'job="ws-server"', appSelector: 'job="ws-server"' },
] } }"""

UNIT_TEST = """
rule_files: [websocket.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="ws-server", instance="ws-1:9091"}'
        values: '0x5'
      - series: 'up{job="ws-server", instance="ws-2:9091"}'
        values: '1x5'
      - series: 'ws_connections_total{job="ws-server", instance="ws-2:9091", status="connected"}'
        values: '0+9000x15'
    alert_rule_test:
      - eval_time: 5m
        alertname: WebSocketDown
        exp_alerts:
          - exp_labels: {severity: critical, service: ws, job: ws-server, instance: "ws-1:9091"}
            exp_annotations:
              summary: A WebSocket server is down.
              description: >-
                WebSocket Server (ws): Prometheus cannot scrape ws-1:9091 (job ws-server);
                live connections are dropped.
              runbook_url: https://github.com/infrawatch/infrawatch/blob/main/runbooks/WebSocketDown.md
      - eval_time: 15m
        alertname: WebSocketConnectionSpike
        exp_alerts:
          - exp_labels: {severity: warning, service: ws}
            exp_annotations:
              summary: WebSocket connections arrive at an unusual rate.
              description: >-
                WebSocket Server (ws): 150 new connections per second over 5m (threshold 100):
                a reconnect storm or abuse.
              runbook_url: https://github.com/infrawatch/infrawatch/blob/main/runbooks/WebSocketConnectionSpike.md
  - interval: 1m
    input_series:
      - series: 'up{job="ws-server", instance="ws-1:9091"}'
        values: '1x15'
      - series: 'ws_connections_total{job="ws-server", instance="ws-1:9091", status="connected"}'
        values: '0+600x15'
    alert_rule_test:
      - eval_time: 15m
        alertname: WebSocketDown
        exp_alerts: []
      - eval_time: 15m
        alertname: WebSocketConnectionSpike
        exp_alerts: []
"""


def test_websocket_alerts_fire_on_their_condition_only(tmp_path: Path) -> None:
    files = own_rule_files(OVERRIDE)
    assert "websocket" in files and "websocket" not in own_rule_files(), "no websocket service by default"
    (tmp_path / "websocket.yaml").write_text(render("websocket.yaml", files["websocket"]))
    (tmp_path / "test.yaml").write_text(UNIT_TEST)
    res = promtool("test", "rules", "test.yaml", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (Path(__file__).resolve().parents[2] / "runbooks" / "WebSocketDown.md").exists()
    assert (Path(__file__).resolve().parents[2] / "runbooks" / "WebSocketConnectionSpike.md").exists()
