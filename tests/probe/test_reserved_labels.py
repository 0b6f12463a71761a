"""Target labels the probe metrics use are refused at load, and what that protects: a real
Prometheus drops a whole scrape when a target label repeats a label of a probe family.

Regression: ``role`` (probe_redis_role_info) and ``status`` (probe_elasticsearch_cluster_status)
were missing from the hand-kept reserved list, so ``labels: {role: primary}`` loaded and then
every scrape failed ("label name is not unique"): ``up`` 0, no ``probe_success`` stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from infrawatch.probe.families import TARGET_LABELS
from infrawatch.probe.results import ResultStore, ScheduledTarget
from infrawatch.probe.runner import ProbeResult
from infrawatch.probe.sink import Sample
from infrawatch.probe.table import RESERVED_LABELS, all_families
from support.protocols import config_errors, load_modules
from support.tls import ServerThread

MODULES = """
modules:
  redis: {prober: redis}
"""


@pytest.mark.parametrize("name", sorted(RESERVED_LABELS))
def test_a_target_label_used_by_a_probe_family_is_refused(tmp_path: Path, name: str) -> None:
    errors = config_errors(
        tmp_path, MODULES + f"targets: [{{target: 'h:6379', module: redis, labels: {{{name}: x}}}}]\n"
    )
    assert len(errors) == 1 and f"label {name!r} is reserved" in errors[0], errors
    assert "invalid.yml:" in errors[0] and "targets[0].labels." + name in errors[0]


@pytest.mark.parametrize("name", ["role", "status"])
def test_a_file_sd_label_used_by_a_probe_family_is_refused(tmp_path: Path, name: str) -> None:
    from infrawatch.probe.targets import FileSD

    sd = tmp_path / "sd.json"
    sd.write_text(json.dumps([{"targets": ["h:6379"], "labels": {"module": "redis", name: "x"}}]))
    cfg = load_modules(tmp_path, MODULES + f"file_sd: [{{files: ['{sd}']}}]\n")
    file_sd = FileSD()
    file_sd.configure(cfg)
    file_sd.refresh()
    assert file_sd.targets() == []
    assert f"label {name!r} is reserved" in file_sd.errors()[str(sd)]


def test_other_label_names_load(tmp_path: Path) -> None:
    cfg = load_modules(
        tmp_path, MODULES + "targets: [{target: 'h:6379', module: redis, labels: {env: prod, tier: db}}]\n"
    )
    assert cfg.targets[0].labels == {"env": "prod", "tier": "db"}


def _every_family_result(target: str) -> ProbeResult:
    samples = []
    for fam in all_families():
        labels = {"banner": "x"} if fam.dynamic_labels else {label: "x" for label in fam.labels}
        samples.append(Sample(fam, 1.0, labels))
    return ProbeResult(target, "redis", True, 0.1, samples)


def _store(labels: dict[str, str]) -> ResultStore:
    store = ResultStore()
    store.set_targets([ScheduledTarget("h:6379", "redis", "cache", 30, labels)])
    store.put(_every_family_result("h:6379"))
    return store


def test_prometheus_scrapes_every_family_and_drops_a_clashing_scrape(prometheus_factory) -> None:
    allowed = _store({"env": "prod"})  # what the loader lets through
    clashing = _store({"role": "primary"})  # what the old hand-kept list let through
    families = {f.name for f in text_string_to_metric_families(allowed.exposition())}
    assert families == {f.name for f in all_families()}

    def app(store: ResultStore) -> web.Application:
        async def metrics(request: web.Request) -> web.Response:
            return web.Response(body=store.exposition_bytes(), content_type="text/plain")

        a = web.Application()
        a.router.add_get("/metrics", metrics)
        return a

    servers = ServerThread()
    try:
        ok_port, clash_port = servers.serve(app(allowed)), servers.serve(app(clashing))
        prom = prometheus_factory(
            {
                "scrape_configs": [
                    {"job_name": "allowed", "static_configs": [{"targets": [f"127.0.0.1:{ok_port}"]}]},
                    {"job_name": "clashing", "static_configs": [{"targets": [f"127.0.0.1:{clash_port}"]}]},
                ]
            }
        )
        prom.wait_for('up{job="allowed"} == 1', timeout=60)
        prom.wait_for('up{job="clashing"} == 0', timeout=60)
        # Every probe family of the allowed target is stored, with the target's labels.
        stored = {r["metric"]["__name__"] for r in prom.query('{job="allowed", env="prod"}')}
        assert stored == families
        assert prom.query('probe_success{job="clashing"}') == []
        errors = [t.get("lastError", "") for t in prom.targets() if t["labels"]["job"] == "clashing"]
        assert any("not unique" in e or "duplicate" in e for e in errors), errors
    finally:
        servers.stop()


def test_query_response_label_names_must_not_be_target_labels(tmp_path: Path) -> None:
    for name in TARGET_LABELS:
        errors = config_errors(
            tmp_path,
            "modules:\n  m:\n    prober: tcp\n    tcp:\n"
            f"      query_response: [{{expect: '^(.+)$', labels: [{{name: {name}, value: x}}]}}]\n",
        )
        assert len(errors) == 1 and f"label {name!r} is reserved" in errors[0], errors


def test_a_target_label_repeating_a_query_response_label_is_refused(tmp_path: Path) -> None:
    errors = config_errors(
        tmp_path,
        """
modules:
  banner:
    prober: tcp
    tcp:
      query_response: [{expect: "^220 (\\\\S+)", labels: [{name: host, value: "${1}"}]}]
targets: [{target: "mx:25", module: banner, labels: {host: a}}]
""",
    )
    assert len(errors) == 1 and "also a query_response label of module 'banner'" in errors[0], errors
