"""What templates see: entries prepared once for every interface language, grouped listings.

Every string taken from a feed stays a plain ``str`` here, so Jinja's autoescape escapes it;
only ``summary_html``/``content_html`` (already through ``sanitize``) and titles we build from
escaped pieces are ``Markup``. Links are kept only when they are http(s).

An entry looks the same in every interface language but for a few words: "by", "Read more",
its topic's and language's names, its date. So it is rendered once, with a ``Tokens`` mark in
place of each of those (``\x02…\x03``: characters ``clean`` removes from feed text, so no
feed can forge one), and each interface language fills the marks in (``Filler``): the entry
template runs once per entry, not once per entry and language.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Mapping, Sequence
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from ..i18n import Translator
from ..models import ERROR_KINDS, Entry, FeedState, FeedView, TopicDef
from .plan import OTHER, Item

CACHE_ENTRIES = 8192  # entry views kept (memory is bounded, not the site)
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
# Characters XML 1.0 forbids, and that have no business in a page either.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def clean(text: str | None) -> str:
    return _BAD_CHARS.sub("", text) if text else ""


def public_error(state: FeedState, tr: Translator) -> str:
    """What went wrong with a feed, in the reader's words (its kind, never its raw text: that may
    name a local path or an internal address)."""
    kind = state.error_kind if state.error_kind in ERROR_KINDS else "other"
    return tr(f"error_{kind}", status=state.last_status or "?")


def http_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL, else None (never javascript:, data:...)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(c in url for c in "\x00\t\n\r ") or _BAD_CHARS.search(url):
        return None
    return url


def lang_code(code: str | None) -> str:
    return code if code and _LANG.match(code) else "und"


class Tokens:
    """Stands in for a ``Translator`` where an entry is rendered for every interface language at
    once: each call gives a mark (``Markup``, so that autoescape leaves it whole) that a
    ``Filler`` replaces with the text in one language, escaped there."""

    ui = Markup("\x02u\x03")  # the interface language's code
    prefix = Markup("\x02r\x03")  # the path of its pages from the site's top ("ui/ta/")

    def __call__(self, key: str, **kw: object) -> Markup:
        return Markup("\x02t" + json.dumps([key, kw], ensure_ascii=False) + "\x03")

    @staticmethod
    def language(code: str) -> Markup:
        return Markup(f"\x02l{code}\x03")

    @staticmethod
    def topic(tid: str) -> Markup:
        return Markup(f"\x02p{tid}\x03")

    @staticmethod
    def when(published: datetime, day: date | None, full: bool) -> Markup:
        """An entry's time: the day alone when the feed gave no time (``feed_day``)."""
        value = f"D{day.isoformat()}" if day else f"T{published.isoformat()}"
        return Markup(f"\x02{'d' if full else 's'}{value}\x03")


TOKENS = Tokens()
_MARK = re.compile("\x02(.)([^\x02\x03]*)\x03")


class Filler:
    """Fills the marks of ``Tokens`` in for one interface language (each text made once)."""

    def __init__(self, tr: Translator, topic_names: Mapping[str, str], prefix: str):
        self.tr, self.topic_names, self.prefix = tr, topic_names, prefix
        self._texts: LRU[str, str] = LRU(CACHE_ENTRIES * 4)

    def __call__(self, html: str) -> str:
        if "\x02" not in html:
            return html
        return _MARK.sub(self._text, html)

    def _text(self, m: re.Match) -> str:
        return self._texts.get_or_make(m.group(0), lambda: self._make(m.group(1), m.group(2)))

    def _make(self, kind: str, arg: str) -> str:
        tr = self.tr
        if kind == "u":
            return tr.ui
        if kind == "r":
            return self.prefix
        if kind == "t":
            key, kw = json.loads(arg)
            text = tr(key, **kw)
        elif kind == "l":
            text = tr.language(arg)
        elif kind == "p":
            text = self.topic_names.get(arg) or self.topic_names[OTHER]
        elif arg.startswith("D"):
            text = tr.date(date.fromisoformat(arg[1:]), "full" if kind == "d" else "medium")
        else:
            dt = datetime.fromisoformat(arg[1:])
            text = tr.datetime(dt) if kind == "d" else tr.time(dt)
        return str(escape(text))


@dataclass
class EntryView:
    """An entry as the templates show it, the same in every interface language (the words that
    differ are ``Tokens`` marks)."""

    lang: str
    title: str
    title_html: Markup
    link: str | None
    feed_id: str
    feed_name: str
    author: str
    iso: str
    topic_id: str
    body: Markup
    more: bool
    anchor: str
    original_title: str
    legacy_encoding: str
    published: datetime
    image: str | None = None  # the thumbnail's http(s) URL
    day: date | None = None  # the day, when the feed gave a date without a time (``feed_day``)

    @property
    def topic_name(self) -> Markup:
        return TOKENS.topic(self.topic_id)

    @property
    def lang_name(self) -> Markup:
        return TOKENS.language(self.lang)

    @property
    def time_text(self) -> Markup:
        return TOKENS.when(self.published, self.day, full=False)

    @property
    def datetime_text(self) -> Markup:
        return TOKENS.when(self.published, self.day, full=True)


def feed_day(published: datetime) -> date | None:
    """The day of an entry whose feed gave a date without a time, else None.

    Such dates are stored as midnight UTC; shown in the site's zone they would read as a time
    of day the feed never gave ("5:30 AM" in Colombo). An entry posted at exactly 00:00:00 UTC
    is taken for one of these: it shows its date instead of its time, which is still true.
    """
    utc = published.astimezone(timezone.utc) if published.tzinfo else published
    if utc.hour or utc.minute or utc.second or utc.microsecond:
        return None
    return utc.date()


def when(published: datetime, tr: Translator) -> tuple[str, str]:
    """(ISO value for ``<time datetime>``, text) of an entry's time as the pages show it: the
    date alone when the feed gave no time (``feed_day``), else date and time in the site's zone."""
    day = feed_day(published)
    if day:
        return day.isoformat(), tr.date(day, "medium")
    return published.isoformat(), tr.datetime(published)


class LRU(OrderedDict):
    """A dict that keeps its ``limit`` most recently used values (the render's caches)."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def get_or_make(self, key, make):
        """The value for ``key``, made by ``make()`` (and kept) when it is not here."""
        value = self.get(key)
        if value is None:
            value = self[key] = make()
            if len(self) > self.limit:
                self.popitem(last=False)
        else:
            self.move_to_end(key)
        return value


@dataclass
class ItemView:
    e: EntryView
    versions: Sequence[Entry] = ()  # the story's other versions, each shown as one line


@dataclass
class Group:
    level: int  # heading level
    kind: str  # date, topic, language
    key: str
    title: str
    href: str | None = None  # relative to the interface root
    datetime: str | None = None
    groups: list["Group"] = field(default_factory=list)
    items: list[ItemView] = field(default_factory=list)


def title_markup(e: Entry, lang: str) -> Markup:
    """The title, with ``<span lang>`` around runs in another language (``Entry.segments``).

    Segment offsets index the detector's normalised ``title + "\\n\\n" + text``; they are used
    only when the stored title is already normalised (NFC, no soft hyphen or zero-width space),
    so the offsets line up with it.
    """
    title = clean(e.title)
    segs = [s for s in e.segments if s.start < len(title)]
    if (not segs or len({s.lang for s in segs}) < 2 or "\u00ad" in title or "\u200b" in title
            or unicodedata.normalize("NFC", title) != title):
        return escape(title)
    out: list[str] = []
    pos = 0
    for s in sorted(segs, key=lambda s: s.start):
        start, end = max(s.start, pos), min(s.end, len(title))
        if start >= end:
            continue
        out.append(str(escape(title[pos:start])))
        piece = escape(title[start:end])
        seg_lang = lang_code(s.lang)
        out.append(f'<span lang="{seg_lang}">{piece}</span>' if seg_lang != lang else str(piece))
        pos = end
    out.append(str(escape(title[pos:])))
    return Markup("".join(out))


class EntryViews:
    """Entry views, built once per entry (for every interface language) and cached."""

    def __init__(self, *, feeds: Sequence[FeedView], topics: Sequence[TopicDef], full_content: bool):
        self.full = full_content
        self.feed_names = {f.source.id: clean(f.source.name) for f in feeds}
        self.known_topics = {t.id for t in topics}
        # bounded: pages are rendered newest first, so an entry's pages come close together
        self._cache: LRU[int, EntryView] = LRU(CACHE_ENTRIES)

    def entry(self, e: Entry) -> EntryView:
        return self._cache.get_or_make(id(e), lambda: self._make_entry(e))

    def _make_entry(self, e: Entry) -> EntryView:
        lang = lang_code(e.lang)
        link = http_url(e.link)
        if self.full and e.content_html:
            body, more = e.content_html, False
        else:
            body = e.summary_html
            # a headline-only entry links from its title; "read more" would promise more than there is
            more = link is not None and bool(body)
        topic = e.topic if e.topic in self.known_topics else OTHER
        anchor = "e-" + _anchor(e.feed_id, e.guid)
        day = feed_day(e.published)
        return EntryView(
            lang=lang, title=clean(e.title), title_html=title_markup(e, lang), link=link,
            feed_id=e.feed_id, feed_name=self.feed_names.get(e.feed_id, clean(e.feed_id)),
            # <time datetime>: a bare date when the feed gave one
            author=clean(e.author), iso=day.isoformat() if day else e.published.isoformat(),
            published=e.published, day=day, topic_id=topic,
            body=Markup(_title_frames(clean(body), clean(e.title))), more=more, anchor=anchor,
            image=http_url(e.image),
            original_title=clean(e.original_title), legacy_encoding=clean(e.legacy_encoding))


class Views:
    """Listings for one interface language: grouped items with their headings."""

    def __init__(self, tr: Translator, entries: EntryViews, *, topics: Sequence[TopicDef],
                 languages: Sequence[str]):
        self.tr = tr
        self.entries = entries
        self.topic_ids = tuple(t.id for t in topics)
        self.topic_names = {t.id: clean(t.names.get(tr.ui) or t.names.get("en") or t.id)
                            for t in topics}
        self.topic_names[OTHER] = tr("other")
        self.languages = tuple(languages)

    def topic_of(self, e: Entry) -> str:
        return e.topic if e.topic in self.topic_names else OTHER

    def entry(self, e: Entry) -> EntryView:
        return self.entries.entry(e)

    def item(self, it: Item) -> ItemView:
        return ItemView(self.entries.entry(it.entry), it.versions)

    def language_order(self, code: str) -> tuple[int, str]:
        return (self.languages.index(code) if code in self.languages else len(self.languages),
                code)

    def topic_order(self, tid: str) -> int:
        return self.topic_ids.index(tid) if tid in self.topic_ids else len(self.topic_ids)

    def groups(self, items: Sequence[Item], grouping: Sequence[str], level: int,
               day_of: Mapping[int, date]) -> list[Group]:
        """Nest ``items`` by ``grouping`` (date, topic, language), headings from ``level``."""
        if not grouping:
            return []
        kind, rest = grouping[0], grouping[1:]
        buckets: dict[str, list[Item]] = {}
        for it in items:
            e = it.entry
            if kind == "date":
                key = day_of[id(e)].isoformat()
            elif kind == "topic":
                key = self.topic_of(e)
            else:
                key = lang_code(e.lang)
            buckets.setdefault(key, []).append(it)
        if kind == "topic":
            keys = sorted(buckets, key=self.topic_order)
        elif kind == "language":
            keys = sorted(buckets, key=self.language_order)
        else:
            keys = list(buckets)  # items are newest first, so dates come newest first
        out = []
        for key in keys:
            g = Group(level=min(level, 6), kind=kind, key=key, title="")
            if kind == "date":
                g.title = self.tr.date(date.fromisoformat(key))
                g.datetime = key
                g.href = f"archive/{key}.html"
            elif kind == "topic":
                g.title = self.topic_names[key]
                g.href = f"topics/{key}/index.html"
            else:
                g.title = self.tr.language(key)
                g.href = f"{key}/index.html" if key in self.languages else None
            if rest:
                g.groups = self.groups(buckets[key], rest, level + 1, day_of)
            else:
                g.items = [self.item(it) for it in buckets[key]]
            out.append(g)
        return out


_FRAME = re.compile(r"<iframe\b([^>]*)>")
_FRAME_TITLE = re.compile(r'\stitle="[^"]*"')


def _title_frames(html: str, title: str) -> str:
    """Each embedded player titled after its entry ("Video: <title>"), not the player's own
    "YouTube video player" that every embed shares: a screen reader's list of frames, and
    axe's frame-title-unique, need to tell them apart."""
    if "<iframe" not in html:
        return html
    count = [0]

    def one(m: re.Match) -> str:
        count[0] += 1
        n = f" {count[0]}" if count[0] > 1 else ""
        label = escape(f"Video{n}: {title}" if title else f"Video{n}")
        return f'<iframe{_FRAME_TITLE.sub("", m.group(1))} title="{label}">'

    return _FRAME.sub(one, html)


def _anchor(feed_id: str, guid: str) -> str:
    import hashlib
    return hashlib.blake2b(f"{feed_id}\x1f{guid}".encode("utf-8", "surrogatepass"),
                           digest_size=6).hexdigest()
