"""The bundled demo configuration works against the demo zones (what `make demo` runs)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from infrawatch.reputation.cli import main as cli_main
from support.rbldnsd import start_rbldnsd, zones_from_datasets


def test_demo_config_and_zones(tmp_path: Path, repo_root: Path) -> None:
    server = start_rbldnsd(tmp_path / "dnsbl", zones_from_datasets(repo_root / "examples" / "demo-dnsbl"))
    try:
        text = (repo_root / "examples" / "reputation.yml").read_text()
        assert "127.0.0.1:5301" in text  # the placeholder the demo rewrites
        cfg = tmp_path / "reputation.yml"
        cfg.write_text(
            text.replace("127.0.0.1:5301", server.address).replace(
                ".demo/reputation-state.json", str(tmp_path / "state.json")
            )
        )
        out = io.StringIO()
        assert cli_main(["check", "--config", str(cfg)], out=out) == 1
        text = out.getvalue()
        status = dict(re.findall(r"^(\S+): status (\w+)", text, re.M))
        assert status["198.51.100.7"] == "critical"  # ZEN + Barracuda
        assert status["198.51.100.5"] == "good"
        # SpamCop only (minor, score 85): never "good" while listed anywhere (issue 14)
        assert status["198.51.100.8"] == "warning"
        assert status["2001:db8:100::7"] == "critical"
        assert status["promo-mailer.example"] == "critical"
        assert status["mail.example"] == "good"
        assert "UNKNOWN" not in text
    finally:
        server.cleanup()
