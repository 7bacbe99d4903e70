"""Feed autodiscovery: the feeds an HTML page announces.

A page names its feeds with ``<link rel="alternate" type="application/rss+xml"
href="...">`` in its head (the RSS autodiscovery convention,
https://www.rssboard.org/rss-autodiscovery, and RFC 4287 for Atom). Links are
returned absolute (resolved against ``<base href>`` or the page URL), in
document order, Atom and RSS before JSON Feed, duplicates dropped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

FEED_TYPES = {
    "application/atom+xml": 0,
    "application/rss+xml": 0,
    "application/rdf+xml": 1,
    "application/feed+json": 2,
    "application/json": 3,
    "text/xml": 3,
    "application/xml": 3,
}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([a-zA-Z0-9_.:-]+)""", re.I)


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[tuple[int, int, str]] = []  # (type rank, position, href)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and self.base is None and a.get("href"):
            self.base = a["href"].strip()
        if tag != "link":
            return
        rels = a.get("rel", "").lower().split()
        ftype = a.get("type", "").lower().split(";")[0].strip()
        href = a.get("href", "").strip()
        if "alternate" in rels and ftype in FEED_TYPES and href:
            self.links.append((FEED_TYPES[ftype], len(self.links), href))

    handle_startendtag = handle_starttag


def _decode(html: bytes) -> str:
    m = _CHARSET.search(html[:4096])
    if m:
        try:
            return html.decode(m.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    return html.decode("utf-8", errors="replace")


def find_feed_links(html: bytes, base_url: str) -> list[str]:
    """Absolute URLs of the feeds ``html`` announces, best first; [] when none."""
    parser = _LinkParser()
    try:
        parser.feed(_decode(html))
        parser.close()
    except Exception:  # html.parser is lenient; a broken page just yields what was seen
        pass
    base = urljoin(base_url, parser.base) if parser.base else base_url
    out: list[str] = []
    for _, _, href in sorted(parser.links):
        url = urljoin(base, href)
        if urlsplit(url).scheme.lower() in ("http", "https") and url not in out:
            out.append(url)
    return out
