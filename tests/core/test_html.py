"""The page shell and escaping both status pages share."""

from __future__ import annotations

from infrawatch.core.html import BASE_CSS, escape, page
from infrawatch.probe.statuspage import StatusView, render_status_page
from infrawatch.reputation.page import render


def test_escape() -> None:
    assert escape('<a href="x">&\'</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;&lt;/a&gt;"
    assert escape(None) == ""
    assert escape(3) == "3"


def test_page_escapes_the_title_and_keeps_the_body() -> None:
    html = page("<t>", "<p>body</p>", css="p{}", refresh_seconds=5)
    assert "<title>&lt;t&gt;</title>" in html and "<p>body</p>" in html
    assert '<meta http-equiv="refresh" content="5">' in html and "p{}" in html
    assert 'http-equiv="refresh"' not in page("t", "")


def test_both_status_pages_use_the_shell() -> None:
    probe = render_status_page(StatusView(modules=["http_<2xx>"], reload_error="bad <thing>"))
    reputation = render({"targets": [], "lists": [], "generated_at": "now"}, "rep <title>")
    for html in (probe, reputation):
        assert html.startswith('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">')
        assert BASE_CSS in html and 'name="viewport"' in html
    assert "http_&lt;2xx&gt;" in probe and "bad &lt;thing&gt;" in probe
    assert "<title>rep &lt;title&gt;</title>" in reputation
