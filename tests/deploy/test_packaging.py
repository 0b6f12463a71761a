"""The product's wheel (what the Docker image installs) holds the exporters and the console alone:
no dev stack, build tools or SLO importer, and no Jsonnet binding among its runtime dependencies."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_product_wheel_has_only_the_exporters_and_console(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("infrawatch-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(z.read(meta_name).decode())
    packages = {n.split("/")[1] for n in names if n.startswith("infrawatch/") and n.count("/") > 1}
    assert packages == {"core", "probe", "reputation", "console"}
    assert not [n for n in names if n.startswith("infrawatch_dev") or n.endswith(("build.py", "slo_import.py"))]
    runtime = [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]
    assert runtime and not [r for r in runtime if "jsonnet" in r.lower()]
    build_extra = [r for r in meta.get_all("Requires-Dist") or [] if 'extra == "build"' in r]
    assert [r.split(">")[0].split(";")[0].strip() for r in build_extra] == ["rjsonnet"]


def test_license_file_is_the_apache_2_text_pyproject_names() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text.splitlines()[1] and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX: How to apply the Apache License" in text
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text()
