"""Feeds out: Atom 1.0 (RFC 4287) and JSON Feed 1.1, built with the standard library.

Atom is built as an ElementTree, so it is well-formed whatever the entries hold; characters
XML forbids are removed first. Entry HTML (already sanitised) goes in ``type="html"``.
"""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Mapping, Sequence

from markupsafe import Markup

from ..models import Entry
from .views import clean, http_url, lang_code

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
JSONFEED_VERSION = "https://jsonfeed.org/version/1.1"


def entry_id(e: Entry) -> str:
    """A stable IRI for an entry, the same in Atom and JSON Feed."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"aggregator:{e.feed_id}\x1f{e.guid}").urn


def _rfc3339(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def _abs(base_url: str, path: str) -> str:
    return (base_url.rstrip("/") + "/" + path) if base_url else path


def _body(e: Entry) -> str:
    return clean(e.content_html or e.summary_html)


def atom(entries: Sequence[Entry], *, title: str, base_url: str, path: str, lang: str,
         feed_names: Mapping[str, str], topic_names: Mapping[str, str]) -> bytes:
    """An Atom 1.0 document of ``entries`` (newest first), published at ``path``."""
    ET.register_namespace("", ATOM_NS)
    q = lambda tag: f"{{{ATOM_NS}}}{tag}"  # noqa: E731
    feed = ET.Element(q("feed"), {XML_LANG: lang})
    ET.SubElement(feed, q("title")).text = clean(title)
    feed_url = _abs(base_url, path)
    ET.SubElement(feed, q("id")).text = (
        feed_url if base_url else uuid.uuid5(uuid.NAMESPACE_URL, f"aggregator:{title}:{path}").urn)
    newest = max((e.published for e in entries), default=datetime(1970, 1, 1).astimezone())
    ET.SubElement(feed, q("updated")).text = _rfc3339(newest)
    ET.SubElement(feed, q("link"), {"rel": "self", "href": feed_url,
                                    "type": "application/atom+xml"})
    if base_url:
        ET.SubElement(feed, q("link"), {"rel": "alternate", "href": _abs(base_url, ""),
                                        "type": "text/html"})
    author = ET.SubElement(feed, q("author"))
    ET.SubElement(author, q("name")).text = clean(title)
    ET.SubElement(feed, q("generator")).text = "aggregator"
    for e in entries:
        el = ET.SubElement(feed, q("entry"), {XML_LANG: lang_code(e.lang)})
        ET.SubElement(el, q("id")).text = entry_id(e)
        ET.SubElement(el, q("title"), {"type": "text"}).text = clean(e.title) or "(untitled)"
        ET.SubElement(el, q("updated")).text = _rfc3339(e.published)
        ET.SubElement(el, q("published")).text = _rfc3339(e.published)
        link = http_url(e.link)
        if link:
            ET.SubElement(el, q("link"), {"rel": "alternate", "href": link, "type": "text/html"})
        a = ET.SubElement(el, q("author"))
        ET.SubElement(a, q("name")).text = clean(e.author) or feed_names.get(e.feed_id, e.feed_id)
        ET.SubElement(el, q("category"), {"term": e.topic,
                                          "label": topic_names.get(e.topic, e.topic)})
        src = ET.SubElement(el, q("source"))
        ET.SubElement(src, q("title")).text = feed_names.get(e.feed_id, e.feed_id)
        if e.summary_html:
            ET.SubElement(el, q("summary"), {"type": "html"}).text = clean(e.summary_html)
        if e.content_html:
            ET.SubElement(el, q("content"), {"type": "html"}).text = clean(e.content_html)
    ET.indent(feed, space=" ")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8",
                                                                      xml_declaration=False) + b"\n"


def json_feed(entries: Sequence[Entry], *, title: str, base_url: str, path: str, lang: str,
              feed_names: Mapping[str, str]) -> bytes:
    """A JSON Feed 1.1 document; each item carries ``_aggregator`` (feed, topic, story...)."""
    doc: dict = {"version": JSONFEED_VERSION, "title": clean(title), "language": lang}
    if base_url:
        doc["home_page_url"] = _abs(base_url, "")
        doc["feed_url"] = _abs(base_url, path)
    items = []
    for e in entries:
        item: dict = {"id": entry_id(e)}
        link = http_url(e.link)
        if link:
            item["url"] = link
        item["title"] = clean(e.title)
        body = _body(e)
        item["content_html"] = body
        summary = Markup(clean(e.summary_html)).striptags() if e.summary_html else ""
        if summary:
            item["summary"] = summary
        item["date_published"] = _rfc3339(e.published)
        item["language"] = lang_code(e.lang)
        item["tags"] = [e.topic]
        item["authors"] = [{"name": clean(e.author) or feed_names.get(e.feed_id, e.feed_id)}]
        item["_aggregator"] = {
            "feed": e.feed_id,
            "feed_name": feed_names.get(e.feed_id, e.feed_id),
            "topic": e.topic,
            "language": lang_code(e.lang),
            "story": e.story,
            "segments": [{"start": s.start, "end": s.end, "lang": s.lang} for s in e.segments],
        }
        items.append(item)
    doc["items"] = items
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
