"""``--web.external-url`` / ``--web.route-prefix`` on both exporters, with real HTTP requests.

The flags' semantics are Prometheus' and exporter-toolkit exporters' (blackbox_exporter): the route
prefix defaults to the external URL's path; every endpoint moves under it; ``/`` redirects to it;
the status pages' links start with the external URL's path (also when a proxy strips the prefix
and the exporter runs with ``--web.route-prefix=/``).
"""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from infrawatch.core.weburl import WebURLError, compute
from infrawatch_dev.devstack.exporters import ExporterProc, ReputationExporterProc

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("external", "prefix", "want"),
    [
        ("", "", (f"http://{socket.gethostname()}:9516", "", "/")),
        ("http://proxy.example/iw/", "", ("http://proxy.example/iw", "/iw", "/iw")),
        ("https://proxy.example:8443/a/b", "", ("https://proxy.example:8443/a/b", "/a/b", "/a/b")),
        ("http://proxy.example/iw/", "/", ("http://proxy.example/iw", "/iw", "/")),
        ("http://proxy.example/", "internal/", ("http://proxy.example", "", "/internal")),
    ],
)
def test_compute(external: str, prefix: str, want: tuple[str, str, str]) -> None:
    w = compute(external, prefix, ":9516")
    assert (w.external_url, w.path, w.route_prefix) == want


@pytest.mark.parametrize("bad", ['"http://x/"', "proxy.example/iw", "ftp://x/", "http:///nohost"])
def test_compute_rejects(bad: str) -> None:
    with pytest.raises(WebURLError, match=r"--web\.external-url"):
        compute(bad, "", ":9516")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def get(url: str) -> tuple[int, str, str]:
    """(status, Location header, body) without following redirects."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=30) as r:
            return r.status, r.headers.get("Location", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location", ""), e.read().decode()


def probe_config(tmp_path: Path) -> Path:
    cfg = yaml.safe_load((ROOT / "examples" / "probe.yml").read_text())
    cfg["targets"] = []
    path = tmp_path / "probe.yml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def reputation_config() -> str:
    cfg = yaml.safe_load((ROOT / "examples" / "reputation.yml").read_text())
    # nothing answers DNS here: every lookup is "unknown", which is all a page test needs
    cfg["resolver"]["nameservers"] = ["127.0.0.1:9"]
    cfg["targets"] = cfg["targets"][:1]
    cfg.pop("state_file", None)
    return yaml.safe_dump(cfg)


@pytest.fixture(params=["probe", "reputation"])
def exporter_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    started: list = []

    def start(*flags: str):
        if request.param == "probe":
            e = ExporterProc(probe_config(tmp_path), tmp_path, list(flags))
        else:
            e = ReputationExporterProc(tmp_path / f"rep{len(started)}", reputation_config(), list(flags)).start()
        started.append(e)
        return e

    start.kind = request.param  # type: ignore[attr-defined]
    yield start
    for e in started:
        e.stop()


def links(page: str) -> list[str]:
    return [h for h in re.findall(r'href="([^"]+)"', page) if not h.startswith("http")]


def test_route_prefix_from_external_url(exporter_factory) -> None:
    e = exporter_factory("--web.external-url=http://proxy.example:8080/infrawatch/")
    assert get(e.url + "/metrics")[0] == 404
    status, body = get(e.url + "/infrawatch/metrics")[::2]
    assert status == 200 and "infrawatch_build_info" in body
    assert get(e.url + "/infrawatch/-/healthy")[0] == 200
    assert get(e.url + "/infrawatch/-/ready")[0] == 200
    assert get(e.url + "/infrawatch/config")[0] == 200
    # / and the bare prefix redirect to the prefix
    assert get(e.url + "/")[:2] == (302, "/infrawatch/")
    assert get(e.url + "/infrawatch")[:2] == (302, "/infrawatch/")
    status, _, page = get(e.url + "/infrawatch/")
    assert status == 200
    hrefs = links(page)
    assert hrefs and all(h.startswith("/infrawatch/") for h in hrefs), hrefs
    # every link on the page answers under the prefix
    for h in hrefs:
        assert get(e.url + h.replace("&amp;", "&"))[0] in (200, 400, 403), h
    if exporter_factory.kind == "probe":
        assert "/infrawatch/probe?" in page
        assert get(e.url + "/infrawatch/probe?target=http://127.0.0.1:9/&module=http_2xx")[0] in (200, 403)
        assert get(e.url + "/probe?target=http://127.0.0.1:9/&module=http_2xx")[0] == 404


def test_proxy_strips_the_prefix(exporter_factory) -> None:
    """The proxy removes /infrawatch before passing the request on: routes at /, links with the path."""
    e = exporter_factory("--web.external-url=https://proxy.example/infrawatch", "--web.route-prefix=/")
    assert get(e.url + "/metrics")[0] == 200
    status, _, page = get(e.url + "/")
    assert status == 200
    hrefs = links(page)
    assert hrefs and all(h.startswith("/infrawatch/") for h in hrefs), hrefs


def test_without_flags_links_are_at_the_root(exporter_factory) -> None:
    e = exporter_factory()
    status, _, page = get(e.url + "/")
    assert status == 200
    hrefs = links(page)
    assert hrefs and all(h.startswith("/") and not h.startswith("/infrawatch") for h in hrefs), hrefs
    for h in hrefs:
        assert get(e.url + h.replace("&amp;", "&"))[0] in (200, 400, 403), h


def test_bad_external_url_exits_2(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"exited with 2[\s\S]*--web.external-url"):
        ExporterProc(probe_config(tmp_path), tmp_path, ["--web.external-url=proxy.example/iw"])
