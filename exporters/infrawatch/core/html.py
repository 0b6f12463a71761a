"""The HTML page shell and escaping both exporters' status pages use.

Server-rendered, no JavaScript; a page refreshes itself.  Every value put into a page goes
through ``escape``; the caller may scrub registered secrets from the whole page as well.
"""

from __future__ import annotations

import html

BASE_CSS = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem}\n"


def escape(value: object) -> str:
    """HTML-escape ``value`` for text and attribute values (``None`` is empty)."""
    return html.escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, css: str = "", refresh_seconds: int = 0) -> str:
    """A complete document: ``title`` is escaped here; ``body`` is HTML the caller escaped."""
    refresh = f'<meta http-equiv="refresh" content="{refresh_seconds}">' if refresh_seconds else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">{refresh}
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{escape(title)}</title><style>{BASE_CSS}{css}</style></head>
<body>
{body}
</body></html>
"""
