"""feedparser adapter: bytes + response headers -> ``ParsedFeed``.

No feedparser dict leaves this module. feedparser is given bytes (never an
untrusted str) and the real response headers, so it can honour the HTTP
charset the way its own test suite expects.

Hostile values are clamped here, once, so that every output (pages, Atom, JSON Feed, OPML)
inherits it: dates before 1990 or more than a day ahead are treated as missing (the entry then
gets the time it was first seen); titles, authors and categories are cut at ``MAX_TEXT``
characters (``MAX_CATEGORIES`` categories at most), ids longer than ``MAX_ID`` keep a hash of
the rest; links and home pages that are not http(s), or longer than ``MAX_URL``, are dropped.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping
from urllib.parse import urljoin, urlsplit

import feedparser

from ..errors import ParseError
from ..models import ParsedEntry, ParsedFeed
from . import media

# Warnings that say nothing about the entries: a missing or generic
# Content-Type (local files, sloppy servers) or a charset the document overrides.
_BENIGN = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)

MAX_TEXT = 1000  # characters of a title, an author's name or a category
MAX_CATEGORIES = 50  # categories kept per entry
MAX_ID = 1000  # characters of an entry id (a longer one keeps a hash of the whole)
MAX_URL = 4096  # characters of a link; a longer one is dropped
EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)  # older dates are taken for missing
FUTURE_SLACK = timedelta(days=1)  # dates further ahead of the clock are taken for missing


class _Limits:
    """The date range one parse accepts: from ``EARLIEST`` to a day after ``now``."""

    def __init__(self, now: datetime | None):
        self.latest = (now or datetime.now(timezone.utc)) + FUTURE_SLACK

    def date(self, dt: datetime | None) -> datetime | None:
        return dt if dt is not None and EARLIEST <= dt <= self.latest else None


def parse_feed(content: bytes, headers: Mapping[str, str] | None = None,
               url: str | None = None, *, now: datetime | None = None) -> ParsedFeed:
    """Parse one feed document; malformed documents keep what can be read.

    ``now`` (default: the system clock) bounds the dates accepted (see the module doc).
    Raises ``ParseError`` only when nothing at all could be read.
    """
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    limits = _Limits(now)
    if _looks_like_json(content, hdrs.get("content-type", "")):
        return _parse_json_feed(content, url, limits)
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
    home = web_url(feed.get("link"))
    feed_link = home or url
    feed_lang = feed.get("language") or _xml_lang(feed)
    entries = []
    for e in d.get("entries", []):
        entry = _entry(e, feed_link, feed_lang, limits)
        if entry is not None:
            entries.append(entry)
    return ParsedFeed(title=_text(feed.get("title")) or (url or "untitled feed"),
                      link=home, language=feed_lang, entries=tuple(entries),
                      warning=warning)


def web_url(url: Any, base: str | None = None) -> str | None:
    """``url`` made absolute against ``base`` when it is an http(s) URL of sane length; else
    None (a ``javascript:`` or ``data:`` link, a 5 MB "URL")."""
    if not url or not isinstance(url, str) or len(url) > MAX_URL:
        return None
    url = url.strip()
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _text(value: Any) -> str:
    """Plain text cut at ``MAX_TEXT`` characters."""
    text = _clean(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1].rstrip() + "…"


def _guid(value: str) -> str:
    """An entry id of at most ``MAX_ID`` characters; a longer one keeps its start and a hash of
    the whole, so two long ids that share a start stay two entries."""
    if len(value) <= MAX_ID:
        return value
    h = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]
    return f"{value[:MAX_ID - 40]}#sha256:{h}"


def _categories(terms: Any) -> tuple[str, ...]:
    out = dict.fromkeys(t for t in (_text(x) for x in terms) if t)
    return tuple(out)[:MAX_CATEGORIES]


def _entry(e: Mapping[str, Any], feed_link: str | None, feed_lang: str | None,
           limits: _Limits) -> ParsedEntry | None:
    link = web_url(e.get("link"), feed_link)
    title = _text(_strip_tags(e.get("title"), e.get("title_detail")))
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
    published = (limits.date(_when(e.get("published_parsed")))
                 or limits.date(_when(e.get("updated_parsed"))))
    updated = limits.date(_when(e.get("updated_parsed")))
    guid = e.get("id") or link or _hash(title, summary, content)
    categories = _categories(t.get("term") or t.get("label") for t in (e.get("tags") or [])
                             if isinstance(t, Mapping))
    detail = e.get("title_detail") or e.get("summary_detail") or {}
    lang = detail.get("language") or feed_lang
    base = (e.get("content") or [{}])[0].get("base") if contents else None
    base = base or detail.get("base") or link or feed_link
    author = _author(e)
    return ParsedEntry(guid=_guid(str(guid)), title=title, link=link, summary=summary,
                       content=content, author=author, published=published, updated=updated,
                       categories=categories, language=lang, base=base,
                       image=media.feed_image(e, link or feed_link))


def _author(e: Mapping[str, Any]) -> str | None:
    """The author's name: RSS's ``email (Name)`` gives the name; a bare address stays as it is."""
    names = [_clean(a.get("name")) for a in (e.get("authors") or []) if isinstance(a, Mapping)]
    names = [n for n in dict.fromkeys(names) if n]
    if names:
        return _text(", ".join(names))
    return _text(e.get("author")) or None


def _when(struct: Any) -> datetime | None:
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), tz=timezone.utc)
    except (OverflowError, ValueError, TypeError, OSError):
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


def _parse_json_feed(content: bytes, url: str | None, limits: _Limits) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (https://www.jsonfeed.org/version/1.1/); feedparser has no reader for it."""
    import json

    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ParseError(f"not a feed (invalid JSON: {e})") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ParseError("not a feed (JSON without an 'items' list)")
    home = web_url(doc.get("home_page_url"))
    feed_lang = doc.get("language") if isinstance(doc.get("language"), str) else None
    entries = []
    for item in doc["items"]:
        if not isinstance(item, dict):
            continue
        link = web_url(item.get("url"), home or url)
        title = _text(item.get("title"))
        content_html = str(item.get("content_html") or "")
        if "<" not in content_html and "&lt;" in content_html:
            import html
            content_html = html.unescape(content_html)  # escaped twice by the publisher
        if not content_html and item.get("content_text"):
            import html
            content_html = "<p>" + html.escape(str(item["content_text"])) + "</p>"
        summary = str(item.get("summary") or "")
        authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
        if not isinstance(authors, list):
            authors = []
        author = next((a.get("name") for a in authors if isinstance(a, dict) and a.get("name")), None)
        tags = _categories(t for t in (item.get("tags") or []) if isinstance(t, str))
        published = (limits.date(_iso(item.get("date_published")))
                     or limits.date(_iso(item.get("date_modified"))))
        guid = _guid(str(item.get("id") or link or _hash(title, summary, str(content_html))))
        if not (title or summary or content_html or link):
            continue
        entries.append(ParsedEntry(
            guid=guid, title=title, link=link, summary=summary, content=str(content_html),
            author=_text(author) or None, published=published,
            updated=limits.date(_iso(item.get("date_modified"))),
            categories=tags, language=item.get("language") or feed_lang, base=link or home,
            image=media.image_url(item.get("image") or item.get("banner_image"), link or home)))
    return ParsedFeed(title=_text(doc.get("title")) or (url or "untitled feed"), link=home,
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
    try:
        return dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):  # year 1 with a positive offset
        return None
