"""Offline checks of the generated Alertmanager configuration (alertmanager/alertmanager.yml).

amtool 0.25 validates it; the structural lints below catch what a valid config can still get wrong:
unused receivers, shadowed or duplicate routes, Watchdog not first, timings out of order, a muted
pager, inhibit rules that could mute everything or an alert itself, and secrets in the file.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infrawatch.core.config import Duration
from infrawatch_dev.build import evaluate_snippet
from support.alertmanager import render_mixin_config
from support.procs import require_binary

ROOT = Path(__file__).resolve().parents[2]
AM_DIR = ROOT / "alertmanager"
CONFIG = AM_DIR / "alertmanager.yml"

MATCHER_RE = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$')
DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return yaml.safe_load(CONFIG.read_text())


@pytest.fixture(scope="module")
def amtool() -> str:
    return require_binary("amtool")


def seconds(d: str) -> float:
    assert d and DURATION_RE.match(d), f"bad duration {d!r}"  # Alertmanager's unit order
    return float(Duration.parse(d))


def parse_matcher(m: str) -> tuple[str, str, str]:
    match = MATCHER_RE.match(m)
    assert match, f'matcher {m!r} is not in the quoted name<op>"value" form'
    return match.group(1), match.group(2), match.group(3)


def matcher_accepts(op: str, pattern: str, value: str) -> bool:
    """Does ``<label> op "pattern"`` accept a label with ``value`` (Alertmanager anchors regexes)?"""
    if op == "=":
        return value == pattern
    if op == "!=":
        return value != pattern
    full = re.fullmatch(pattern, value) is not None
    return full if op == "=~" else not full


def implied(matcher: str, by: list[str]) -> bool:
    """True when every label set matching all of ``by`` also satisfies ``matcher``."""
    name, op, pattern = parse_matcher(matcher)
    for other in by:
        oname, oop, ovalue = parse_matcher(other)
        if oname == name and oop == "=" and matcher_accepts(op, pattern, ovalue):
            return True
    return matcher in by


def walk(route: dict[str, Any], parent: dict[str, Any] | None = None, path: str = "route"):
    """Yield (path, route, effective timings) for every route, children inheriting timings."""
    eff = dict(parent or {})
    for k in ("group_wait", "group_interval", "repeat_interval", "group_by"):
        if k in route:
            eff[k] = route[k]
    yield path, route, eff
    for i, child in enumerate(route.get("routes", [])):
        yield from walk(child, eff, f"{path}.routes[{i}]")


def test_generated_config_is_current(tmp_path: Path) -> None:
    """alertmanager/ equals what the mixin generates now (make build was run and committed)."""
    out = render_mixin_config(tmp_path)
    assert out.read_text() == CONFIG.read_text(), "alertmanager/alertmanager.yml is stale: run make build"
    generated = sorted(p.name for p in (tmp_path / "templates").iterdir())
    committed = sorted(p.name for p in (AM_DIR / "templates").iterdir())
    assert generated == committed
    for name in generated:
        assert (tmp_path / "templates" / name).read_text() == (AM_DIR / "templates" / name).read_text(), name


def test_amtool_check_config(amtool: str) -> None:
    r = subprocess.run([amtool, "check-config", str(CONFIG)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout
    assert re.search(r"\b\d+ receivers", r.stdout)


def test_every_receiver_is_defined_used_and_unique(config: dict[str, Any]) -> None:
    names = [r["name"] for r in config["receivers"]]
    assert len(names) == len(set(names)), f"duplicate receiver names: {names}"
    used = {r["receiver"] for _, r, _ in walk(config["route"])}
    assert used - set(names) == set(), "routes use undefined receivers"
    assert set(names) - used == set(), "receivers no route uses"


def test_watchdog_route_is_first_and_fast(config: dict[str, Any]) -> None:
    first = config["route"]["routes"][0]
    assert first["matchers"] == ['alertname="Watchdog"']
    assert first["receiver"] == "heartbeat"
    assert not first.get("continue", False), "Watchdog must stop at the heartbeat"
    assert seconds(first["group_interval"]) < seconds(config["route"]["group_interval"])
    assert seconds(first["repeat_interval"]) < seconds(config["route"]["repeat_interval"])
    hb = next(r for r in config["receivers"] if r["name"] == "heartbeat")
    assert [c["send_resolved"] for c in hb["webhook_configs"]] == [False]


def test_root_grouping_and_timings(config: dict[str, Any]) -> None:
    root = config["route"]
    assert root["group_by"] == ["alertname", "service", "cluster"]
    assert (root["group_wait"], root["group_interval"], root["repeat_interval"]) == ("30s", "5m", "4h")
    assert root["receiver"] == "slack-default", "unmatched alerts must still reach a person"
    assert "matchers" not in root and "mute_time_intervals" not in root


def test_timings_are_ordered_on_every_route(config: dict[str, Any]) -> None:
    for path, _, eff in walk(config["route"]):
        wait, interval, repeat = (seconds(eff[k]) for k in ("group_wait", "group_interval", "repeat_interval"))
        assert wait <= interval <= repeat, f"{path}: group_wait <= group_interval <= repeat_interval broken"


def test_no_shadowed_or_duplicate_routes(config: dict[str, Any]) -> None:
    for path, route, _ in walk(config["route"]):
        children = route.get("routes", [])
        for j, later in enumerate(children):
            for i in range(j):
                earlier = children[i]
                same = sorted(earlier.get("matchers", [])) == sorted(later.get("matchers", []))
                assert not (same and earlier["receiver"] == later["receiver"]), (
                    f"{path}.routes[{i}] and [{j}] are duplicates"
                )
                if earlier.get("continue"):
                    continue
                covers = all(implied(m, later.get("matchers", [])) for m in earlier.get("matchers", []))
                assert not covers, f"{path}.routes[{j}] is shadowed by routes[{i}] (no continue)"


def test_routes_use_matchers_not_deprecated_match(config: dict[str, Any]) -> None:
    for path, route, _ in walk(config["route"]):
        assert "match" not in route and "match_re" not in route, path
        for m in route.get("matchers", []):
            parse_matcher(m)


def _muted_warning_routes(config: dict[str, Any]) -> int:
    """Warning routes muted by outside-business-hours; fails if a pager/critical route is muted."""
    kinds = {r["name"]: {k for k in r if k.endswith("_configs")} for r in config["receivers"]}
    intervals = {t["name"] for t in config.get("time_intervals", [])}
    muted_warning_routes = 0
    for path, route, _ in walk(config["route"]):
        muted = route.get("mute_time_intervals", []) + route.get("active_time_intervals", [])
        assert set(muted) <= intervals, f"{path}: undefined time interval"
        if "pagerduty_configs" in kinds[route["receiver"]] or 'severity="critical"' in route.get("matchers", []):
            assert not muted, f"{path}: a pager/critical route must never be muted"
        if 'severity="warning"' in route.get("matchers", []) and route.get("mute_time_intervals"):
            assert route["mute_time_intervals"] == ["outside-business-hours"], path
            muted_warning_routes += 1
    return muted_warning_routes


def test_warnings_are_not_muted_by_default(config: dict[str, Any]) -> None:
    # Seeds 002/003 want warnings answered within 15 min / 1 h, at any hour.
    assert _muted_warning_routes(config) == 0


def test_pager_is_never_muted_and_warnings_are_when_asked(tmp_path: Path) -> None:
    path = render_mixin_config(tmp_path, {"alertmanager": {"warningMuteIntervals": ["outside-business-hours"]}})
    assert _muted_warning_routes(yaml.safe_load(path.read_text())) >= 2


def test_severity_none_is_never_sent_and_info_is_a_digest(config: dict[str, Any]) -> None:
    never = [r for _, r, _ in walk(config["route"]) if r.get("matchers") == ['severity="none"']]
    assert [r["receiver"] for r in never] == ["null"]
    null = next(r for r in config["receivers"] if r["name"] == "null")
    assert set(null) == {"name"}
    mail = {r["name"] for r in config["receivers"] if "email_configs" in r}
    info = [(r, eff) for _, r, eff in walk(config["route"]) if r.get("matchers") == ['severity="info"']]
    team_routes = [r for r in config["route"]["routes"] if r.get("routes")]
    assert len(info) == len(team_routes) + 1, "one info route per team route and one for the default team"
    am = evaluate_snippet(ROOT, "(import 'mixin.libsonnet')._config.alertmanager.info")
    for r, eff in info:
        assert r["receiver"] in mail and r["receiver"] != "email-p0"
        assert (eff["group_wait"], eff["group_interval"], eff["repeat_interval"]) == (
            am["groupWait"],
            am["groupInterval"],
            am["repeatInterval"],
        )
    # Slower than the root's timings: a digest, not a notification per alert.
    assert seconds(am["groupInterval"]) > seconds(config["route"]["group_interval"])


def test_info_goes_to_null_when_the_tier_is_off(tmp_path: Path) -> None:
    cfg = yaml.safe_load(render_mixin_config(tmp_path, {"alertmanager": {"info": {"enabled": False}}}).read_text())
    assert not [r for _, r, _ in walk(cfg["route"]) if 'severity="info"' in r.get("matchers", [])]
    assert [r["receiver"] for _, r, _ in walk(cfg["route"]) if r.get("matchers") == ['severity=~"info|none"']] == [
        "null"
    ]


INFO_CHAT = {"slackChannel": "#monitoring", "slackAPIURLFile": "slack-monitoring-webhook-url"}


def _info_chat_config(tmp_path: Path, info: dict[str, str] = INFO_CHAT, email_enabled: bool = True) -> dict[str, Any]:
    """The generated config with ``info+: info`` (and ``email+: { enabled: ... }``)."""
    # Without mail no team may send its warnings by mail (deliverability does by default).
    teams = "" if email_enabled else ", teams: [t { warningsTo: 'slack' } for t in super.teams]"
    cfg = evaluate_with(f"{{ info+: {json.dumps(info)}, email+: {{ enabled: {json.dumps(email_enabled)} }}{teams} }}")
    (tmp_path / "am.yml").write_text(yaml.safe_dump(cfg))
    return cfg


def test_info_goes_to_the_chat_channel_when_one_is_set(tmp_path: Path, amtool: str) -> None:
    """Seed 004: info.slackChannel posts every team's info alerts to one channel, as a digest."""
    cfg = _info_chat_config(tmp_path)
    r = subprocess.run([amtool, "check-config", str(tmp_path / "am.yml")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    info = [(r, eff) for _, r, eff in walk(cfg["route"]) if r.get("matchers") == ['severity="info"']]
    team_routes = [r for r in cfg["route"]["routes"] if r.get("routes")]
    assert len(info) == len(team_routes) + 1
    am = evaluate_snippet(ROOT, "(import 'mixin.libsonnet')._config.alertmanager.info")
    for route, eff in info:
        assert route["receiver"] == "slack-info"
        assert (eff["group_wait"], eff["group_interval"], eff["repeat_interval"]) == (
            am["groupWait"],
            am["groupInterval"],
            am["repeatInterval"],
        )
    [receiver] = [r for r in cfg["receivers"] if r["name"] == "slack-info"]
    [slack] = receiver["slack_configs"]
    assert slack["channel"] == "#monitoring"
    # The webhook URL is a secret: a file under secretsDir, never the URL itself.
    assert slack["api_url_file"] == "/etc/alertmanager/secrets/slack-monitoring-webhook-url"
    assert "api_url" not in slack
    assert [r["receiver"] for _, r, _ in walk(cfg["route"]) if r.get("matchers") == ['severity="none"']] == ["null"]
    test_every_receiver_is_defined_used_and_unique(cfg)
    test_timings_are_ordered_on_every_route(cfg)
    test_no_shadowed_or_duplicate_routes(cfg)


def test_info_chat_channel_uses_the_global_webhook_by_default_and_needs_no_mail(tmp_path: Path) -> None:
    cfg = _info_chat_config(tmp_path, {"slackChannel": "#monitoring"}, email_enabled=False)
    [receiver] = [r for r in cfg["receivers"] if r["name"] == "slack-info"]
    assert "api_url_file" not in receiver["slack_configs"][0], "'' = the global slack_api_url_file"
    assert {r["receiver"] for _, r, _ in walk(cfg["route"]) if r.get("matchers") == ['severity="info"']} == {
        "slack-info"
    }, "without mail, info still reaches the channel"


def test_info_channel_off_by_default_and_its_knobs_are_schema_checked(config: dict[str, Any]) -> None:
    assert "slack-info" not in {r["name"] for r in config["receivers"]}
    am = evaluate_snippet(ROOT, "(import 'mixin.libsonnet')._config.alertmanager.info")
    assert (am["slackChannel"], am["slackAPIURLFile"]) == ("", "")
    with pytest.raises(RuntimeError) as exc:
        evaluate_with("{ info+: { slackChanel: '#monitoring' } }")
    assert "_config.alertmanager.info.slackChanel: unknown field; did you mean 'slackChannel'?" in str(exc.value)
    with pytest.raises(RuntimeError) as exc:
        evaluate_with("{ info+: { slackChannel: true } }")
    assert "_config.alertmanager.info.slackChannel: must be a string" in str(exc.value)


def test_cluster_label_groups_inhibits_and_titles(tmp_path: Path, amtool: str) -> None:
    """_config.clusterLabel reaches grouping, inhibition `equal` and the notification titles."""
    path = render_mixin_config(tmp_path, {"clusterLabel": "cluster_id", "showMultiCluster": True})
    cfg = yaml.safe_load(path.read_text())
    assert cfg["route"]["group_by"] == ["alertname", "service", "cluster_id"]
    assert "cluster" not in str(cfg["inhibit_rules"]).replace("cluster_id", "")
    assert all("cluster_id" in rule["equal"] for rule in cfg["inhibit_rules"] if "sloth" not in str(rule))
    sample = {
        "receiver": "slack-critical",
        "status": "firing",
        "alerts": [],
        "groupLabels": {"alertname": "APIDown"},
        "commonLabels": {"alertname": "APIDown", "service": "api", "cluster_id": "eu-1", "cluster": "other"},
        "commonAnnotations": {},
        "externalURL": "http://am.example",
    }
    (tmp_path / "data.json").write_text(json.dumps(sample))
    r = subprocess.run(
        [
            amtool,
            "template",
            "render",
            f"--template.glob={path.parent}/templates/*.tmpl",
            '--template.text={{ template "infrawatch.group_name" . }}|{{ template "infrawatch.cluster" . }}',
            f"--template.data={tmp_path / 'data.json'}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "APIDown · api (eu-1)|eu-1"


def test_critical_routes_page_then_continue_to_chat(config: dict[str, Any]) -> None:
    """Under every team route: pager (continue) ... critical channel, in that order."""
    kinds = {r["name"]: {k for k in r if k.endswith("_configs")} for r in config["receivers"]}
    team_routes = [r for r in config["route"]["routes"] if r.get("routes")]
    assert len(team_routes) >= 3
    for tr in team_routes:
        crit = [r for r in tr["routes"] if 'severity="critical"' in r["matchers"]]
        assert "pagerduty_configs" in kinds[crit[0]["receiver"]] and crit[0]["continue"] is True
        assert crit[-1]["receiver"] == "slack-critical" and not crit[-1].get("continue")


def assert_inhibit_rules_well_formed(rules: list[dict[str, Any]]) -> None:
    for i, rule in enumerate(rules):
        assert rule.get("equal"), f"inhibit_rules[{i}]: empty equal would mute across services"
        assert rule.get("source_matchers") and rule.get("target_matchers"), f"inhibit_rules[{i}]"
        assert not any(k in rule for k in ("source_match", "source_match_re", "target_match", "target_match_re"))
        # Disjoint: some label's source value(s) can never satisfy the target matcher on that label.
        disjoint = False
        for s in rule["source_matchers"]:
            sname, sop, svalue = parse_matcher(s)
            for t in rule["target_matchers"]:
                tname, top, tpattern = parse_matcher(t)
                if sname == tname and sop == "=" and not matcher_accepts(top, tpattern, svalue):
                    disjoint = True
        assert disjoint, f"inhibit_rules[{i}]: an alert could match source and target (mute itself)"


def test_inhibit_rules_are_well_formed(config: dict[str, Any]) -> None:
    rules = config["inhibit_rules"]
    assert len(rules) >= 3
    assert_inhibit_rules_well_formed(rules)
    described = {(tuple(r["source_matchers"]), tuple(r["target_matchers"])) for r in rules}
    assert (('severity="critical"',), ('severity=~"warning|info"',)) in described
    assert (('severity="warning"',), ('severity="info"',)) in described
    muted = {
        parse_matcher(r["target_matchers"][0])[2]: r["equal"]
        for r in rules
        if r["source_matchers"] == ['alertname="ServiceProbeFailing"']
    }
    assert muted == {"ServiceDegraded": ["service", "target", "module"], "APIHighLatency": ["service"]}
    # The error ratio (P0) mutes the errors-per-second page (P1) of the same service: one burst, one page.
    ratio = [r for r in rules if r["source_matchers"] == ['alertname="HighErrorRate"']]
    assert [(r["target_matchers"], r["equal"]) for r in ratio] == [(['alertname="HighErrorsPerSecond"'], ["service"])]
    # The service-specific down alerts mute the generic probe alert; each rule names the service.
    superseding = [r for r in rules if r["target_matchers"] == ['alertname="ServiceProbeFailing"']]
    assert {parse_matcher(r["source_matchers"][0])[2] for r in superseding} >= {
        "SMTPServiceDown",
        "ElasticsearchClusterRed",
        "RedisDown",
        "DatabaseDown",
        "APIDown",
    }
    assert all(r["equal"][0] == "service" for r in superseding)
    # Severity twins are scoped to the same target/instance/SLO, not just the same service.
    for r in rules[:2]:
        assert {"alertname", "service", "target", "instance", "sloth_id"} <= set(r["equal"])


def test_slo_inhibit_rules_are_included_when_the_slo_area_defines_them(config: dict[str, Any]) -> None:
    slo_rules = evaluate_snippet(
        ROOT,
        "local m = import 'mixin.libsonnet'; if std.objectHasAll(m, 'sloInhibitRules') then m.sloInhibitRules else []",
    )
    for rule in slo_rules:
        assert rule in config["inhibit_rules"]


SECRET_FIELDS = {
    "routing_key",
    "service_key",
    "api_url",
    "auth_password",
    "auth_secret",
    "password",
    "credentials",
    "bearer_token",
    "smtp_auth_password",
    "slack_api_url",
    "url_file",
}


def test_no_secret_in_generated_files(config: dict[str, Any]) -> None:
    files: list[str] = []

    def visit(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                assert k not in SECRET_FIELDS, f"{path}.{k}: inline secret field"
                if k.endswith("_file") and k not in ("cert_file", "ca_file"):
                    files.append(v)
                visit(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                visit(v, f"{path}[{i}]")

    visit(config, "config")
    assert len(files) >= 8, files
    for f in files:
        p = Path(f)
        assert p.is_absolute(), f"{f}: secret files are resolved against secretsDir, must be absolute"
        assert ROOT not in p.parents, f"{f}: secret file inside the repository"
    text = CONFIG.read_text() + "".join(p.read_text() for p in (AM_DIR / "templates").iterdir())
    assert not re.search(r"hooks\.slack\.com/services/|[0-9a-f]{32}", text), "something secret-looking"


def test_p0_p1_p2_tiers_are_expressed(config: dict[str, Any]) -> None:
    kinds = {r["name"]: {k for k in r if k.endswith("_configs")} for r in config["receivers"]}
    p0 = [r for _, r, _ in walk(config["route"]) if any(m.startswith("alertname=~") for m in r.get("matchers", []))]
    assert p0 and all(r["receiver"] == "email-p0" and r["continue"] for r in p0)
    escalation = next(r for r in config["receivers"] if r["name"] == "email-p0")
    p0_to = evaluate_snippet(ROOT, "(import 'mixin.libsonnet')._config.alertmanager.p0EscalationEmail")
    assert [c["to"] for c in escalation["email_configs"]] == [p0_to]
    # P0 and P1: every critical alert is mailed to its team (continue), before the escalation mail.
    for tr in [r for r in config["route"]["routes"] if r.get("routes")]:
        crit = [r for r in tr["routes"] if r["matchers"] == ['severity="critical"']]
        assert [kinds[r["receiver"]] for r in crit] == [{"pagerduty_configs"}, {"email_configs"}, {"slack_configs"}]
    warning_receivers = {
        r["receiver"] for _, r, _ in walk(config["route"]) if 'severity="warning"' in r.get("matchers", [])
    }
    assert {k for r in warning_receivers for k in kinds[r]} == {"slack_configs", "email_configs"}


# --- the generator check (jsonnet/alertmanager/schema.libsonnet) ------------------------------------


def evaluate_with(override: str) -> Any:
    return evaluate_snippet(
        ROOT, "((import 'mixin.libsonnet') + { _config+:: { alertmanager+: " + override + " } }).alertmanagerConfig"
    )


def test_generator_refuses_null_list_entries() -> None:
    with pytest.raises(RuntimeError) as exc:
        evaluate_with("{ groupBy: ['alertname', null] }")
    # Refused by the _config schema before the generated file's own check sees it.
    assert "_config.alertmanager.groupBy[1]: must be a string, not null" in str(exc.value)


def test_generator_refuses_fields_0_25_rejects() -> None:
    with pytest.raises(RuntimeError) as exc:
        evaluate_with("{ timeIntervals+: { night: [{ weekdays: ['monday'], timezone: 'UTC' }] } }")
    assert "time_intervals[0].time_intervals[0].timezone: unknown field in a time_range" in str(exc.value)


def test_generator_names_every_problem_and_refuses_inline_secrets() -> None:
    problems = evaluate_snippet(
        ROOT,
        """(import 'alertmanager/schema.libsonnet').problems({
      route: { receiver: 'x', routes: [null] },
      receivers: [{ name: 'x', pagerduty_configs: [{ routing_key: 'abc' }],
                    webhook_configs: [{ url_file: '/run/url' }], msteams_configs: [] }],
    })""",
    )
    assert problems == [
        "alertmanager.yml.receivers[0].msteams_configs: not accepted by Alertmanager 0.25 (field of Alertmanager 0.26)",
        "alertmanager.yml.receivers[0].pagerduty_configs[0].routing_key: inline secret refused "
        "(the generated file is committed); use routing_key_file",
        "alertmanager.yml.receivers[0].webhook_configs[0].url_file: not accepted by Alertmanager 0.25 "
        "(field of a later Alertmanager)",
        "alertmanager.yml.route.routes[0]: null list entry (Alertmanager 0.25 rejects it; an `if` without "
        "`else` in a list comprehension makes one)",
    ]


@pytest.mark.parametrize(
    "snippet",
    [
        "receivers: [{name: x, webhook_configs: [{url_file: /run/url}]}]",
        "receivers: [{name: x, msteams_configs: [{webhook_url: 'http://x'}]}]",
        "receivers: [{name: x}, null]",
    ],
)
def test_what_the_generator_refuses_amtool_0_25_refuses_too(snippet: str, amtool: str, tmp_path: Path) -> None:
    cfg = tmp_path / "am.yml"
    cfg.write_text(f"route: {{receiver: x}}\n{snippet}\n")
    r = subprocess.run([amtool, "check-config", str(cfg)], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0, r.stdout


def test_generated_config_passes_the_generator_check(config: dict[str, Any]) -> None:
    import json

    assert evaluate_snippet(ROOT, f"(import 'alertmanager/schema.libsonnet').problems({json.dumps(config)})") == []


# --- other configurations: the knobs produce valid, lint-clean configs --------------------------------

VARIANTS = {
    "no-email-no-teams-no-webhooks": {
        "email": {"enabled": False},
        "teams": [],
        "webhooks": [],
        "warningMuteIntervals": [],
    },
    "no-p0-no-probe-mutes": {
        "p0Alerts": [],
        "probeFailingMutes": {},
        "probeFailingSupersededBy": {},
        "highErrorRateMutes": {},
    },
    "no-escalation-mail": {"p0EscalationEmail": ""},
    "email-without-smtp-auth": {"email": {"authUsername": ""}},
    "one-team-by-label-only": {
        "teams": [{"name": "ops", "slackChannel": "#ops", "pagerdutyRoutingKeyFile": "/run/secrets/pd-ops"}]
    },
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_config_variants_are_valid_and_lint_clean(name: str, amtool: str, tmp_path: Path) -> None:
    override = dict(VARIANTS[name])
    if "email" in override:  # replace the whole email block, keeping the other email knobs
        override["email"] = {
            **evaluate_snippet(ROOT, "(import 'mixin.libsonnet')._config.alertmanager.email"),
            **override["email"],
        }
    path = render_mixin_config(tmp_path, {"alertmanager": override})
    r = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    cfg = yaml.safe_load(path.read_text())
    test_every_receiver_is_defined_used_and_unique(cfg)
    test_watchdog_route_is_first_and_fast(cfg)
    test_timings_are_ordered_on_every_route(cfg)
    test_no_shadowed_or_duplicate_routes(cfg)
    assert_inhibit_rules_well_formed(cfg["inhibit_rules"])
    if name.startswith("no-email"):
        assert not any("email_configs" in rc for rc in cfg["receivers"]) and "smtp_smarthost" not in cfg["global"]
        assert not any(r.get("mute_time_intervals") for _, r, _ in walk(cfg["route"]))
    if name == "email-without-smtp-auth":
        assert "smtp_auth_username" not in cfg["global"] and "smtp_auth_password_file" not in cfg["global"]
        assert cfg["global"]["smtp_smarthost"] == "smtp.example.com:587"
    if name.startswith("no-email"):
        assert [r["matchers"] for _, r, _ in walk(cfg["route"]) if r.get("receiver") == "null"] == [
            ['severity=~"info|none"']
        ], "without mail, info is not sent"
    if name.startswith("no-p0"):
        assert "ServiceProbeFailing" not in str(cfg["inhibit_rules"])
        assert not [r for _, r, _ in walk(cfg["route"]) if any("alertname=~" in m for m in r.get("matchers", []))]
    if name in ("no-p0-no-probe-mutes", "no-escalation-mail"):
        assert "email-p0" not in {r["name"] for r in cfg["receivers"]}
    if name.startswith("one-team"):
        ops = [r for r in cfg["route"]["routes"] if r.get("receiver") == "slack-ops"]
        assert [r["matchers"] for r in ops] == [['team="ops"']], "no services -> matched by team label only"


@pytest.mark.parametrize(
    "override,message",
    [
        (
            "{ teams: [{ name: 'ops', slackChannel: '#ops', pagerdutyRoutingKeyFile: 'k', warningsTo: 'email' }] }",
            "team ops has warningsTo: email but no `email`",
        ),
        ("{ warningMuteIntervals: ['lunch'] }", "warningMuteIntervals names undefined time intervals: lunch"),
        (
            "{ teams: [{ name: 'Ops Team', slackChannel: '#ops', pagerdutyRoutingKeyFile: 'k' }] }",
            "team name Ops Team must be a lower-case name",
        ),
        ("{ p0Alerts: ['APIDown|.*'] }", "p0Alerts entry APIDown|.* is not an alert name"),
    ],
)
def test_generator_explains_bad_knobs(override: str, message: str) -> None:
    with pytest.raises(RuntimeError) as exc:
        evaluate_with(override)
    assert message in str(exc.value)


def test_a_muted_alert_that_fires_before_its_source_is_refused() -> None:
    """HighErrorsPerSecond (muted by HighErrorRate) waiting less than HighErrorRate would page first."""
    with pytest.raises(RuntimeError) as exc:
        evaluate_snippet(
            ROOT,
            "local m = (import 'mixin.libsonnet') + { _config+:: { serviceDegradedFor: '1m' } }; m.alertmanagerConfig",
        )
    expected = "alertmanager.probeFailingMutes: ServiceDegraded waits 60s before firing, less than ServiceProbeFailing"
    assert expected in str(exc.value)
    # Errors per second wait one rateInterval longer than the ratio that mutes them.
    rules = evaluate_snippet(
        ROOT,
        "local m = (import 'mixin.libsonnet') + { _config+:: { highErrorRateFor: '7m' } };"
        " [r for g in m.ruleFiles.api.groups for r in g.rules if std.get(r, 'alert', '') != 'APIHighLatency']",
    )
    fors = {r["alert"]: r.get("for") for r in rules if r["alert"] in ("HighErrorRate", "HighErrorsPerSecond")}
    assert fors == {"HighErrorRate": "7m", "HighErrorsPerSecond": "12m"}
