"""Issue 15 item 3: passwords in ``proxy_url`` and in DSN targets are masked everywhere shown.

A real probe exporter with a proxy_url ``http://user:password@proxy`` (a real forward proxy on
loopback, which must still get the credentials) and a scheduled ``postgres://app:password@...``
target: neither password appears in ``/config`` (YAML and JSON), ``/probe?debug=true``, the
status page, ``/metrics`` (the ``target`` label) or the exporter's log, and ``--config.check``
warns about both, located.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import yaml

from infrawatch.core.logs import mask_userinfo
from support.httptarget import ForwardProxy, make_app
from support.probeutil import ExporterProc
from support.tls import ServerThread

PROXY_PW = "proxy-pass-7781"
DSN_PW = "dsn-pass-9932"


def test_userinfo_passwords_never_shown(tmp_path: Path) -> None:
    servers = ServerThread()
    try:
        web_port = servers.serve(make_app())
        proxy = ForwardProxy()
        proxy_port = servers.serve_stream(proxy.handle)
        cfg = tmp_path / "probe.yml"
        cfg.write_text(
            yaml.safe_dump(
                {
                    "modules": {
                        "http_proxy": {
                            "prober": "http",
                            "timeout": "5s",
                            "http": {"proxy_url": f"http://puser:{PROXY_PW}@127.0.0.1:{proxy_port}"},
                        },
                        "pg": {"prober": "tcp", "timeout": "1s"},
                    },
                    "allowed_targets": ["127.0.0.1"],
                    "targets": [
                        {"target": f"postgres://app:{DSN_PW}@127.0.0.1:1/app", "module": "pg", "service": "db"}
                    ],
                },
                sort_keys=False,
            )
        )
        check = subprocess.run(
            [sys.executable, "-m", "infrawatch.probe.main", f"--config.file={cfg}", "--config.check"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.returncode == 0, check.stderr
        assert f"{cfg}:6: modules.http_proxy.http.proxy_url: holds a password" in check.stderr, check.stderr
        assert "targets[0].target: holds a password" in check.stderr, check.stderr
        assert PROXY_PW not in check.stderr + check.stdout and DSN_PW not in check.stderr + check.stdout

        e = ExporterProc(cfg, tmp_path, ["--log.level=debug"])
        try:
            target = f"http://127.0.0.1:{web_port}/ok"
            q = urllib.parse.urlencode({"target": target, "module": "http_proxy", "debug": "true"})
            status, debug = e.get(f"/probe?{q}")
            assert status == 200 and "probe_success 1" in debug, debug
            # The proxy still got the credentials it was configured with.
            assert proxy.auth[-1] == "Basic " + base64.b64encode(f"puser:{PROXY_PW}".encode()).decode()
            deadline = time.monotonic() + 10
            while e.metric("probe_success", service="db") is None and time.monotonic() < deadline:
                time.sleep(0.1)
            shown = {
                "/config": e.get("/config")[1],
                "/config?format=json": e.get("/config?format=json")[1],
                "/probe?debug=true": debug,
                "/": e.get("/")[1],
                "/metrics": e.get("/metrics")[1],
            }
            assert "puser:<secret>@" in shown["/config"] and "app:<secret>@" in shown["/config"]
            assert 'target="postgres://app:<secret>@127.0.0.1:1/app"' in shown["/metrics"]
        finally:
            e.stop()
        shown["log"] = e.proc.log() if e.proc else ""
        leaks = [where for where, text in shown.items() if PROXY_PW in text or DSN_PW in text]
        assert leaks == []
    finally:
        servers.stop()


def test_mask_userinfo() -> None:
    assert mask_userinfo("http://u:p%40ss@proxy:3128/") == "http://u:<secret>@proxy:3128/"
    assert mask_userinfo("postgres://app@db/x") == "postgres://app@db/x"  # no password: unchanged
    assert mask_userinfo("host=db user=u password=s3cr3t") == "host=db user=u password=<secret>"
    assert mask_userinfo("see http://a:b@h/ and ftp://c:d@i/") == "see http://a:<secret>@h/ and ftp://c:<secret>@i/"
