"""The scheduled-results store: pre-rendered exposition, relabelling on reload, removal."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from infrawatch.probe.families import SUCCESS
from infrawatch.probe.net.tls import SSL_LAST_CHAIN_INFO
from infrawatch.probe.probers.http import HTTP_DURATION
from infrawatch.probe.results import RecentProbes, ResultStore, ScheduledTarget, render_samples
from infrawatch.probe.runner import ProbeResult
from infrawatch.probe.sink import Sample

SUBJECT = 'CN=a "quoted"\\name\nx'
CHAIN_INFO = {"fingerprint_sha256": "ab", "subject": SUBJECT, "issuer": "CN=ca", "subjectalternative": ""}


def result(target: str, ok: bool = True) -> ProbeResult:
    samples = [
        Sample(SUCCESS, 1 if ok else 0),
        Sample(HTTP_DURATION, 0.25, {"phase": "connect"}),
        Sample(SSL_LAST_CHAIN_INFO, 1, CHAIN_INFO),
    ]
    return ProbeResult(target, "http_2xx", ok, 0.5, samples, "" if ok else "status_code", "")


def parse(text: str) -> dict[tuple, float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_exposition_groups_and_escapes() -> None:
    store = ResultStore()
    a = ScheduledTarget("http://a/", "http_2xx", "api", 30, {"env": "prod"})
    b = ScheduledTarget("http://b/", "http_2xx", "web", 30)
    store.set_targets([a, b])
    store.put(result("http://a/"))
    store.put(result("http://b/", ok=False))
    store.put(result("http://gone/"))  # not scheduled: dropped
    text = store.exposition()
    assert text.count("# TYPE probe_success gauge") == 1
    got = parse(text)
    assert (
        got[("probe_success", (("env", "prod"), ("module", "http_2xx"), ("service", "api"), ("target", "http://a/")))]
        == 1
    )
    assert got[("probe_success", (("module", "http_2xx"), ("service", "web"), ("target", "http://b/")))] == 0
    subjects = {dict(k[1])["subject"] for k in got if k[0] == "probe_ssl_last_chain_info"}
    assert subjects == {'CN=a "quoted"\\name\nx'}
    assert not any(dict(k[1]).get("target") == "http://gone/" for k in got)
    assert store.results[("http://b/", "http_2xx")].health == "down"


def test_relabel_and_remove_on_set_targets() -> None:
    store = ResultStore()
    store.set_targets(
        [
            ScheduledTarget("http://a/", "http_2xx", "api", 30, {"env": "prod"}),
            ScheduledTarget("http://b/", "http_2xx", "web", 30),
        ]
    )
    store.put(result("http://a/"))
    store.put(result("http://b/"))
    store.set_targets([ScheduledTarget("http://a/", "http_2xx", "api2", 30, {"env": "dev"})])
    got = parse(store.exposition())
    targets = {dict(k[1])["target"] for k in got}
    assert targets == {"http://a/"}
    assert all(dict(k[1])["service"] == "api2" and dict(k[1])["env"] == "dev" for k in got)


def test_render_samples_for_probe_endpoint() -> None:
    text = render_samples(result("x").samples)
    got = parse(text)
    assert got[("probe_success", ())] == 1
    assert got[("probe_http_duration_seconds", (("phase", "connect"),))] == 0.25


def test_recent_probes_keep_failures_longer() -> None:
    recent = RecentProbes(2)
    for i in range(10):
        recent.add(result(f"ok{i}"))
        recent.add(result(f"bad{i}", ok=False))
    names = [r.target for r in recent.newest_first()]
    assert sum(n.startswith("ok") for n in names) == 2
    assert sum(n.startswith("bad") for n in names) == 8
