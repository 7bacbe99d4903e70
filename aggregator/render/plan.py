"""Which pages the site has and what goes on each: pure functions over ``SiteData``.

A listing (the digest, a language, a topic, a feed, a day) is a list of *items*, newest first;
an item is one entry, or one story shown once with its other versions. Listings longer than
``per_page`` are paginated from the oldest end: ``page/1.html`` holds the oldest ``per_page``
items and keeps holding them, so a new entry changes only the listing's first page (which shows
between ``per_page`` and ``2 * per_page - 1`` items). Page URLs stay permalinks and an
incremental build re-renders a handful of pages, not every page of every listing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Mapping, Sequence

from ..links import normalize_link
from ..models import Entry, FeedView, SiteData

OTHER = "other"
MAX_VERSIONS = 12  # versions listed under a story
TOP_STORIES = 8  # stories at the top of the front page
LATEST_PER_LANGUAGE = 8  # each language's latest items on the front page


def digest(*parts: object) -> str:
    """A short hash of ``parts`` (their ``str``), used as an input fingerprint."""
    text = "\x1f".join(p if isinstance(p, str) else str(p) for p in parts)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def entry_fingerprint(e: Entry, full_content: bool) -> str:
    """Everything about an entry that shows on a page (computed for every entry on every
    build, so it avoids the slow dataclass reprs)."""
    body = (e.content_html or e.summary_html) if full_content else e.summary_html
    segs = ";".join(f"{s.start},{s.end},{s.lang}" for s in e.segments) if e.segments else ""
    text = "\x1f".join((e.feed_id, e.guid, e.title, e.link or "", body, e.author or "",
                        e.published.isoformat(), e.lang, e.topic, "\x1e".join(e.categories),
                        segs, e.story or "", e.original_title or "", e.legacy_encoding or "",
                        "r" if e.romanized else "", e.image or ""))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Item:
    """One entry of a listing, or one story with its other versions."""

    entry: Entry
    versions: tuple[Entry, ...] = ()
    fp: str = ""


@dataclass(frozen=True)
class Page:
    """One HTML page, independent of the interface language."""

    path: str  # relative to the interface root: "index.html", "ta/page/3.html"
    template: str  # "index.html", "language.html"...
    kind: str  # index, language, topic, feed, day, archive, feeds, topics
    key: str = ""  # the language code, topic id, feed id or day the page is about
    items: tuple[Item, ...] = ()
    grouping: tuple[str, ...] = ()  # how items are grouped: date, topic, language
    newer: str | None = None  # path of the page with newer items
    older: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # page-specific template values
    extra_fp: str = ""  # fingerprint of ``extra``

    def fingerprint(self) -> str:
        return digest(self.path, self.template, self.kind, self.key, self.grouping, self.newer,
                      self.older, self.extra_fp, *(i.fp for i in self.items))


def local_day(e: Entry, tz: tzinfo) -> date:
    return e.published.astimezone(tz).date()


class Planner:
    """Turns ``SiteData`` into the list of pages; cheap enough to run on every build."""

    def __init__(self, data: SiteData, *, languages: Sequence[str], per_page: int, days: int,
                 full_content: bool, now: datetime, tz: tzinfo):
        self.data = data
        self.languages = tuple(languages)
        self.per_page = max(1, per_page)
        self.days = max(1, days)
        self.now = now
        self.tz = tz
        self.topic_ids = tuple(t.id for t in data.topics)
        known = set(self.topic_ids)
        self.entries = sorted(data.entries, key=lambda e: e.published, reverse=True)
        self.fp = {id(e): entry_fingerprint(e, full_content) for e in self.entries}
        self.day = {id(e): local_day(e, tz) for e in self.entries}
        self.topic = {id(e): (e.topic if e.topic in known else OTHER) for e in self.entries}
        stories: dict[str, list[Entry]] = defaultdict(list)
        for e in self.entries:
            if e.story:
                stories[e.story].append(e)
        self.stories = {k: v for k, v in stories.items() if len(v) > 1}
        self._lone = {id(e): Item(e, (), self.fp[id(e)]) for e in self.entries}
        self._story_items: dict[int, Item] = {}

    # -- items and pagination ----------------------------------------------------------------

    def items(self, entries: Sequence[Entry]) -> list[Item]:
        """Items of a listing (entries newest first): a story appears once, at its newest."""
        lone = self._lone
        if not self.stories:
            return [lone[id(e)] for e in entries]
        out: list[Item] = []
        seen: set[str] = set()
        for e in entries:
            members = self.stories.get(e.story) if e.story else None
            if members is None:
                out.append(lone[id(e)])
                continue
            if e.story in seen:
                continue
            seen.add(e.story)
            item = self._story_items.get(id(e))
            if item is None:
                versions = tuple(m for m in members if m is not e)[:MAX_VERSIONS]
                item = Item(e, versions, digest(self.fp[id(e)],
                                                *(self.fp[id(m)] for m in versions)))
                self._story_items[id(e)] = item
            out.append(item)
        return out

    def paginate(self, items: list[Item], first: str, stem: str, sep: str = "/",
                 **kw: Any) -> list[Page]:
        """Pages of one listing: ``first`` holds the newest items, ``{stem}page{sep}N.html`` the
        rest: ``ta/page/3.html``; ``archive/2024-06-03.page-2.html`` for the hundreds of days
        and feeds, so that they need no folder each (a folder costs more than its pages to
        make, and the whole site's folders are made again on every build)."""
        pp = self.per_page
        chunks = len(items) // pp
        if chunks <= 1:
            return [Page(path=first, items=tuple(items), **kw)]
        oldest_first = items[::-1]
        pages: list[Page] = []
        names = {k: f"{stem}page{sep}{k}.html" for k in range(1, chunks)}
        head = oldest_first[(chunks - 1) * pp:][::-1]
        pages.append(Page(path=first, items=tuple(head), older=names[chunks - 1], **kw))
        for k in range(chunks - 1, 0, -1):
            chunk = oldest_first[(k - 1) * pp: k * pp][::-1]
            newer = names[k + 1] if k + 1 < chunks else first
            older = names[k - 1] if k > 1 else None
            pages.append(Page(path=names[k], items=tuple(chunk), newer=newer, older=older, **kw))
        return pages

    # -- listings ----------------------------------------------------------------------------

    def window(self) -> list[Entry]:
        """Entries of the front page: the last ``days`` calendar days up to now.

        When nothing is that recent (an old offline capture), the latest ``days`` days that
        have entries, so the front page is never empty while entries exist.
        """
        today = self.now.astimezone(self.tz).date()
        start = today - timedelta(days=self.days - 1)
        recent = [e for e in self.entries if start <= self.day[id(e)] <= today]
        if recent or not self.entries:
            return recent
        days = sorted({self.day[id(e)] for e in self.entries}, reverse=True)[: self.days]
        keep = set(days)
        return [e for e in self.entries if self.day[id(e)] in keep]

    def by_day(self) -> dict[date, list[Entry]]:
        out: dict[date, list[Entry]] = defaultdict(list)
        for e in self.entries:
            out[self.day[id(e)]].append(e)
        return out

    def top_stories(self, window: Sequence[Entry]) -> list[Item]:
        """The stories of the window told by several sources or in several languages, each
        once with its versions: most languages first, then most sources, then the newest."""
        ranked = []
        for it in self.items(window):
            if not it.versions:
                continue
            members = self.stories[it.entry.story or ""]
            langs = {e.lang for e in members}
            feeds = {e.feed_id for e in members}
            if len(langs) > 1 or len(feeds) > 1:
                ranked.append(((len(langs), len(feeds), it.entry.published), it))
        ranked.sort(key=lambda r: r[0], reverse=True)
        return [it for _, it in ranked[:TOP_STORIES]]

    def front_page(self, by_lang: Mapping[str, list[Entry]]) -> Page:
        """The digest: the top stories, then each configured language's latest items, however
        old they are (a language whose feeds are slower is never pushed off the page)."""
        top = self.top_stories(self.window())
        shown = {id(e) for it in top for e in (it.entry, *it.versions)}
        sections = []
        for lang in self.languages:
            fresh = [e for e in by_lang.get(lang, ()) if id(e) not in shown]
            items = self.items(fresh[:LATEST_PER_LANGUAGE * (MAX_VERSIONS + 1)])[:LATEST_PER_LANGUAGE]
            # a story told in two languages shows once, in the first language's section
            shown.update(id(e) for it in items for e in (it.entry, *it.versions))
            sections.append((lang, tuple(items), len(by_lang.get(lang, ()))))
        everything = tuple(top) + tuple(it for _, items, _ in sections for it in items)
        extra = {"top": tuple(top), "latest": tuple(sections)}
        return Page(path="index.html", template="index.html", kind="index", items=everything,
                    extra=extra, extra_fp=digest(len(top), *((l, len(i), n) for l, i, n in sections)))

    def pages(self) -> list[Page]:
        pages: list[Page] = []
        by_lang: dict[str, list[Entry]] = defaultdict(list)
        by_topic: dict[str, list[Entry]] = defaultdict(list)
        topic = self.topic
        for e in self.entries:  # one pass, newest first within each list
            by_lang[e.lang].append(e)
            by_topic[topic[id(e)]].append(e)
        pages.append(self.front_page(by_lang))
        for lang in self.languages:
            pages += self.paginate(self.items(by_lang[lang]), f"{lang}/index.html", f"{lang}/",
                                   template="language.html", kind="language", key=lang,
                                   grouping=("date", "topic"))
        for tid in (*self.topic_ids, OTHER):
            pages += self.paginate(self.items(by_topic[tid]), f"topics/{tid}/index.html",
                                   f"topics/{tid}/", template="topic.html", kind="topic", key=tid,
                                   grouping=("date", "language"))
        topic_rows = tuple((tid, len(by_topic[tid])) for tid in (*self.topic_ids, OTHER))
        pages.append(Page(path="topics/index.html", template="topics.html", kind="topics",
                          extra={"topics": topic_rows}, extra_fp=digest(topic_rows)))
        by_feed: dict[str, list[Entry]] = defaultdict(list)
        for e in self.entries:
            by_feed[e.feed_id].append(e)
        for fv in self.data.feeds:
            fid = fv.source.id
            # only the feed's first page shows its health and count, which change every run
            fpages = self.paginate(self.items(by_feed[fid]), f"feeds/{fid}.html", f"feeds/{fid}.",
                                   "-",
                                   template="feed.html", kind="feed", key=fid, grouping=("date",),
                                   extra={"feed": fv, "count": None}, extra_fp=digest(fv.source))
            fpages[0] = replace(fpages[0], extra={"feed": fv, "count": len(by_feed[fid])},
                                extra_fp=digest(fv, len(by_feed[fid])))
            pages += fpages
        # (feed, entries, its newest entry's time): "Last update" is the feed's news, not our fetch
        feed_rows = tuple((fv, len(by_feed[fv.source.id]),
                           by_feed[fv.source.id][0].published if by_feed[fv.source.id] else None)
                          for fv in self.data.feeds)
        pages.append(Page(path="feeds.html", template="feeds.html", kind="feeds",
                          extra={"feeds": feed_rows}, extra_fp=digest(feed_rows)))
        days = self.by_day()
        ordered = sorted(days)
        for i, d in enumerate(ordered):
            prev_day = ordered[i - 1] if i > 0 else None
            next_day = ordered[i + 1] if i + 1 < len(ordered) else None
            extra = {"day": d, "prev_day": prev_day, "next_day": next_day}
            pages += self.paginate(self.items(days[d]), f"archive/{d.isoformat()}.html",
                                   f"archive/{d.isoformat()}.", "-", template="day.html", kind="day",
                                   key=d.isoformat(), grouping=("topic", "language"),
                                   extra=extra, extra_fp=digest(prev_day, next_day))
        search_topics = (*self.topic_ids, OTHER)
        pages.append(Page(path="search.html", template="search.html", kind="search",
                          extra={"topics": search_topics}, extra_fp=digest(search_topics)))
        day_rows = tuple((d, len(days[d])) for d in reversed(ordered))
        pages.append(Page(path="archive/index.html", template="archive.html", kind="archive",
                          extra={"days": day_rows}, extra_fp=digest(day_rows)))
        return pages


def feed_entries(planner: Planner, lang: str | None, limit: int) -> list[Entry]:
    """Entries for atom.xml / feed.json: the front page's, newest first, capped. An article
    several feeds carry (same story, same link) is one item, its newest copy: a feed reader
    would show it once per feed otherwise. Other versions of a story (other links, other
    languages) stay items of their own, each with its ``_aggregator.story``."""
    es = planner.window() if lang is None else [e for e in planner.entries if e.lang == lang]
    out: list[Entry] = []
    seen: set[tuple[str, str]] = set()
    for e in es:
        key = normalize_link(e.link) if e.story else None
        if key is not None:
            if (e.story, key) in seen:
                continue
            seen.add((e.story, key))
        out.append(e)
        if len(out) == limit:
            break
    return out


def feed_view_language(fv: FeedView) -> str | None:
    return (fv.state.language if fv.state and fv.state.language else None) or fv.source.language
