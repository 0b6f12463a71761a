"""The Dockerfile's image starts with its default configuration -- checked without a container engine.

No engine runs here (tests/deploy/test_compose.py says why), so this test reads the Dockerfile the
way ``docker build`` would for what matters: the final stage's ``COPY`` instructions (which file of
the build context lands where), ``.dockerignore``, and ``CMD``.  The default command's program must
be a console script of the wheel the image installs, its ``--config.file`` must be a file the image
gets from the build context, and that file must pass the exporter's own ``--config.check``; then the
exporter really starts on it (on a free loopback port instead of the image's ``:9516``) and answers
``/-/ready``.  The other default config in the image (the reputation exporter's) is checked too.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path, PurePosixPath

import pytest

from infrawatch_dev.devstack.exporters import ExporterProc
from support.deploycheck import EXPORTER_MODULES, config_check, iter_files

ROOT = Path(__file__).resolve().parents[2]


def instructions(text: str) -> list[tuple[int, str, str]]:
    """``(line, INSTRUCTION, arguments)`` with continuation lines joined and comments dropped."""
    out, buf, start = [], "", 0
    for n, line in enumerate(text.splitlines(), 1):
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if not buf:
            start = n
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.strip().partition(" ")
        out.append((start, word.upper(), rest.strip()))
        buf = ""
    return out


def final_stage(text: str) -> list[tuple[int, str, str]]:
    ins = instructions(text)
    last_from = max(i for i, (_, word, _) in enumerate(ins) if word == "FROM")
    return ins[last_from:]


def ignored(rel: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(rel, p) or rel.startswith(p.rstrip("/") + "/") for p in patterns)


def copied_files(stage: list[tuple[int, str, str]], patterns: list[str]) -> dict[str, Path]:
    """Container path -> build-context file, for the stage's COPY instructions from the context."""
    files: dict[str, Path] = {}
    for line, word, args in stage:
        if word != "COPY":
            continue
        parts = json.loads(args) if args.startswith("[") else shlex.split(args)
        if any(p.startswith("--from") for p in parts):
            continue
        parts = [p for p in parts if not p.startswith("--")]
        *sources, dest = parts
        for src in sources:
            host = ROOT / src
            assert host.exists(), f"Dockerfile:{line}: COPY source {src} is not in the build context"
            into_dir = dest.endswith("/") or len(sources) > 1 or host.is_dir()
            for f in [host] if host.is_file() else [p for p in host.rglob("*") if p.is_file()]:
                rel = f.relative_to(ROOT).as_posix()
                if ignored(rel, patterns):
                    continue
                if host.is_dir():
                    target = PurePosixPath(dest) / f.relative_to(host).as_posix()
                else:
                    target = PurePosixPath(dest) / f.name if into_dir else PurePosixPath(dest)
                files[str(target)] = f
    return files


@pytest.fixture(scope="module")
def image() -> tuple[list[str], dict[str, Path]]:
    stage = final_stage((ROOT / "Dockerfile").read_text())
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip()]
    cmds = [args for _, word, args in stage if word == "CMD"]
    assert cmds, "the final stage has no CMD"
    cmd = json.loads(cmds[-1])  # exec form: no shell in between
    assert isinstance(cmd, list) and all(isinstance(a, str) for a in cmd)
    return cmd, copied_files(stage, patterns)


def flag(argv: list[str], name: str) -> str:
    values = [a.split("=", 1)[1] for a in argv if a.startswith(name + "=")]
    assert values, f"{name} missing in {argv}"
    return values[-1]


def test_default_command_is_an_installed_console_script(image) -> None:
    cmd, _ = image
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert cmd[0] in scripts and cmd[0] in EXPORTER_MODULES, cmd


def test_default_config_is_in_the_image_and_valid(image) -> None:
    cmd, files = image
    config = flag(cmd, "--config.file")
    assert config in files, f"{config} is copied by no COPY instruction: {sorted(files)}"
    r = config_check(cmd[0], [f"--config.file={files[config]}"])
    assert r.returncode == 0, r.stderr
    # files the config names must be in the image too
    import yaml

    for key, value in iter_files(yaml.safe_load(files[config].read_text())):
        assert value in files, f"{config}: {key}: {value} is not in the image"


def test_the_image_default_reputation_config_is_valid(image) -> None:
    _, files = image
    path = files.get("/etc/infrawatch/reputation.yml")
    assert path, "no default /etc/infrawatch/reputation.yml in the image"
    r = config_check("infrawatch-reputation-exporter", [f"--config.file={path}"])
    assert r.returncode == 0, r.stderr
    # its state file lives in the directory the Dockerfile creates for the unprivileged user
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"mkdir -p /var/lib/infrawatch && chown 65534:65534 /var/lib/infrawatch", text)
    assert "/var/lib/infrawatch/" in path.read_text()


def test_default_command_starts_and_gets_ready(image, tmp_path: Path) -> None:
    cmd, files = image
    assert cmd[0] == "infrawatch-probe-exporter"
    config = files[flag(cmd, "--config.file")]
    extra = [a for a in cmd[1:] if not a.startswith(("--config.file=", "--web.listen-address="))]
    e = ExporterProc(config, tmp_path, extra)
    try:
        assert e.get("/-/ready")[0] == 200
        assert e.metric("infrawatch_build_info") == 1
    finally:
        e.stop()


def test_parser_sees_a_missing_default_config(tmp_path: Path) -> None:
    """The check fails on the Dockerfile as it was (CMD pointing at a file no COPY provides)."""
    stage = final_stage('FROM x AS a\nCOPY a b\nFROM y\nCOPY examples /etc/infrawatch/examples\nCMD ["p"]\n')
    files = copied_files(stage, [])
    assert "/etc/infrawatch/probe.yml" not in files
    assert "/etc/infrawatch/examples/probe.yml" in files
