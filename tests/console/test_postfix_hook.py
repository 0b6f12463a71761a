"""The reference rotation hook on a real Postfix (Debian's ``postfix``).

A private Postfix instance (its own config and queue directories, smtpd on a free loopback port)
relays to a local sink (aiosmtpd) with two sending pools bound to 127.0.0.2 (transactional) and
127.0.0.3 (backup).  The first message leaves from 127.0.0.2; the console's rotation runner calls
the hook (``infrawatch.console.hooks.postfix_rotate``, JSON on stdin); the next message leaves
from 127.0.0.3.  The last case drives the same through a console process's rotate POST.
Postfix's master runs as root (it drops to the ``postfix`` user), so the test
needs root; it stops only the master it started (``postfix -c DIR stop``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from aiosmtpd.controller import Controller

from infrawatch.console.actions import call_hook
from infrawatch.console.config import Hook
from infrawatch_dev.devstack.console import ConsoleProc
from infrawatch_dev.devstack.procs import free_port, wait_port
from infrawatch_dev.devstack.receivers import HTTPRequest, RecordingHTTPServer

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
pytestmark = [
    pytest.mark.skipif(not os.path.exists(POSTFIX), reason="Debian package postfix not installed (scripts/bootstrap)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="a private Postfix master must start as root"),
]
POOLS = {"transactional": "127.0.0.2", "backup": "127.0.0.3"}

MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class Sink:
    """Records (source address, Subject) of every message delivered to it."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self.cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:
        subject = next(
            (
                line.split(":", 1)[1].strip()
                for line in envelope.content.decode().splitlines()
                if line.startswith("Subject:")
            ),
            "",
        )
        with self.cond:
            self.received.append((session.peer[0], subject))
            self.cond.notify_all()
        return "250 OK"

    def wait(self, subject: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for peer, subj in self.received:
                    if subj == subject:
                        return peer
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{subject!r} not delivered; got {self.received}")
                self.cond.wait(left)


def pf(conf: Path, *args: str) -> None:
    """Run ``postfix -c conf ARGS``; Postfix prints errors only to a terminal, so a failure is run
    again under ``script`` (a pseudo-terminal) to show its message."""
    argv = [POSTFIX, "-c", str(conf), *args]
    if subprocess.run(argv, capture_output=True, timeout=60).returncode != 0:
        again = subprocess.run(
            ["script", "-qec", " ".join(argv), "/dev/null"], capture_output=True, text=True, timeout=60
        )
        raise RuntimeError(f"{' '.join(argv)} failed: {again.stdout.strip()}")


@pytest.fixture
def postfix() -> Iterator[tuple[Path, int, Sink]]:
    sink = Sink()
    sink_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink_port)
    controller.start()
    # Postfix's daemons run as user postfix: the directory must be traversable (pytest's tmp is 0700).
    root = Path(tempfile.mkdtemp(prefix="infrawatch-postfix-", dir="/tmp"))
    root.chmod(0o755)
    conf, smtpd_port = root / "etc", free_port()
    conf.mkdir()
    (root / "spool").mkdir(mode=0o755)
    (root / "data").mkdir(mode=0o700)
    shutil.chown(root / "data", "postfix", "postfix")
    master = MASTER_CF.format(listen=f"127.0.0.1:{smtpd_port}") + "".join(
        f"pool_{pool} unix - - n - - smtp -o smtp_bind_address={addr} -o syslog_name=postfix/pool_{pool}\n"
        for pool, addr in POOLS.items()
    )
    (conf / "master.cf").write_text(master)
    (conf / "main.cf").write_text(
        "\n".join(
            [
                "compatibility_level = 3.6",
                f"queue_directory = {root / 'spool'}",
                f"data_directory = {root / 'data'}",
                f"maillog_file = {root / 'maillog'}",
                f"maillog_file_prefixes = {root}",
                "mail_owner = postfix",
                "setgid_group = postdrop",
                "myhostname = mta.infrawatch.test",
                "mydestination =",
                "mynetworks = 127.0.0.0/8",
                "inet_interfaces = loopback-only",
                "inet_protocols = ipv4",
                f"relayhost = [127.0.0.1]:{sink_port}",
                "default_transport = pool_transactional",
                "smtp_tls_security_level = none",
                "alias_maps =",
                "alias_database =",
                "",
            ]
        )
    )
    started = False
    try:
        pf(conf, "check")
        pf(conf, "start")
        started = True
        wait_port("127.0.0.1", smtpd_port, 30)
        yield conf, smtpd_port, sink
    finally:
        if started:
            subprocess.run([POSTFIX, "-c", str(conf), "stop"], capture_output=True, timeout=60)
        controller.stop()
        shutil.rmtree(root, ignore_errors=True)


def send(port: int, subject: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "news@infrawatch.test", "reader@example.net", subject
    msg.set_content("hello")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.send_message(msg)


def rotation_hook(conf: Path) -> Hook:
    return Hook(
        command=[sys.executable, "-m", "infrawatch.console.hooks.postfix_rotate", "--config-dir", str(conf)],
        timeout=60,
    )


def test_next_message_leaves_from_the_backup_address(postfix: tuple[Path, int, Sink]) -> None:
    conf, port, sink = postfix
    send(port, "before rotation")
    assert sink.wait("before rotation") == POOLS["transactional"]

    action = {
        "action": "rotate_to_backup_pool",
        "ip": POOLS["transactional"],
        "from_pool": "transactional",
        "to_pool": "backup",
    }
    result = asyncio.run(call_hook(None, rotation_hook(conf), "rotation", action))  # type: ignore[arg-type]
    assert "pool_transactional -> pool_backup" in result
    out = subprocess.run([POSTCONF, "-c", str(conf), "-h", "default_transport"], capture_output=True, text=True)
    assert out.stdout.strip() == "pool_backup"

    send(port, "after rotation")
    assert sink.wait("after rotation") == POOLS["backup"]
    # running it again is harmless: already on the backup pool
    again = asyncio.run(call_hook(None, rotation_hook(conf), "rotation", action))  # type: ignore[arg-type]
    assert "already sending through pool_backup" in again


class TargetInfo(RecordingHTTPServer):
    """The reputation exporter's target info for the transactional address (the pool lookup the
    console makes before it rotates); the exporter itself is not needed for that."""

    def respond(self, req: HTTPRequest) -> web.Response:
        ip = POOLS["transactional"]
        return web.Response(
            text=f'reputation_target_info{{target="{ip}",kind="ip",provider="own",pool="transactional"}} 1\n'
        )


def test_rotate_button_of_the_console_moves_postfix_to_the_backup_pool(
    postfix: tuple[Path, int, Sink], tmp_path: Path, prometheus_factory: Callable
) -> None:
    """The whole chain: the console's confirmed rotation POST -> the reference hook -> Postfix."""
    conf, port, sink = postfix
    with TargetInfo() as info:
        prom = prometheus_factory(
            {"scrape_configs": [{"job_name": "rep", "static_configs": [{"targets": [f"127.0.0.1:{info.port}"]}]}]}
        )
        prom.wait_for("reputation_target_info", 60)
        cfg = tmp_path / "console.yml"
        command = rotation_hook(conf).command
        cfg.write_text(
            yaml.safe_dump(
                {
                    "prometheus_url": prom.url,
                    "alertmanager_url": f"http://127.0.0.1:{free_port()}",
                    "audit_log": "audit.jsonl",
                    "backup_pools": {"transactional": "backup"},
                    "hooks": {"rotation": {"command": command, "timeout": "60s"}},
                }
            )
        )
        console = ConsoleProc(cfg, tmp_path).start()
        try:
            send(port, "first")
            assert sink.wait("first") == POOLS["transactional"]
            with urllib.request.urlopen(console.page_url, timeout=30) as r:
                page = r.read().decode()
                cookie = r.headers["Set-Cookie"].split(";")[0]
            token = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
            data = urllib.parse.urlencode({"csrf": token, "ip": POOLS["transactional"], "confirm": "yes"}).encode()
            req = urllib.request.Request(
                console.page_url + "/actions/rotate", data=data, method="POST", headers={"Cookie": cookie}
            )
            with urllib.request.urlopen(req, timeout=90) as r:
                assert "Sending moved from pool transactional to backup" in r.read().decode()
        finally:
            console.stop()
    send(port, "second")
    assert sink.wait("second") == POOLS["backup"]
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(e["action"], e["result"], e["from_pool"], e["to_pool"]) for e in audit] == [
        ("rotate", "ok", "transactional", "backup")
    ]
    assert "pool_transactional -> pool_backup" in audit[0]["hook_result"]


def test_refuses_when_the_pool_is_not_in_use_or_the_backup_is_missing(postfix: tuple[Path, int, Sink]) -> None:
    from infrawatch.console.actions import ActionError

    conf, _, _ = postfix
    hook = rotation_hook(conf)
    with pytest.raises(ActionError, match="default_transport is 'pool_transactional', not 'pool_marketing'"):
        asyncio.run(call_hook(None, hook, "rotation", {"ip": "x", "from_pool": "marketing", "to_pool": "backup"}))  # type: ignore[arg-type]
    with pytest.raises(ActionError, match="no transport 'pool_spare'"):
        asyncio.run(call_hook(None, hook, "rotation", {"ip": "x", "from_pool": "transactional", "to_pool": "spare"}))  # type: ignore[arg-type]
    with pytest.raises(ActionError, match="is not a pool name"):
        asyncio.run(call_hook(None, hook, "rotation", {"ip": "x", "from_pool": "a;rm", "to_pool": "backup"}))  # type: ignore[arg-type]
    out = subprocess.run([POSTCONF, "-c", str(conf), "-h", "default_transport"], capture_output=True, text=True)
    assert out.stdout.strip() == "pool_transactional"
