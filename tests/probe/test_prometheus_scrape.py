"""A real Prometheus scrapes the exporter twice over: blackbox-style relabelling through /probe
and scheduled mode on /metrics; probe_success for every target is read from its query API."""

from __future__ import annotations

from pathlib import Path

from support.probeutil import ExporterProc, Targets, write_config


def test_prometheus_reads_probe_success_both_ways(prometheus_factory, targets: Targets, tmp_path: Path) -> None:
    expected = {targets.http("/ok"): 1, targets.http("/status/500"): 0, "http://127.0.0.1:9/": 0}
    cfg = write_config(
        tmp_path / "probe.yml",
        targets,
        {
            "targets": [{"target": t, "module": "http_2xx", "service": f"svc{i}"} for i, t in enumerate(expected)]
            + [{"target": targets.https("valid"), "module": "http_tls", "service": "tls"}]
        },
    )
    e = ExporterProc(cfg, tmp_path)
    try:
        address = f"127.0.0.1:{e.port}"
        prom = prometheus_factory(
            {
                "scrape_configs": [
                    {
                        "job_name": "blackbox",
                        "metrics_path": "/probe",
                        "params": {"module": ["http_2xx"]},
                        "scrape_interval": "1s",
                        "scrape_timeout": "1s",
                        "static_configs": [{"targets": list(expected)}],
                        "relabel_configs": [
                            {"source_labels": ["__address__"], "target_label": "__param_target"},
                            {"source_labels": ["__param_target"], "target_label": "instance"},
                            {"target_label": "__address__", "replacement": address},
                        ],
                    },
                    {
                        "job_name": "scheduled",
                        "scrape_interval": "1s",
                        "scrape_timeout": "1s",
                        "static_configs": [{"targets": [address]}],
                    },
                ]
            }
        )

        def got(job: str, label: str) -> dict[str, float]:
            return {r["metric"][label]: float(r["value"][1]) for r in prom.query(f'probe_success{{job="{job}"}}')}

        prom.wait_for('count(probe_success{job="blackbox"}) == 3', timeout=60)
        assert got("blackbox", "instance") == expected
        prom.wait_for('count(probe_success{job="scheduled"}) == 4', timeout=60)
        scheduled = got("scheduled", "target")
        assert scheduled == {**expected, targets.https("valid"): 1}
        # the scheduled series carry the contract's labels
        rows = prom.query('probe_success{job="scheduled",service="tls",module="http_tls"}')
        assert len(rows) == 1
        assert prom.query('probe_failure_info{job="blackbox",reason="status_code"}')
    finally:
        e.stop()
