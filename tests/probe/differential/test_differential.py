"""Debian's blackbox_exporter 0.23 and infrawatch, side by side, on one module file and the same
loopback targets: each scenario passes when probe_success, the set of metric names and the key
values agree (harness.compare), apart from the intended differences listed with their reasons."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from probe.differential.harness import INTENDED, Blackbox, Infrawatch, compare, debug_text
from probe.differential.lab import Lab
from probe.differential.scenarios import SCENARIOS, Scenario

pytestmark = pytest.mark.slow


class Side:
    def __init__(self, lab: Lab, blackbox: Blackbox, infrawatch: Infrawatch, blackbox2: Blackbox):
        self.lab, self.blackbox, self.infrawatch, self.blackbox2 = lab, blackbox, infrawatch, blackbox2


def module_file(path: Path, lab: Lab) -> Path:
    """All scenarios' modules in one blackbox.yml; ``{ca}``, ``{client_cert}``, ``{client_key}`` and
    lab port names (``{proxy}``) are filled in."""
    text = yaml.safe_dump({"modules": {s.name: s.module for s in SCENARIOS}}, sort_keys=False)
    values = {"ca": lab.certs.ca_file, "client_cert": lab.client_cert, "client_key": lab.client_key, **lab.ports}
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Side]:
    work = tmp_path_factory.mktemp("differential")
    lab = Lab(work)
    started: list = []
    try:
        conf = module_file(work / "blackbox.yml", lab)
        for cls in (Blackbox, Infrawatch, Blackbox):
            started.append(cls(conf, work))
        yield Side(lab, started[0], started[1], started[2])
    finally:
        for s in started:
            s.stop()
        lab.stop()


def test_scenario_names_are_unique_and_intended_differences_have_reasons() -> None:
    names = [s.name for s in SCENARIOS]
    assert len(names) == len(set(names))
    assert len(SCENARIOS) >= 70
    for reason in [*INTENDED.values(), *(r for s in SCENARIOS for r in s.allowed.values())]:
        assert len(reason) > 20


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_same_verdict_metrics_and_values(side: Side, scenario: Scenario) -> None:
    target = side.lab.target(scenario.target)
    bb = side.blackbox.probe(scenario.name, target, scenario.scrape_timeout, scenario.params)
    iw = side.infrawatch.probe(scenario.name, target, scenario.scrape_timeout, scenario.params)
    result = compare(bb, iw, scenario.allowed)
    assert result.same, "\n".join(result.problems)
    assert iw[("probe_success", ())] == float(scenario.success), "infrawatch's verdict is not the expected one"
    if "probe_success" in scenario.allowed:  # a deliberate difference: it must really differ
        assert bb[("probe_success", ())] != iw[("probe_success", ())]


def test_comparator_tells_same_from_different(side: Side) -> None:
    """blackbox vs a second blackbox on the same target: the same (timings aside); two different
    targets or a changed value: different, and the problem says which metric."""
    ok = side.lab.target("http://127.0.0.1:{http}/ok")
    a, b = side.blackbox.probe("http_ok", ok), side.blackbox2.probe("http_ok", ok)
    assert compare(a, b).same, compare(a, b).problems
    missing = side.blackbox2.probe("http_404", side.lab.target("http://127.0.0.1:{http}/status/404"))
    diff = compare(a, missing)
    assert not diff.same
    assert any("probe_success" in p for p in diff.problems)
    assert any("probe_http_status_code" in p for p in diff.problems)
    changed = dict(b)
    changed[("probe_http_content_length", ())] += 1
    assert any("probe_http_content_length" in p for p in compare(a, changed).problems)
    extra = dict(b)
    extra[("probe_something_new", ())] = 1
    assert any("only infrawatch has ['probe_something_new']" in p for p in compare(a, extra).problems)
    relabelled = {k: v for k, v in b.items() if k[0] != "probe_http_duration_seconds"}
    relabelled[("probe_http_duration_seconds", (("phase", "other"),))] = 0.1
    assert any("probe_http_duration_seconds labels" in p for p in compare(a, relabelled).problems)


LOGFMT_LINE = re.compile(
    r"^ts=\S+ caller=\S+ module=(?P<module>\S+) target=(?P<target>\S+) "
    r'level=(debug|info|warn|error) msg="[^"]*"( |$)'
)


@pytest.mark.parametrize("module", ["http_ok", "http_refused", "tcp_ssh_banner"])
def test_debug_output_in_blackboxs_shape(side: Side, module: str) -> None:
    """``debug=true``: the same three sections, the log in logfmt lines of the same shape."""
    scenario = next(s for s in SCENARIOS if s.name == module)
    target = side.lab.target(scenario.target)
    for exporter in (side.blackbox, side.infrawatch):
        text = debug_text(exporter.url, module, target)
        logs, _, rest = text.partition("\n\n\n\nMetrics that would have been returned:\n")
        if not rest:  # infrawatch writes three newlines before the metrics
            logs, _, rest = text.partition("\n\n\nMetrics that would have been returned:\n")
        assert logs.startswith("Logs for the probe:\n") and "Module configuration:" in rest, text[:400]
        lines = logs.splitlines()[1:]
        assert lines and [x for x in lines if not LOGFMT_LINE.match(x)] == [], exporter.url
        assert 'msg="Beginning probe"' in lines[0]
        verdict = 'level=info msg="Probe succeeded"' if scenario.success else 'level=error msg="Probe failed"'
        assert verdict in lines[-1], lines[-1]


def test_hostname_parameter_conflicting_with_the_module_host_header_is_refused_by_both(side: Side) -> None:
    """blackbox's setHTTPHost rule: 400 when the module sets another Host header."""
    target = side.lab.target("http://127.0.0.1:{http}/host")
    for exporter in (side.blackbox, side.infrawatch):
        with pytest.raises(AssertionError, match=r"answered 400.*host header defined both"):
            exporter.probe("http_custom_headers_host", target, params={"hostname": "other.example"})
        same = exporter.probe("http_custom_headers_host", target, params={"hostname": "vhost.example"})
        assert same[("probe_success", ())] == 1


def test_dns_to_a_closed_udp_port_is_refused_at_once(side: Side) -> None:
    """Both answer well before the 5s scrape timeout: the ICMP port unreachable ends the query."""
    for exporter in (side.blackbox, side.infrawatch):
        m = exporter.probe("dns_closed_port", "127.0.0.1:1")
        assert m[("probe_success", ())] == 0
        assert m[("probe_duration_seconds", ())] < 1.0
