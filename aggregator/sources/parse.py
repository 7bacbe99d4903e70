"""feedparser adapter: bytes + response headers -> ``ParsedFeed``.

No feedparser dict leaves this module. feedparser is given bytes (never an
untrusted str) and the real response headers, so it can honour the HTTP
charset the way its own test suite expects.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urljoin

import feedparser

from ..errors import ParseError
from ..models import ParsedEntry, ParsedFeed
from . import media

# Warnings that say nothing about the entries: a missing or generic
# Content-Type (local files, sloppy servers) or a charset the document overrides.
_BENIGN = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)


def parse_feed(content: bytes, headers: Mapping[str, str] | None = None,
               url: str | None = None) -> ParsedFeed:
    """Parse one feed document; malformed documents keep what can be read.

    Raises ``ParseError`` only when nothing at all could be read.
    """
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    if _looks_like_json(content, hdrs.get("content-type", "")):
        return _parse_json_feed(content, url)
    if url and "content-location" not in hdrs:
        hdrs["content-location"] = url
    try:
        # feedparser's own HTML passes are off: entry HTML goes through ``sanitize`` (nh3,
        # stricter) before it is shown, which also resolves relative URLs against the entry's
        # base (``ParsedEntry.base``, xml:base included), and titles are made plain text below.
        # Sanitising was a third of the parsing time, resolving URLs a sixth of the rest.
        d = feedparser.parse(io.BytesIO(content), response_headers=hdrs, sanitize_html=False,
                             resolve_relative_uris=False)
    except Exception as e:  # feedparser is robust, but never let it take the run down
        raise ParseError(f"feedparser failed: {e}") from e
    feed = d.get("feed", {}) or {}
    version = d.get("version") or ""
    warning = None
    if d.get("bozo") and not isinstance(d.get("bozo_exception"), _BENIGN):
        exc = d.get("bozo_exception")
        warning = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    if not d.get("entries") and not version:
        raise ParseError(f"not a feed ({warning or 'no entries and no feed format recognised'})")
    feed_link = feed.get("link") or url
    feed_lang = feed.get("language") or _xml_lang(feed)
    entries = []
    for e in d.get("entries", []):
        entry = _entry(e, feed_link, feed_lang)
        if entry is not None:
            entries.append(entry)
    return ParsedFeed(title=_clean(feed.get("title")) or (url or "untitled feed"),
                      link=feed.get("link"), language=feed_lang, entries=tuple(entries),
                      warning=warning)


def _entry(e: Mapping[str, Any], feed_link: str | None, feed_lang: str | None) -> ParsedEntry | None:
    link = e.get("link") or None
    if link and feed_link:
        link = urljoin(feed_link, link)
    title = _clean(_strip_tags(e.get("title"), e.get("title_detail")))
    summary = e.get("summary") or ""
    content = ""
    contents = e.get("content") or []
    if contents:
        # Prefer HTML content over a plain text alternative.
        best = next((c for c in contents if "html" in (c.get("type") or "")), contents[0])
        content = best.get("value") or ""
    if summary and content and summary.strip() == content.strip():
        summary = ""
    if not title and not summary and not content and not link:
        return None  # nothing a reader could use
    published = _when(e.get("published_parsed")) or _when(e.get("updated_parsed"))
    updated = _when(e.get("updated_parsed"))
    guid = e.get("id") or link or _hash(title, summary, content)
    categories = tuple(dict.fromkeys(
        _clean(t.get("term") or t.get("label")) for t in (e.get("tags") or [])
        if (t.get("term") or t.get("label"))))
    detail = e.get("title_detail") or e.get("summary_detail") or {}
    lang = detail.get("language") or feed_lang
    base = (e.get("content") or [{}])[0].get("base") if contents else None
    base = base or detail.get("base") or link or feed_link
    author = _author(e)
    return ParsedEntry(guid=str(guid)[:2000], title=title, link=link, summary=summary,
                       content=content, author=author, published=published, updated=updated,
                       categories=tuple(c for c in categories if c), language=lang, base=base,
                       image=media.feed_image(e, link or feed_link))


def _author(e: Mapping[str, Any]) -> str | None:
    """The author's name: RSS's ``email (Name)`` gives the name; a bare address stays as it is."""
    names = [_clean(a.get("name")) for a in (e.get("authors") or []) if isinstance(a, Mapping)]
    names = [n for n in dict.fromkeys(names) if n]
    if names:
        return ", ".join(names)[:300]
    return _clean(e.get("author")) or None


def _when(struct: Any) -> datetime | None:
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), tz=timezone.utc)
    except (OverflowError, ValueError, TypeError):
        return None


_SCRIPTY = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<!--.*?-->", re.S)


def _strip_tags(text: Any, detail: Any) -> Any:
    """Markup removed from a title the feed marked as HTML (shown as plain text anyway)."""
    if not text or "<" not in str(text) or "html" not in str((detail or {}).get("type") or ""):
        return text
    return _TAG.sub("", _SCRIPTY.sub("", str(text)))


def _clean(text: Any) -> str:
    if not text:
        return ""
    import html
    # feedparser gives titles as text with entities possibly left in HTML form.
    return " ".join(html.unescape(str(text)).split())


def _xml_lang(feed: Mapping[str, Any]) -> str | None:
    detail = feed.get("title_detail") or {}
    return detail.get("language")


def _hash(*parts: str) -> str:
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()
    return f"sha256:{h[:32]}"


def _looks_like_json(content: bytes, content_type: str) -> bool:
    if "json" in content_type.lower():
        return True
    head = content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{")


def _parse_json_feed(content: bytes, url: str | None) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (https://www.jsonfeed.org/version/1.1/); feedparser has no reader for it."""
    import json

    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ParseError(f"not a feed (invalid JSON: {e})") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ParseError("not a feed (JSON without an 'items' list)")
    home = doc.get("home_page_url") if isinstance(doc.get("home_page_url"), str) else None
    feed_lang = doc.get("language") if isinstance(doc.get("language"), str) else None
    entries = []
    for item in doc["items"]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") if isinstance(item.get("url"), str) else None
        if link and (home or url):
            link = urljoin(home or url or "", link)
        title = _clean(item.get("title"))
        content_html = str(item.get("content_html") or "")
        if "<" not in content_html and "&lt;" in content_html:
            import html
            content_html = html.unescape(content_html)  # escaped twice by the publisher
        if not content_html and item.get("content_text"):
            import html
            content_html = "<p>" + html.escape(str(item["content_text"])) + "</p>"
        summary = str(item.get("summary") or "")
        authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
        author = next((a.get("name") for a in authors if isinstance(a, dict) and a.get("name")), None)
        tags = tuple(_clean(t) for t in (item.get("tags") or []) if isinstance(t, str) and t.strip())
        published = _iso(item.get("date_published")) or _iso(item.get("date_modified"))
        guid = str(item.get("id") or link or _hash(title, summary, str(content_html)))
        if not (title or summary or content_html or link):
            continue
        entries.append(ParsedEntry(
            guid=guid[:2000], title=title, link=link, summary=summary, content=str(content_html),
            author=_clean(author) or None, published=published, updated=_iso(item.get("date_modified")),
            categories=tags, language=item.get("language") or feed_lang, base=link or home,
            image=media.image_url(item.get("image") or item.get("banner_image"), link or home)))
    return ParsedFeed(title=_clean(doc.get("title")) or (url or "untitled feed"), link=home,
                      language=feed_lang, entries=tuple(entries))


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)
