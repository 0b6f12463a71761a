"""``--probe.allowed-targets``: an unchanged blackbox.yml is usable, and the 403 body and the
start-up log say exactly what to add."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.probeutil import ExporterProc, Targets

BLACKBOX_YML = Path(__file__).parent / "data" / "blackbox" / "blackbox-0.23.yml"


@pytest.fixture
def unchanged_blackbox_yml(tmp_path: Path) -> Path:
    f = tmp_path / "blackbox.yml"
    shutil.copy(BLACKBOX_YML, f)
    return f


def test_without_the_flag_every_target_is_refused_and_the_log_says_what_to_add(
    tmp_path: Path, unchanged_blackbox_yml: Path, targets: Targets
) -> None:
    e = ExporterProc(unchanged_blackbox_yml, tmp_path)
    try:
        code, text = e.get("/probe?module=http_2xx&target=" + targets.http())
        assert code == 403
        assert "--probe.allowed-targets=127.0.0.1" in text
        assert f"allowed_targets: in {unchanged_blackbox_yml}" in text
        log = e.proc.log()
        assert "no allowed_targets" in log and "--probe.allowed-targets=HOST" in log, log
    finally:
        e.stop()


def test_the_flag_allows_what_it_lists_and_only_that(
    tmp_path: Path, unchanged_blackbox_yml: Path, targets: Targets
) -> None:
    e = ExporterProc(
        unchanged_blackbox_yml,
        tmp_path,
        ["--probe.allowed-targets=127.0.0.1,*.example.org", "--probe.allowed-targets=10.0.0.0/8"],
    )
    try:
        code, text = e.get("/probe?module=http_2xx&target=" + targets.http())
        assert code == 200 and "probe_success 1" in text, text
        code, text = e.get(f"/probe?module=tcp_connect&target=127.0.0.1:{targets.http_port}")
        assert code == 200 and "probe_success 1" in text, text
        code, text = e.get("/probe?module=http_2xx&target=http://192.0.2.7/")
        assert code == 403 and "--probe.allowed-targets=192.0.2.7" in text
        assert "/probe allowed targets" in e.proc.log()
    finally:
        e.stop()


def test_a_bad_flag_entry_is_refused_at_start(unchanged_blackbox_yml: Path) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "infrawatch.probe.main",
            f"--config.file={unchanged_blackbox_yml}",
            "--probe.allowed-targets=http://x/",
            "--config.check",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "invalid allowed_targets entry 'http://x/'" in r.stderr, r.stderr


def test_redirect_hops_obey_the_flag_too(tmp_path: Path, unchanged_blackbox_yml: Path, targets: Targets) -> None:
    """A redirect to another host is followed when --probe.allowed-targets allows that host."""
    from aiohttp import web

    app = web.Application()

    async def away(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://localhost:{targets.http_port}/ok")

    app.router.add_get("/away", away)
    port = targets.servers.serve(app)
    target = f"http://127.0.0.1:{port}/away"
    refused = ExporterProc(unchanged_blackbox_yml, tmp_path, ["--probe.allowed-targets=127.0.0.1"])
    try:
        code, text = refused.get("/probe?module=http_2xx&target=" + target)
        assert code == 200 and "probe_success 0" in text and 'reason="redirect_not_allowed"' in text, text
    finally:
        refused.stop()
    allowed = ExporterProc(unchanged_blackbox_yml, tmp_path, ["--probe.allowed-targets=127.0.0.1,localhost"])
    try:
        code, text = allowed.get("/probe?module=http_2xx&target=" + target)
        assert code == 200 and "probe_success 1" in text and "probe_http_redirects 1" in text, text
    finally:
        allowed.stop()
