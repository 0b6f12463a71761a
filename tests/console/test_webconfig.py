"""The exporters' web config applies to the console: TLS and basic auth; the audit log names the
authenticated user.  A real console process (its upstreams are unreachable; not needed here)."""

from __future__ import annotations

import base64
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import bcrypt
import pytest
import trustme

from infrawatch_dev.devstack.console import ConsoleProc
from infrawatch_dev.devstack.procs import free_port


@pytest.fixture
def console(tmp_path: Path):
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    leaf.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    web = tmp_path / "web.yml"
    hashed = bcrypt.hashpw(b"b0b-pass", bcrypt.gensalt(4)).decode()
    web.write_text(
        f"tls_server_config: {{cert_file: server.pem, key_file: server.pem}}\nbasic_auth_users: {{bob: '{hashed}'}}\n"
    )
    dead = f"http://127.0.0.1:{free_port()}"
    cfg = tmp_path / "console.yml"
    cfg.write_text(
        f"prometheus_url: {dead}\nalertmanager_url: {dead}\nupstream_timeout: 1s\n"
        f"audit_log: audit.jsonl\nhooks: {{rotation: {{command: [/bin/true]}}}}\n"
    )
    c = ConsoleProc(cfg, tmp_path, [f"--web.config.file={web}"]).start()
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    try:
        yield c, ctx, tmp_path
    finally:
        c.stop()


def auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_tls_and_basic_auth_and_audited_user(console) -> None:
    c, ctx, tmp_path = console
    assert c.url.startswith("https://")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(c.page_url, context=ctx, timeout=30)
    assert exc.value.code == 401
    req = urllib.request.Request(c.page_url, headers=auth("bob", "b0b-pass"))
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        page = r.read().decode()
        cookie = r.headers["Set-Cookie"].split(";")[0]
    assert 'Signed in as <b id="user">bob</b>' in page
    assert "Secure" in r.headers["Set-Cookie"] and "SameSite=Strict" in r.headers["Set-Cookie"]
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf": token, "ip": "198.51.100.5", "confirm": "yes"}).encode()
    post = urllib.request.Request(
        c.page_url + "/actions/rotate", data=data, method="POST", headers={**auth("bob", "b0b-pass"), "Cookie": cookie}
    )
    with urllib.request.urlopen(post, context=ctx, timeout=30) as r:
        # redirected back to the page, which says why nothing happened (Prometheus is unreachable)
        assert "Rotation failed: Prometheus: unreachable" in r.read().decode()
    entries = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert entries[-1]["user"] == "bob" and entries[-1]["action"] == "rotate" and entries[-1]["result"] == "failed"
    # a token from another cookie is refused
    forged = urllib.request.Request(
        c.page_url + "/actions/rotate",
        data=data,
        method="POST",
        headers={**auth("bob", "b0b-pass"), "Cookie": "iw_csrf=" + "x" * 43},
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(forged, context=ctx, timeout=30)
    assert exc.value.code == 403
    # a cross-origin POST is refused even with a valid token
    cross = urllib.request.Request(
        c.page_url + "/actions/rotate",
        data=data,
        method="POST",
        headers={**auth("bob", "b0b-pass"), "Cookie": cookie, "Origin": "https://evil.example"},
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(cross, context=ctx, timeout=30)
    assert exc.value.code == 403


def test_a_crafted_link_cannot_put_text_on_the_page(console) -> None:
    c, ctx, _ = console
    for query in ("?flash=made-up", "?done=Rotation+done", "?failed=call+0800-NOPE"):
        req = urllib.request.Request(c.page_url + query, headers=auth("bob", "b0b-pass"))
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            page = r.read().decode()
        assert 'id="flash"' not in page and "Rotation done" not in page and "0800-NOPE" not in page
