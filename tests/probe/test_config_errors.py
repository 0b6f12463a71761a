"""Invalid probe configurations: each gives one located message (file:line: key.path: ...) and
exit status 2 from --config.check and at start."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from infrawatch.core.config import ConfigError
from infrawatch.probe.config import load_probe_config

GOOD_MODULE = "modules:\n  http_2xx:\n    prober: http\n"

# (id, yaml text, expected line, expected key path, expected message fragment)
CASES = [
    ("unknown-top-key", GOOD_MODULE + "target:\n  - x\n", 4, "target", "did you mean 'targets'"),
    (
        "unknown-http-key",
        "modules:\n  a:\n    prober: http\n    http:\n      valid_status_code: [200]\n",
        5,
        "modules.a.http.valid_status_code",
        "unknown key 'valid_status_code'",
    ),
    ("unknown-prober", "modules:\n  a:\n    prober: htp\n", 3, "modules.a.prober", "unknown prober 'htp'"),
    ("unknown-prober", "modules:\n  a:\n    prober: ldap\n", 3, "modules.a.prober", "unknown prober"),
    ("missing-prober", "modules:\n  a:\n    timeout: 5s\n", 2, "modules.a.prober", "missing required key"),
    (
        "bad-timeout",
        "modules:\n  a:\n    prober: http\n    timeout: fast\n",
        4,
        "modules.a.timeout",
        "invalid duration",
    ),
    (
        "bad-status-code",
        "modules:\n  a:\n    prober: http\n    http:\n      valid_status_codes: [200, 999]\n",
        5,
        "modules.a.http.valid_status_codes[1]",
        "not an HTTP status code",
    ),
    (
        "status-code-string",
        "modules:\n  a:\n    prober: http\n    http:\n      valid_status_codes: [2xx]\n",
        5,
        "modules.a.http.valid_status_codes[0]",
        "expected an integer",
    ),
    (
        "bad-regexp",
        "modules:\n  a:\n    prober: http\n    http:\n      fail_if_body_matches_regexp:\n"
        "        - ok\n        - '(unclosed'\n",
        7,
        "modules.a.http.fail_if_body_matches_regexp[1]",
        "invalid regular expression",
    ),
    (
        "bad-header-regexp",
        "modules:\n  a:\n    prober: http\n    http:\n      fail_if_header_matches:\n"
        "        - header: X\n          regexp: '[z-a]'\n",
        7,
        "modules.a.http.fail_if_header_matches[0].regexp",
        "invalid regular expression",
    ),
    (
        "bad-method",
        "modules:\n  a:\n    prober: http\n    http:\n      method: 'GET /'\n",
        5,
        "modules.a.http.method",
        "invalid HTTP method",
    ),
    (
        "bad-compression",
        "modules:\n  a:\n    prober: http\n    http:\n      compression: zip\n",
        5,
        "modules.a.http.compression",
        "expected one of",
    ),
    (
        "bad-http-version",
        "modules:\n  a:\n    prober: http\n    http:\n      valid_http_versions: [HTTP/9]\n",
        5,
        "modules.a.http.valid_http_versions[0]",
        "unknown HTTP version",
    ),
    (
        "re2-lookahead",  # Python's re takes it, RE2 (Go, blackbox) does not
        "modules:\n  a:\n    prober: http\n    http:\n      fail_if_body_matches_regexp: ['a(?=b)']\n",
        5,
        "modules.a.http.fail_if_body_matches_regexp[0]",
        "invalid perl operator",
    ),
    (
        "re2-backreference",
        "modules:\n  a:\n    prober: tcp\n    tcp:\n      query_response:\n        - expect: '(a)\\1'\n",
        6,
        "modules.a.tcp.query_response[0].expect",
        "invalid escape sequence",
    ),
    (
        "header-matcher-without-regexp",
        "modules:\n  a:\n    prober: http\n    http:\n      fail_if_header_matches:\n        - header: X\n",
        6,
        "modules.a.http.fail_if_header_matches[0].regexp",
        "regexp must be set",
    ),
    (
        "accept-encoding-vs-compression",
        "modules:\n  a:\n    prober: http\n    http:\n      compression: gzip\n"
        "      headers:\n        accEpt-enCoding: deflate\n",
        5,
        "modules.a.http.compression",
        '"Accept-Encoding: deflate", "compression: gzip"',
    ),
    (
        "cel-syntax",
        "modules:\n  a:\n    prober: http\n    http:\n      fail_if_body_json_matches_cel: 'body.x =='\n",
        5,
        "modules.a.http.fail_if_body_json_matches_cel",
        "invalid CEL expression",
    ),
    (
        "authorization-basic",
        "modules:\n  a:\n    prober: http\n    http:\n      authorization: {type: Basic, credentials: x}\n",
        5,
        "modules.a.http.authorization.type",
        "use 'basic_auth'",
    ),
    (
        "tls-version-order",
        "modules:\n  a:\n    prober: http\n    http:\n      tls_config:\n"
        "        min_version: TLS13\n        max_version: TLS12\n",
        6,
        "modules.a.http.tls_config.min_version",
        "above max_version",
    ),
    (
        "password-both",
        "modules:\n  a:\n    prober: http\n    http:\n      basic_auth:\n        username: u\n"
        "        password: p\n        password_file: /x\n",
        8,
        "modules.a.http.basic_auth.password_file",
        "at most one of password and password_file",
    ),
    (
        "two-auth-schemes",
        "modules:\n  a:\n    prober: http\n    http:\n      bearer_token_file: /t\n"
        "      authorization: {credentials: x}\n",
        5,
        "modules.a.http.bearer_token_file",
        "at most one of authorization, bearer_token_file",
    ),
    (
        "bad-size",
        "modules:\n  a:\n    prober: http\n    http:\n      body_size_limit: lots\n",
        5,
        "modules.a.http.body_size_limit",
        "invalid size",
    ),
    (
        "bad-proxy",
        "modules:\n  a:\n    prober: http\n    http:\n      proxy_url: socks5://p:1080\n",
        5,
        "modules.a.http.proxy_url",
        "expected http://host:port",
    ),
    ("wrong-section", "modules:\n  a:\n    prober: http\n    tcp: {}\n", 4, "modules.a.tcp", "does not apply"),
    (
        "bad-allowed-target",
        GOOD_MODULE + "allowed_targets:\n  - example.com\n  - 'http://x/'\n",
        6,
        "allowed_targets[1]",
        "invalid allowed_targets entry",
    ),
    (
        "target-unknown-module",
        GOOD_MODULE + "targets:\n  - target: http://x/\n    module: http_3xx\n",
        6,
        "targets[0].module",
        "unknown module 'http_3xx'",
    ),
    (
        "target-malformed",
        GOOD_MODULE + "targets:\n  - target: 'exa mple.com'\n    module: http_2xx\n",
        5,
        "targets[0].target",
        "malformed target",
    ),
    (
        "target-reserved-label",
        GOOD_MODULE + "targets:\n  - target: http://x/\n    module: http_2xx\n    labels:\n      service: web\n",
        8,
        "targets[0].labels.service",
        "reserved",
    ),
    (
        "target-duplicate",
        GOOD_MODULE + "targets:\n  - {target: 'http://x/', module: http_2xx}\n"
        "  - {target: 'http://x/', module: http_2xx}\n",
        6,
        "targets[1]",
        "duplicate target",
    ),
    (
        "scheduler-concurrency",
        GOOD_MODULE + "scheduler:\n  concurrency: 0\n",
        5,
        "scheduler.concurrency",
        "between 1 and 10000",
    ),
    (
        "file-sd-extension",
        GOOD_MODULE + "file_sd:\n  - files: [targets.txt]\n    module: http_2xx\n",
        5,
        "file_sd[0].files[0]",
        "must end in",
    ),
    ("yaml-syntax", "modules:\n  a:\n    prober: http\n   bad: [\n", 4, "<root>", "YAML syntax error"),
    ("duplicate-key", "modules:\n  a:\n    prober: http\n    prober: tcp\n", 4, "modules.a.prober", "duplicate key"),
]


@pytest.mark.parametrize(("text", "line", "path", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_located_message(tmp_path: Path, text: str, line: int, path: str, fragment: str) -> None:
    f = tmp_path / "probe.yml"
    f.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_probe_config(f)
    problems = exc.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    msg = str(problems[0])
    assert msg.startswith(f"{f}:{line}: {path}: "), msg
    assert fragment in msg, msg


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "infrawatch.probe.main", *args], capture_output=True, text=True, timeout=60
    )


def test_config_check_exit_codes(tmp_path: Path) -> None:
    """--config.check prints the located message and exits 2 for every case (one process each)."""
    assert len(CASES) >= 20

    def check(case: tuple) -> None:
        name, text, line, path, _ = case
        f = tmp_path / f"{name}.yml"
        f.write_text(text)
        r = _run([f"--config.file={f}", "--config.check"])
        assert r.returncode == 2, (name, r.stdout, r.stderr)
        assert f"{f}:{line}: {path}: " in r.stderr, (name, r.stderr)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(check, CASES))
    good = tmp_path / "good.yml"
    good.write_text(GOOD_MODULE)
    r = _run([f"--config.file={good}", "--config.check"])
    assert r.returncode == 0 and "valid" in r.stdout


@pytest.mark.parametrize("name", ["unknown-http-key", "target-unknown-module", "yaml-syntax"])
def test_bad_config_at_start_exits_2(tmp_path: Path, name: str) -> None:
    _, text, line, path, _ = next(c for c in CASES if c[0] == name)
    f = tmp_path / "probe.yml"
    f.write_text(text)
    r = _run([f"--config.file={f}", "--web.listen-address=127.0.0.1:0"])
    assert r.returncode == 2
    assert f"{f}:{line}: {path}: " in r.stderr
    assert "listening" not in r.stdout


def test_blackbox_example_is_valid(repo_root: Path) -> None:
    cfg = load_probe_config(repo_root / "examples" / "blackbox-compat.yml")
    assert {"http_2xx", "http_post_2xx", "tcp_connect"} <= set(cfg.modules)
    assert {cfg.modules[m].prober for m in ("icmp_example", "grpc_plain", "unix_socket_ping")} == {
        "icmp",
        "grpc",
        "unix",
    }
    cfg = load_probe_config(repo_root / "examples" / "probe.yml")
    assert cfg.targets


@pytest.mark.parametrize("flag", ["--shard=3/3", "--shard=x", "--timeout-offset=-1"])
def test_bad_flags_exit_2(tmp_path: Path, flag: str) -> None:
    f = tmp_path / "probe.yml"
    f.write_text(GOOD_MODULE)
    r = _run([f"--config.file={f}", "--config.check", flag])
    assert r.returncode == 2
    assert flag.split("=")[0] in r.stderr
