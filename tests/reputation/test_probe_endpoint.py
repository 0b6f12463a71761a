"""Issue 14: ``GET /probe?target=`` on the reputation exporter (dnsbl_exporter's prober mode), behind
the allow-list and a rate budget, answered from the cache while a cycle's answer is fresh; against
a real exporter process and rbldnsd."""

from __future__ import annotations

import json
from pathlib import Path

from support import dnsbl_zones as z
from support.rbldnsd import Rbldnsd
from support.reputation_exporter import ReputationExporterProc, all_checked

from .test_exporter import sample


def sent(metrics: str) -> float:
    return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("reputation_queries_total{"))


def test_probe_endpoint(tmp_path: Path, dnsbl: Rbldnsd) -> None:
    extra = "probe:\n  allowed_targets: ['192.0.2.8/29', '*.example']\n  max_per_minute: 6\n"
    ex = ReputationExporterProc(tmp_path, z.config_yaml(dnsbl.address, extra=extra)).start()
    try:
        ex.wait_api(all_checked)
        before = ex.get("/metrics")[1]
        sent_before = sum(
            v
            for line in before.splitlines()
            if line.startswith("reputation_queries_total{")
            for v in [float(line.split()[-1])]
        )
        # a configured target: answered from the cycle's fresh answers (no new packets)
        status, body = ex.get(f"/probe?target={z.SBL_IP}")
        assert status == 200, body
        assert sample(body, "reputation_listed", target=z.SBL_IP, list="zen") == 1
        assert sample(body, "reputation_status", target=z.SBL_IP, status="critical") == 1
        assert (
            sample(body, "reputation_listing_info", target=z.SBL_IP, list="zen", code="127.0.0.2", category="sbl") == 1
        )
        after = ex.get("/metrics")[1]
        sent_after = sum(
            v
            for line in after.splitlines()
            if line.startswith("reputation_queries_total{")
            for v in [float(line.split()[-1])]
        )
        assert sent_after == sent_before
        # allowed by probe.allowed_targets (a CIDR): listed PBL address, JSON format
        status, body = ex.get(f"/probe?target={z.PBL_IP}&format=json")
        assert status == 200, body
        # not cached: it was asked, and every packet it sent counts in reputation_queries_total
        assert sent(ex.get("/metrics")[1]) >= sent_after + 2  # at least zen (A + TXT) and barracuda (A)
        again = sent(ex.get("/metrics")[1])
        assert ex.get(f"/probe?target={z.PBL_IP}&format=json")[0] == 200
        assert sent(ex.get("/metrics")[1]) == again  # asked again while fresh: from the cache
        doc = json.loads(body)
        zen = next(li for li in doc["lists"] if li["list"] == "zen")
        assert (doc["status"], zen["status"], zen["categories"]) == ("critical", "listed", ["pbl-isp"])
        status, body = ex.get("/probe?target=spam.example")  # a wildcard domain
        assert status == 200 and sample(body, "reputation_listed", target="spam.example", list="dbl") == 1
        # not allowed, not a target, empty
        assert ex.get("/probe?target=198.51.100.1")[0] == 403
        assert ex.get("/probe?target=other.test")[0] == 403
        assert ex.get("/probe?target=")[0] == 400
        assert ex.get("/probe?target=%01%02")[0] == 400
        # the budget: 6 a minute, 4 used by the allowed ones above (a cached answer counts too)
        codes = [ex.get(f"/probe?target={z.CLEAN_IP}")[0] for _ in range(4)]
        assert codes == [200, 200, 429, 429]
    finally:
        ex.stop()
