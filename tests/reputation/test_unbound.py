"""Issue 14: the exporter asks a real recursive resolver — Debian's unbound, forwarding the list
zones to rbldnsd as an operator's own resolver would — and gets every answer right, including a
listing whose answer unbound truncates over UDP (a TXT too large for 512 bytes: asked again over
TCP) and a list unbound cannot reach (timeout or SERVFAIL: unknown, never clean)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infrawatch.reputation.config import load_config_text
from infrawatch.reputation.engine import Engine
from support import dnsbl_zones as z
from support.procs import free_udp_port
from support.rbldnsd import Rbldnsd
from support.unbound import Unbound

BIG_IP = "192.0.2.77"
BIG_Q = "77.2.0.192.big.test"
# three 250-byte strings: the reply is larger than 512 bytes, so unbound truncates it for a client without EDNS
BIG_TXT = " ".join('"' + c * 250 + '"' for c in "xyz")


@pytest.fixture(scope="module")
def resolver(tmp_path_factory: pytest.TempPathFactory, dnsbl: Rbldnsd):  # type: ignore[no-untyped-def]
    dead = f"127.0.0.1:{free_udp_port()}"  # nothing answers there
    ns = Unbound(
        Path(tmp_path_factory.mktemp("unbound")),
        stubs={"zen.test": dnsbl.address, "bar.test": dnsbl.address, "dbl.test": dnsbl.address, "gone.test": dead},
        local_zones=["big.test", "mailhosts.test"],
        local_data=[
            # hostname targets: a mail host with A + AAAA, a domain whose MX hosts are checked
            f"smtp.mailhosts.test. 60 IN A {z.SBL_IP}",
            f"smtp.mailhosts.test. 60 IN AAAA {z.CSS_V6}",
            "corp.mailhosts.test. 60 IN MX 10 mx1.mailhosts.test.",
            "corp.mailhosts.test. 60 IN MX 20 mx2.mailhosts.test.",
            f"mx1.mailhosts.test. 60 IN A {z.CLEAN_IP}",
            f"mx2.mailhosts.test. 60 IN A {z.PBL_IP}",
            "nomx.mailhosts.test. 60 IN A 192.0.2.55",
            "2.0.0.127.big.test. 60 IN A 127.0.0.2",
            f"{BIG_Q}. 60 IN A 127.0.0.2",
            f"{BIG_Q}. 60 IN A 127.0.0.4",
            f"{BIG_Q}. 60 IN TXT {BIG_TXT}",
        ],
    ).start()
    yield ns
    ns.stop()


async def test_everything_through_unbound(resolver: Unbound) -> None:
    lists = """
  - {name: zen, profile: spamhaus-zen, zone: zen.test}
  - {name: barracuda, profile: barracuda, zone: bar.test}
  - {name: dbl, profile: spamhaus-dbl, zone: dbl.test}
  - {name: big, profile: spamhaus-zen, zone: big.test}
  - {name: gone, profile: barracuda, zone: gone.test}
"""
    targets = f"""
  - {{ip: {z.CLEAN_IP}}}
  - {{ip: {z.SBL_IP}}}
  - {{ip: {z.CSS_V6}}}
  - {{ip: {z.ERR_254}}}
  - {{ip: {BIG_IP}}}
  - {{domain: {z.SPAM_DOMAIN}}}
  - {{domain: {z.CLEAN_DOMAIN}}}
"""
    e = Engine(load_config_text(z.config_yaml(resolver.address, lists, targets).replace("500ms", "2s")))
    try:
        await e.run_cycle(save=False)
    finally:
        await e.close()
    assert e.health["zen"].up and e.health["barracuda"].up and e.health["dbl"].up and e.health["big"].up
    sbl = e.results[(z.SBL_IP, "zen")]
    assert (sbl.status, sbl.categories, sbl.reasons) == ("listed", ["sbl"], [z.SBL_REASON])
    assert e.results[(z.CLEAN_IP, "zen")].status == "clean"
    assert e.results[(z.CSS_V6, "zen")].categories == ["css"]
    assert e.results[(z.SPAM_DOMAIN, "dbl")].status == "listed"
    assert e.results[(z.CLEAN_DOMAIN, "dbl")].status == "clean"
    assert e.results[(z.ERR_254, "zen")].reason == "blocked_resolver"
    big = e.results[(BIG_IP, "big")]
    assert (big.status, big.codes) == ("listed", ["127.0.0.2", "127.0.0.4"])
    assert big.reasons == ["x" * 250 + "y" * 250 + "z" * 250]  # the TXT answer unbound truncated over UDP
    assert e.queries_total[("big", "truncated")] >= 1 and e.resolver.tcp_sent_total >= 1
    # unbound cannot reach the list: it keeps trying upstream past our timeout (or answers SERVFAIL);
    # either way the list is down and its pairs unknown
    gone = e.health["gone"]
    assert not gone.up and gone.reason_code in ("servfail", "timeout"), gone.reason
    assert e.results[(z.CLEAN_IP, "gone")].status == "error"
    s = {x.target.value: x for x in e.summaries()}
    assert s[z.SBL_IP].status == "critical" and s[BIG_IP].status == "critical"


async def test_hostname_and_mx_targets_are_resolved_and_each_address_checked(resolver: Unbound) -> None:
    lists = "\n  - {name: zen, profile: spamhaus-zen, zone: zen.test}\n"
    targets = f"""
  - {{host: smtp.mailhosts.test, provider: own}}
  - {{domain: corp.mailhosts.test, mx: true, pool: inbound}}
  - {{domain: nomx.mailhosts.test, mx: true}}
  - {{host: missing.mailhosts.test}}
  - {{ip: {z.CLEAN_IP}}}
"""
    e = Engine(load_config_text(z.config_yaml(resolver.address, lists, targets).replace("500ms", "2s")))
    try:
        await e.run_cycle(save=False)
    finally:
        await e.close()
    by = {t.value: t for t in e.targets}
    assert by[z.SBL_IP].host == "smtp.mailhosts.test" and by[z.SBL_IP].provider == "own"
    assert by[z.CSS_V6].host == "smtp.mailhosts.test"
    assert by[z.PBL_IP].host == "mx2.mailhosts.test" and by[z.PBL_IP].pool == "inbound"
    assert by[z.CLEAN_IP].host == ""  # configured as an ip too: checked once, as configured
    assert by["192.0.2.55"].host == "nomx.mailhosts.test"  # no MX: the domain itself (RFC 5321 5.1)
    assert e.results[(z.SBL_IP, "zen")].status == "listed"
    assert e.results[(z.CSS_V6, "zen")].categories == ["css"]
    assert e.results[(z.PBL_IP, "zen")].categories == ["pbl-isp"]
    assert e.host_errors == {"missing.mailhosts.test": "no_address"}  # NXDOMAIN: shown, nothing to check
    from infrawatch.reputation.api import targets_document

    doc = targets_document(e)
    row = next(t for t in doc["targets"] if t["target"] == z.SBL_IP)
    assert row["host"] == "smtp.mailhosts.test" and row["status"] == "critical"
    from infrawatch.reputation.metrics import ReputationCollector
    from infrawatch.reputation.page import render

    info = {
        s.labels["target"]: s.labels["host"]
        for fam in ReputationCollector(lambda: e, lambda: 0.0).collect()
        for s in fam.samples
        if s.name == "reputation_target_info"
    }
    assert info[z.SBL_IP] == info[z.CSS_V6] == "smtp.mailhosts.test"  # labelled with the name it came from
    assert info[z.CLEAN_IP] == "" and info[z.PBL_IP] == "mx2.mailhosts.test"
    assert "via smtp.mailhosts.test" in render(doc, "t")
