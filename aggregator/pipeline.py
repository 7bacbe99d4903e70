"""The one place that knows the order of the stages.

``update`` runs fetch -> parse -> language -> topics -> store for the feeds
that are due; ``build_site`` reads the store and renders. One feed's failure
becomes that feed's state (shown by ``aggregator status`` and on feeds.html),
never the run's. The clock and the HTTP transport are injected.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence

from . import fetch, parse, sanitize, schedule
from .config import Config
from .errors import AggregatorError, ParseError, RenderError
from .models import (Entry, FeedSource, FeedState, FeedView, FetchResult, ParsedEntry, ParsedFeed,
                     RunSummary, SiteData)
from .store import Store

log = logging.getLogger("aggregator")

# Entries dated further in the future than this are clamped to the time we saw them.
_FUTURE_SLACK = timedelta(hours=26)
# How far back stories are looked for when a new entry arrives.
STORY_WINDOW = timedelta(days=3)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class FeedOutcome:
    """What happened to one feed in a run (for progress output)."""

    source: FeedSource
    status: str  # "ok", "not-modified", "failed", "skipped"
    new_entries: int = 0
    error: str | None = None


def update(config: Config, store: Store, *, now: datetime | None = None, transport=None,
           force: bool = False, feed_ids: Sequence[str] | None = None,
           on_feed: Callable[[FeedOutcome], None] | None = None) -> tuple[RunSummary, bool]:
    """Fetch the due feeds and store what is new.

    Returns the run summary and whether anything the site shows changed.
    """
    now = now or utcnow()
    states = store.feed_states()
    sources = [f for f in config.feeds if feed_ids is None or f.id in feed_ids]
    due = [f for f in sources if force or schedule.is_due(f, states.get(f.id), now)]
    skipped = len(sources) - len(due)
    by_id = {f.id: f for f in due}
    requests = [schedule.request_for(f, states.get(f.id)) for f in due]
    results = fetch.fetch_feeds(requests, config.fetch, transport=transport, clock=lambda: now)

    ok = not_modified = failed = new_total = 0
    failures: list[tuple[str, str]] = []
    changed = False
    new_ids: list[int] = []
    for result in results:
        source = by_id[result.feed_id]
        prev = states.get(source.id)
        outcome, state, ids, updated = _one_feed(config, store, source, prev, result, now)
        new_ids.extend(ids)
        new_total += len(ids)
        changed = changed or bool(ids or updated) or _health(prev) != _health(state)
        if outcome.status == "ok":
            ok += 1
        elif outcome.status == "not-modified":
            not_modified += 1
        else:
            failed += 1
            failures.append((source.id, outcome.error or "failed"))
        if on_feed:
            on_feed(outcome)
    if new_ids:
        _assign_stories(store, new_ids, now)
    summary = RunSummary(feeds_ok=ok, feeds_not_modified=not_modified, feeds_failed=failed,
                         feeds_skipped=skipped, new_entries=new_total, failures=tuple(failures))
    return summary, changed


def _one_feed(config: Config, store: Store, source: FeedSource, prev: FeedState | None,
              result: FetchResult, now: datetime):
    """Parse and store one feed's result; every failure ends up in its state."""
    parsed: ParsedFeed | None = None
    ids: list[int] = []
    updated: list[int] = []
    if result.ok and result.content is not None:
        try:
            parsed = parse.parse_feed(result.content, result.headers, result.final_url or result.url)
            if parsed.warning:
                log.info("%s: malformed feed, kept what could be read (%s)", source.id, parsed.warning)
            items = _entries(config, store, source, parsed, now)
            ids, updated = store.upsert_entries(items, now)
        except ParseError as e:
            result = replace(result, error=f"not a readable feed: {e}", content=None)
        except AggregatorError as e:
            result = replace(result, error=str(e), content=None)
    counts = store.entry_counts()
    lang = _main_language(store, source.id) if (ids or updated) else (prev.language if prev else None)
    state = schedule.next_state(
        prev, source, result, now, interval=config.schedule.interval or 1800.0,
        settings=config.fetch, entry_count=counts.get(source.id, 0),
        title=parsed.title if parsed else None, site_link=parsed.link if parsed else None,
        language=lang)
    store.save_states([state])
    if result.error:
        log.debug("%s: %s", source.id, result.error)  # the CLI reports failures
        return FeedOutcome(source, "failed", error=result.error), state, ids, updated
    status = "not-modified" if result.not_modified else "ok"
    return FeedOutcome(source, status, new_entries=len(ids)), state, ids, updated


def _health(state: FeedState | None) -> tuple:
    if state is None:
        return ()
    return (state.gone, state.failures > 0, state.last_error, state.moved_to, state.title)


def _main_language(store: Store, feed_id: str) -> str | None:
    rows = store.db.execute("SELECT lang, COUNT(*) FROM entries WHERE feed_id = ? "
                            "GROUP BY lang ORDER BY 2 DESC LIMIT 1", (feed_id,)).fetchone()
    return rows[0] if rows else None


def _entries(config: Config, store: Store, source: FeedSource, parsed: ParsedFeed,
             now: datetime) -> list[tuple[Entry, str, bytes | None]]:
    """Turn the parsed entries that are new or changed into stored entries."""
    known = store.known_hashes(source.id)
    elsewhere = store.links_elsewhere(source.id, (e.link for e in parsed.entries))
    from .store import link_key
    out = []
    seen: set[str] = set()
    for pe in parsed.entries:
        chash = content_hash(pe)
        if pe.guid in seen or known.get(pe.guid) == chash:
            continue
        seen.add(pe.guid)
        if pe.guid not in known and pe.link and link_key(pe.link) in elsewhere:
            continue  # the same article, already stored from another feed
        try:
            out.append(enrich(config, source, parsed, pe, now) + (chash,))
        except Exception as e:  # a bad entry is skipped with a warning, never the feed
            log.warning("%s: skipped entry %r: %s", source.id, pe.guid[:80], e)
    return [(entry, chash, features) for entry, features, chash in out]


def content_hash(pe: ParsedEntry) -> str:
    h = hashlib.sha256()
    for part in (pe.title, pe.link or "", pe.summary, pe.content, "\x1f".join(pe.categories)):
        h.update(part.encode("utf-8", "replace"))
        h.update(b"\x1e")
    return h.hexdigest()[:32]


def enrich(config: Config, source: FeedSource, parsed: ParsedFeed, pe: ParsedEntry,
           now: datetime) -> tuple[Entry, bytes | None]:
    """Detect, classify and sanitise one entry (pure apart from the clock)."""
    from . import language, topics

    body = pe.content or pe.summary
    text = sanitize.html_to_text(body)
    hint = source.language or language.normalize_tag(pe.language or parsed.language or "")
    title_det = language.detect(pe.title, hint=hint) if pe.title else None
    det = language.detect(f"{pe.title}\n\n{text[:3000]}", hint=hint)
    if det.lang == "und" and title_det is not None:
        det = title_det
    elif (title_det is not None and det.segments and title_det.lang != det.lang
          and title_det.confidence >= 0.7 and title_det.lang in {s.lang for s in det.segments}):
        # a mixed-language entry (English report, then Tamil and Sinhala commentary) is in the
        # language of its headline; its segments keep their own languages
        det = replace(det, lang=title_det.lang, script=title_det.script, romanized=title_det.romanized,
                      confidence=min(det.confidence, title_det.confidence))
    title = pe.title
    original_title = None
    if title_det is not None and title_det.legacy_encoding:
        title, original_title = title_det.text, pe.title
    if not title:
        title = _fallback_title(text)
    lang = det.lang

    def lang_of(block: str) -> str | None:
        d = language.detect(block)
        return d.lang if d.confidence >= 0.6 and d.lang != "und" else None

    full = sanitize.sanitize_html(body, pe.base) if body else ""
    content_html = sanitize.annotate_blocks(full, lang_of, lang) if full else ""
    summary_src = sanitize.sanitize_html(pe.summary, pe.base) if pe.summary else full
    summary_html = sanitize.excerpt_html(summary_src, config.site.excerpt_chars) if summary_src else ""
    if summary_html:
        summary_html = sanitize.annotate_blocks(summary_html, lang_of, lang)
    topic = topics.assign_topic(title, text, lang, topics=config.topics, feed_topics=source.topics,
                                categories=pe.categories)
    published = pe.published or now
    if published > now + _FUTURE_SLACK:
        published = now
    entry = Entry(feed_id=source.id, guid=pe.guid, title=title, link=pe.link,
                  summary_html=summary_html, content_html=content_html, author=pe.author,
                  published=published, lang=lang, lang_confidence=det.confidence,
                  topic=topic.topic, topic_confidence=topic.confidence, topic_why=topic.why,
                  categories=pe.categories, romanized=det.romanized,
                  legacy_encoding=det.legacy_encoding, original_title=original_title,
                  segments=det.segments)
    features = topics.story_key_features(title, text, lang, pe.link)
    return entry, features


def _fallback_title(text: str) -> str:
    words = text.split()
    title = ""
    for w in words:
        if len(title) + len(w) > 70:
            return title + "…"
        title = f"{title} {w}".strip()
    return title or "(untitled)"


def _assign_stories(store: Store, new_ids: list[int], now: datetime) -> None:
    from .topics import StoryItem, assign_stories

    # the window follows the new entries' own dates, so a backfill of old entries is grouped too
    oldest = store.oldest_published_since_id(min(new_ids)) or now
    rows = store.story_rows(min(oldest, now) - STORY_WINDOW - timedelta(days=30))
    wanted = set(new_ids)
    new, recent = [], []
    for rid, lang, link, published, features, story in rows:
        item = StoryItem(key=rid, lang=lang, link=link, published=published,
                         features=features or b"", story=story)
        (new if rid in wanted else recent).append(item)
    stories = assign_stories(new, recent)
    if stories:
        store.set_stories(stories)


def site_data(config: Config, store: Store, now: datetime) -> SiteData:
    """Everything the renderer shows, read from the store."""
    states = store.feed_states()
    feeds = tuple(FeedView(source=f, state=states.get(f.id)) for f in config.feeds)
    known = {f.id for f in config.feeds}
    entries = tuple(e for e in store.entries() if e.feed_id in known)
    return SiteData(entries=entries, feeds=feeds, topics=config.topics, generated_at=now)


def build_site(config: Config, store: Store, *, now: datetime | None = None):
    """Render the whole site from the store into ``config.site.output``."""
    from . import opml, render

    now = now or utcnow()
    data = site_data(config, store, now)
    extra = {"opml.xml": opml.to_opml(data.feeds, config.site.title, now)}
    try:
        return render.build_site(data, config.site, now=now, extra_files=extra)
    except OSError as e:
        raise RenderError(f"{config.site.output}: cannot write the site: {e}") from e
