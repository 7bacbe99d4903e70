"""OPML 2.0 subscription lists (http://opml.org/spec2.opml): export and import.

Export: one ``<outline type="rss" text= title= xmlUrl= htmlUrl= language=>``
per feed, flat, in config order (local ``file://`` feeds are left out).
Import: every outline with an ``xmlUrl`` at any depth (nested outlines are
categories), in document order, duplicates dropped. A file that is not OPML
gets a ``ConfigError`` naming it.
"""

from __future__ import annotations

import email.utils
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Sequence
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..models import FeedView
from .parse import web_url


def to_opml(feeds: Sequence[FeedView], title: str, now: datetime) -> str:
    """The site's ``opml.xml``: every configured feed, in config order."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = email.utils.format_datetime(now, usegmt=True) \
        if now.tzinfo else email.utils.format_datetime(now)
    ET.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = ET.SubElement(root, "body")
    for view in feeds:
        src, state = view.source, view.state
        url = (state.moved_to if state and state.moved_to else None) or src.url
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            continue  # a local file means nothing to a reader of the published list
        attrs = {"type": "rss", "text": src.name, "title": (state.title if state and state.title
                                                              else src.name), "xmlUrl": url}
        home = web_url(state.site_link) if state else None  # stored by an older release too
        if home:
            attrs["htmlUrl"] = home
        lang = src.language or (state.language if state else None)
        if lang and lang != "und":
            attrs["language"] = lang
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def from_opml(data: bytes, origin: str) -> list[tuple[str, str | None, str | None]]:
    """(url, name, language) of every feed in an OPML document; ``origin`` names it in errors."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise ConfigError(f"not valid OPML (XML error: {e})", path=origin,
                          hint="export the list again from your reader as OPML") from e
    if _local(root.tag) != "opml":
        raise ConfigError(f"not an OPML document (root element is <{_local(root.tag)}>)",
                          path=origin, hint="an OPML file starts with <opml version=\"2.0\">")
    body = next((c for c in root if _local(c.tag) == "body"), None)
    if body is None:
        raise ConfigError("not valid OPML: no <body>", path=origin)
    out: list[tuple[str, str | None, str | None]] = []
    seen: set[str] = set()
    for node in body.iter():
        if _local(node.tag) != "outline":
            continue
        a = {_local(k): v for k, v in node.attrib.items()}
        # OPML 2.0 says xmlUrl; some exporters write xmlurl or url
        url = (a.get("xmlUrl") or a.get("xmlurl") or (a.get("url") if a.get("type") == "rss"
                                                         else None) or "").strip()
        if not url or urlsplit(url).scheme.lower() not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        name = (a.get("title") or a.get("text") or "").strip() or None
        lang = (a.get("language") or "").strip().lower() or None
        out.append((url, name, lang))
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
