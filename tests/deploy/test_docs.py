"""A newcomer's path through the docs has no dead end: every relative link in README.md and docs/
points at a file of the repository (and an anchor, when given, at a heading of it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK_RE = re.compile(r"\]\(([^)\s]+)\)")


def anchors(md: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    out = set()
    for heading in re.findall(r"^#+ (.+)$", md.read_text(), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        out.add(slug)
    out |= set(re.findall(r"<!-- @section (\S+) -->", md.read_text()))
    return out


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(doc: Path) -> None:
    broken = []
    for n, line in enumerate(doc.read_text().splitlines(), 1):
        for target in LINK_RE.findall(line):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path, _, anchor = target.partition("#")
            dest = (doc.parent / path).resolve()
            if not dest.exists():
                broken.append(f"{doc.name}:{n}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{doc.name}:{n}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_no_reference_to_a_missing_design_document() -> None:
    hits = [p.relative_to(ROOT).as_posix() for p in DOCS if "DESIGN.md" in p.read_text()]
    assert hits == []
