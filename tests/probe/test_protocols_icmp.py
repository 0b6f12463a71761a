"""icmp prober: echo to 127.0.0.1 and ::1 through both socket kinds.

In this process (root, ``net.ipv4.ping_group_range`` = ``1 0`` here) the kernel refuses ping
sockets, so probes go through the raw-socket fallback.  The ping-socket path is tested in a child
process in a network namespace of its own (``unshare --net``): ``ping_group_range`` is a per-
namespace sysctl, so setting it there changes nothing outside the child, and ``setpriv`` drops
``CAP_NET_RAW`` from the child so a raw socket cannot be what answered.  A silent target (no reply
until the deadline) is also made inside such a namespace: an address routed to ``lo`` that is not
local is dropped without an answer.  Packets go to loopback only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from support.loopback import NO_IPV6_REASON, has_ipv6_loopback
from support.protocols import config_errors, load_modules, metrics, probe

MODULES = """
modules:
  icmp:
    prober: icmp
  icmp4:
    prober: icmp
    icmp: {preferred_ip_protocol: ip4, ip_protocol_fallback: false}
  big_df_ttl:
    prober: icmp
    icmp: {payload_size: 1400, dont_fragment: true, ttl: 7}
  from_loopback:
    prober: icmp
    icmp: {source_ip_address: 127.0.0.1}
"""

TESTS = Path(__file__).resolve().parents[1]


needs_ipv6 = pytest.mark.skipif(not has_ipv6_loopback(), reason=NO_IPV6_REASON)


def socket_kind(lines: list[str]) -> str | None:
    """The socket kind the probe log names (``kind='ping'`` or, in logfmt, ``kind=ping``)."""
    for line in lines:
        if "socket" in line.lower() and (m := re.search(r"\bkind=['\"]?(ping|raw)\b", line)):
            return m.group(1)
    return None


def _phases(m: dict) -> dict[str, float]:
    return {dict(labels)["phase"]: v for (name, labels), v in m.items() if name == "probe_icmp_duration_seconds"}


@pytest.fixture
def cfg(tmp_path: Path):
    return load_modules(tmp_path, MODULES)


@pytest.mark.parametrize(("target", "version"), [("127.0.0.1", 4), pytest.param("::1", 6, marks=needs_ipv6)])
async def test_echo_reply_from_loopback(cfg, target: str, version: int) -> None:
    r = await probe(cfg, "icmp", target, timeout=2)
    assert r.success, r.failure_message
    m = metrics(r)
    assert m[("probe_ip_protocol", ())] == version
    assert m[("probe_icmp_reply_hop_limit", ())] == 64  # Linux's default TTL / hop limit on lo
    phases = _phases(m)
    assert set(phases) == {"resolve", "setup", "rtt"}
    assert 0 < phases["rtt"] < 1 and phases["setup"] > 0
    assert socket_kind(r.log_lines) == "raw"  # ping sockets are refused here (see the module docstring)


async def test_name_target_and_ip_protocol(cfg) -> None:
    r = await probe(cfg, "icmp4", "localhost", timeout=2)
    assert r.success, r.failure_message
    assert metrics(r)[("probe_ip_protocol", ())] == 4
    assert metrics(r)[("probe_dns_lookup_time_seconds", ())] > 0


def _captured_requests(sniffer: socket.socket) -> list[bytes]:
    """The IPv4 echo requests a raw socket saw on lo (IP header included)."""
    out = []
    while True:
        try:
            data = sniffer.recv(65536)
        except BlockingIOError:
            return out
        if data[(data[0] & 0x0F) * 4] == 8:
            out.append(data)


@pytest.mark.skipif(os.geteuid() != 0, reason="reading the request off lo needs a raw socket (root)")
async def test_payload_and_ttl_are_on_the_wire(cfg) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sniffer:
        sniffer.setblocking(False)
        r = await probe(cfg, "big_df_ttl", "127.0.0.1", timeout=2)
        assert r.success, r.failure_message
        sent = [p for p in _captured_requests(sniffer) if len(p) == 20 + 8 + 1400]
    assert sent, "no 1400-byte echo request seen on lo"
    ip_header = sent[-1][:20]
    assert ip_header[8] == 7  # ttl (DF: see test_dont_fragment_refuses_a_packet_above_the_mtu)
    # The reply carries the kernel's own TTL, not ours.
    assert metrics(r)[("probe_icmp_reply_hop_limit", ())] == 64


async def test_source_address(cfg) -> None:
    r = await probe(cfg, "from_loopback", "127.0.0.1", timeout=2)
    assert r.success, r.failure_message


async def test_unresolvable_name_fails_dns_with_all_phases(cfg) -> None:
    r = await probe(cfg, "icmp4", "no-such-host.invalid", timeout=2)
    assert not r.success and r.failure_reason == "dns"
    m = metrics(r)
    assert set(_phases(m)) == {"resolve", "setup", "rtt"}  # as blackbox: all phases, 0 when not reached
    assert _phases(m)["rtt"] == 0
    assert ("probe_icmp_reply_hop_limit", ()) not in m


def test_config_errors_are_located(tmp_path: Path) -> None:
    errors = config_errors(
        tmp_path,
        "modules:\n  a:\n    prober: icmp\n    icmp:\n      ttl: 300\n      payload_size: -1\n"
        "      source_ip_address: nope\n      preferred_ip_protocol: ip5\n",
    )
    text = "\n".join(errors)
    for key in ("modules.a.icmp.ttl", "modules.a.icmp.payload_size", "modules.a.icmp.source_ip_address"):
        assert key in text
    assert "modules.a.icmp.preferred_ip_protocol" in text
    assert all("invalid.yml:" in e for e in errors)
    (unknown,) = config_errors(tmp_path, "modules:\n  a:\n    prober: icmp\n    icmp:\n      count: 3\n")
    assert "invalid.yml:5: modules.a.icmp.count: unknown key" in unknown


# --- in a network namespace of its own ---------------------------------------------------------

CHILD = r"""
import asyncio, json, socket, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from support.protocols import load_modules, metrics, probe
target, timeout, section, sniff = sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5] == "sniff"
cfg = load_modules(Path(tempfile.mkdtemp()), "modules:\n  icmp:\n    prober: icmp\n    icmp: " + section + "\n")
sniffer = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) if sniff else None
r = asyncio.run(probe(cfg, "icmp", target, timeout=timeout))
wire = []  # (ttl, DF) of the IPv4 echo requests seen on lo
while sniffer is not None:
    sniffer.setblocking(False)
    try:
        data = sniffer.recv(65536)
    except BlockingIOError:
        break
    if data[(data[0] & 0x0F) * 4] == 8:
        wire.append((data[8], bool(int.from_bytes(data[6:8], "big") & 0x4000)))
print(json.dumps({"success": r.success, "reason": r.failure_reason, "message": r.failure_message, "wire": wire,
                  "log": r.log_lines, "metrics": {k[0] + json.dumps(dict(k[1])): v for k, v in metrics(r).items()}}))
"""


def _netns_available() -> str | None:
    if os.geteuid() != 0:
        return "needs root to make a network namespace"
    for tool in ("unshare", "setpriv", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    done = subprocess.run(["unshare", "--net", "true"], capture_output=True)
    return None if done.returncode == 0 else f"unshare --net failed: {done.stderr.decode().strip()}"


NETNS_SKIP = _netns_available()
needs_netns = pytest.mark.skipif(NETNS_SKIP is not None, reason=NETNS_SKIP or "")


def run_in_netns(
    target: str,
    *,
    ping_range: str,
    raw: bool,
    setup: str = "",
    timeout: float = 2,
    section: str = "{}",
    sniff: bool = False,
) -> dict:
    """Probe ``target`` from a child in a new network namespace with ``ping_range`` as its
    ``net.ipv4.ping_group_range``, with or without ``CAP_NET_RAW``; ``section`` is the module's
    ``icmp:`` section; with ``sniff`` the child reads its own echo requests off lo (needs ``raw``)."""
    drop = [] if raw else ["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw", "--"]
    script = (
        f"set -e; ip link set lo up; echo '{ping_range}' > /proc/sys/net/ipv4/ping_group_range; {setup} exec \"$@\""
    )
    cmd = ["unshare", "--net", "sh", "-c", script, "sh", *drop, sys.executable, "-c", CHILD, str(TESTS), target]
    args = [str(timeout), section, "sniff" if sniff else "-"]
    done = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@needs_netns
@pytest.mark.parametrize("target", ["127.0.0.1", pytest.param("::1", marks=needs_ipv6)])
def test_ping_socket_without_cap_net_raw(target: str) -> None:
    out = run_in_netns(target, ping_range="0 2147483647", raw=False)
    assert out["success"], out
    assert socket_kind(out["log"]) == "ping", out["log"]
    assert out["metrics"]["probe_icmp_reply_hop_limit{}"] == 64


@needs_netns
def test_raw_fallback_when_ping_sockets_are_refused() -> None:
    out = run_in_netns("127.0.0.1", ping_range="1 0", raw=True)
    assert out["success"], out
    assert any("ping socket refused" in line.lower() and "'1 0'" in line for line in out["log"]), out["log"]
    assert socket_kind(out["log"]) == "raw"


@needs_netns
def test_neither_socket_kind_allowed_is_reason_socket() -> None:
    out = run_in_netns("127.0.0.1", ping_range="1 0", raw=False)
    assert not out["success"] and out["reason"] == "socket", out
    assert "ping_group_range" in out["message"] and "CAP_NET_RAW" in out["message"]


@needs_netns
@pytest.mark.parametrize("raw", [True, False], ids=["raw", "ping"])
def test_silent_target_times_out(raw: bool) -> None:
    # 10.77.0.1 is routed to lo but is no local address: the request is dropped, nobody answers.
    out = run_in_netns(
        "10.77.0.1", ping_range="0 2147483647", raw=raw, setup="ip route add 10.77.0.1/32 dev lo;", timeout=0.5
    )
    assert not out["success"] and out["reason"] == "timeout", out
    assert "10.77.0.1" in out["message"]
    assert "probe_icmp_reply_hop_limit{}" not in out["metrics"]


@needs_netns
@pytest.mark.parametrize("raw", [True, False], ids=["raw", "ping"])
def test_dont_fragment_refuses_a_packet_above_the_mtu(raw: bool) -> None:
    # Linux sets DF on small packets anyway (path MTU discovery); what dont_fragment changes is that
    # a request above the MTU is refused instead of fragmented.  lo's MTU is lowered in the child's
    # namespace; a 2000-byte payload passes fragmented without the option and is refused with it.
    mtu = "ip link set lo mtu 1280;"
    big = "{payload_size: 2000}"
    out = run_in_netns("127.0.0.1", ping_range="0 2147483647", raw=raw, setup=mtu, section=big)
    assert out["success"], out
    df = "{payload_size: 2000, dont_fragment: true}"
    out = run_in_netns("127.0.0.1", ping_range="0 2147483647", raw=raw, setup=mtu, section=df)
    assert not out["success"] and out["reason"] == "connect_error", out
    assert "too long" in out["message"].lower()
    if not raw:
        assert socket_kind(out["log"]) == "ping"  # DF without a raw socket


@needs_netns
def test_ttl_on_a_ping_socket() -> None:
    # CAP_NET_RAW kept only so the child can read its own request off lo; the prober still takes
    # the ping socket first (allowed by ping_group_range).
    out = run_in_netns("127.0.0.1", ping_range="0 2147483647", raw=True, section="{ttl: 9}", sniff=True)
    assert out["success"], out
    assert socket_kind(out["log"]) == "ping", out["log"]
    assert [ttl for ttl, _df in out["wire"]] == [9]
