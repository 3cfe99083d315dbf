"""Find what a built page would load from another host: the site must work without the network.

A page loads from elsewhere through `<script src=...>`, `<link href=...>` (style sheets, fonts, icons),
and in style sheets through `@import` and `url(...)`. `outside_references` lists every such address that
names a host (`https://host/...`, `http://...`, or `//host/...`); links a reader clicks (`<a href>`, such
as "Open in Colab") load nothing by themselves and are not counted.
"""

from __future__ import annotations

import re
from pathlib import Path

HOSTED = r"""(?P<url>(?:https?:)?//[^"'\s>)]+)"""
LOADS = (
    re.compile(r"""<script\b[^>]*?\bsrc\s*=\s*["']?""" + HOSTED, re.IGNORECASE),
    re.compile(r"""<link\b[^>]*?\bhref\s*=\s*["']?""" + HOSTED, re.IGNORECASE),
    re.compile(r"""@import\s+(?:url\(\s*)?["']?""" + HOSTED, re.IGNORECASE),
    re.compile(r"""\burl\(\s*["']?""" + HOSTED, re.IGNORECASE),
)
SCANNED = (".html", ".js", ".css")


def outside_references(text: str) -> list[str]:
    """Every address on another host that `text` (HTML, JavaScript or CSS) would load, in order of appearance."""
    found = {match.start("url"): match["url"] for pattern in LOADS for match in pattern.finditer(text)}
    return [found[start] for start in sorted(found)]  # `@import url(...)` matches two patterns, counted once


def scan(site: Path) -> dict[str, list[str]]:
    """{file relative to `site`: outside addresses} for every HTML, JavaScript and CSS file that has any."""
    found = {}
    for path in sorted(site.rglob("*")):
        if path.suffix in SCANNED and path.is_file():
            urls = outside_references(path.read_text(encoding="utf-8", errors="replace"))
            if urls:
                found[str(path.relative_to(site))] = urls
    return found
