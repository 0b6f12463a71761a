"""Bad configurations: one located message (file:line: key.path: why) each, and exit status 2."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infrawatch.core.config import ConfigError
from infrawatch.reputation.config import load_config
from infrawatch.reputation.main import main as exporter_main

GOOD_LISTS = "lists:\n  - name: spamhaus-zen\n"
GOOD_TARGETS = "targets:\n  - ip: 192.0.2.1\n"

# (config text, expected "line: key.path: message fragment")
BAD = {
    "unknown_top_key": (
        "intervall: 5m\n" + GOOD_LISTS,
        r":1: intervall: unknown key 'intervall'.*did you mean 'interval'",
    ),
    "unknown_list_key": (GOOD_LISTS + "    tiers: major\n", r":3: lists\[0\]\.tiers: unknown key"),
    "closed_sorbs": (
        "lists:\n  - name: sorbs\n    zone: dnsbl.sorbs.net\n    kind: ip\n",
        r":3: lists\[0\]\.zone: list dnsbl.sorbs.net is closed: SORBS",
    ),
    "closed_manitu": (
        "lists:\n  - {name: nix, zone: ix.dnsbl.manitu.net, kind: ip}\n",
        r":2: lists\[0\]\.zone: list ix.dnsbl.manitu.net is closed",
    ),
    "closed_by_name": ("lists:\n  - name: sorbs\n", r":2: lists\[0\]\.name: list sorbs is closed: SORBS was shut"),
    "unknown_profile": (
        "lists:\n  - name: x\n    profile: spamhouse\n",
        r":3: lists\[0\]\.profile: unknown profile 'spamhouse'",
    ),
    "custom_without_zone": ("lists:\n  - name: mylist\n", r":2: lists\[0\]\.zone: list 'mylist' is not a built-in"),
    "bad_tier": (GOOD_LISTS + "    tier: huge\n", r":3: lists\[0\]\.tier: expected one of"),
    "bad_kind_for_profile": (GOOD_LISTS + "    kind: domain\n", r":3: lists\[0\]\.kind: profile spamhaus-zen is a ip"),
    "history_url_not_http": (
        "history:\n  prometheus_url: prometheus:9090\n" + GOOD_LISTS,
        r":2: history\.prometheus_url: prometheus_url must be an http\(s\) URL",
    ),
    "history_since_zero": ("history:\n  since: 0s\n" + GOOD_LISTS, r":2: history\.since"),
    "bad_interval": ("interval: 5 minutes\n" + GOOD_LISTS, r":1: interval: invalid duration"),
    "interval_too_short": (
        GOOD_LISTS + "    interval: 1s\n",
        r":3: lists\[0\]\.interval: interval must be at least 10s",
    ),
    "bad_nameserver": (
        "resolver:\n  nameservers: ['127.0.0.1:99999']\n" + GOOD_LISTS,
        r":2: resolver\.nameservers\[0\]: invalid nameserver",
    ),
    "negative_retries": ("resolver:\n  retries: -1\n" + GOOD_LISTS, r":2: resolver\.retries: retries must be between"),
    "zero_concurrency": ("resolver:\n  concurrency: 0\n" + GOOD_LISTS, r":2: resolver\.concurrency"),
    "target_two_kinds": (
        GOOD_LISTS + "targets:\n  - ip: 192.0.2.1\n    domain: example.com\n",
        r":4: targets\[0\]: each target needs exactly one of ip, cidr, domain, host \(got ip, domain\)",
    ),
    "bad_ip": (GOOD_LISTS + "targets:\n  - ip: 192.0.2.300\n", r":4: targets\[0\]\.ip: invalid IP address"),
    "cidr_over_cap": (
        "max_cidr_addresses: 16\n" + GOOD_LISTS + "targets:\n  - cidr: 192.0.2.0/24\n",
        r":5: targets\[0\]\.cidr: 192.0.2.0/24 has 256 addresses, more than max_cidr_addresses \(16\)",
    ),
    "bad_domain": (GOOD_LISTS + "targets:\n  - domain: 'not a domain'\n", r":4: targets\[0\]\.domain: invalid domain"),
    "duplicate_list": (
        "lists:\n  - name: spamhaus-zen\n  - name: spamhaus-zen\n",
        r":3: lists\[1\]\.name: duplicate list name",
    ),
    "weight_range": (GOOD_LISTS + "    weight: 150\n", r":3: lists\[0\]\.weight: weight must be between 0 and 100"),
    "dqs_missing_file": (
        GOOD_LISTS + "    dqs_key_file: /nonexistent/key\n",
        r":3: lists\[0\]\.dqs_key_file: cannot read secret file",
    ),
    "dqs_not_spamhaus": (
        "lists:\n  - name: barracuda\n    dqs_key_file: key.txt\n",
        r":3: lists\[0\]\.dqs_key_file: dqs_key_file only applies to Spamhaus",
    ),
    "return_code_not_loopback": (
        GOOD_LISTS + "    return_codes: {'10.0.0.2': spam}\n",
        r":3: lists\[0\]\.return_codes\.10\.0\.0\.2: return code",
    ),
    "warning_below_range": ("scoring:\n  warning_below: 170\n" + GOOD_LISTS, r":2: scoring\.warning_below"),
    "min_coverage_range": ("scoring:\n  min_coverage: 0\n" + GOOD_LISTS, r":2: scoring\.min_coverage"),
    "reserved_label": (
        GOOD_LISTS + "targets:\n  - ip: 192.0.2.1\n    labels: {list: x}\n",
        r":5: targets\[0\]\.labels\.list: label 'list' is reserved",
    ),
    "no_lists": (GOOD_TARGETS, r"lists: at least one list is required"),
    "duplicate_target": (
        GOOD_LISTS + "targets:\n  - ip: 192.0.2.1\n  - cidr: 192.0.2.0/30\n",
        r":5: targets\[1\]: target 192.0.2.1 is already configured by targets\[0\]",
    ),
    "yaml_syntax": ("lists: [\n", r"YAML syntax error"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_config_is_located(tmp_path: Path, name: str) -> None:
    text, pattern = BAD[name]
    cfg = tmp_path / "reputation.yml"
    cfg.write_text(text)
    (tmp_path / "key.txt").write_text("abcdefgh12345678\n")
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    msg = str(exc.value)
    assert msg.startswith(str(cfg)), msg
    assert re.search(pattern, msg), msg
    assert len(exc.value.problems) == 1, msg


@pytest.mark.parametrize("name", ["unknown_top_key", "closed_sorbs", "cidr_over_cap", "yaml_syntax"])
def test_bad_config_exits_2(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "reputation.yml"
    cfg.write_text(BAD[name][0])
    assert exporter_main(["--config.file", str(cfg), "--config.check"]) == 2
    err = capsys.readouterr().err
    assert str(cfg) in err and "problem(s) found" in err
    # Starting (not only checking) refuses the configuration too.
    assert exporter_main(["--config.file", str(cfg), "--web.listen-address", "127.0.0.1:0"]) == 2


def test_good_config_checks_and_budget_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "reputation.yml"
    # 256 addresses every 60 s on ZEN: 370,000+ queries/day, over Spamhaus' 300,000 free budget
    cfg.write_text(
        "interval: 1m\nlists:\n  - name: spamhaus-zen\n  - name: spamhaus-dbl\ntargets:\n"
        "  - cidr: 192.0.2.0/24\n  - domain: example.com\n"
    )
    assert exporter_main(["--config.file", str(cfg), "--config.check"]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "spamhaus-zen would need 371,520 queries a day" in err
    assert "spamhaus-dbl" not in err


def test_dqs_key_turns_zone_into_dqs_and_stays_secret(tmp_path: Path) -> None:
    (tmp_path / "dqs.key").write_text("abcdefgh12345678\n")
    cfg = tmp_path / "reputation.yml"
    cfg.write_text(
        "lists:\n  - {name: spamhaus-zen, dqs_key_file: dqs.key}\n  - {name: spamhaus-dbl, "
        "dqs_key_file: dqs.key}\ntargets:\n  - ip: 192.0.2.1\n"
    )
    loaded = load_config(cfg)
    zen, dbl = loaded.lists
    assert zen.zone == "abcdefgh12345678.zen.dq.spamhaus.net"
    assert dbl.zone == "abcdefgh12345678.dbl.dq.spamhaus.net"
    assert zen.public_zone == "<key>.zen.dq.spamhaus.net"
    from infrawatch.core.config import to_public

    assert "abcdefgh12345678" not in repr(to_public(loaded.raw))
