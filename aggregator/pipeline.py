"""The one place that knows the order of the stages.

``update`` runs fetch -> parse -> language -> topics -> store for the feeds
that are due; ``build_site`` reads the store and renders. One feed's failure
becomes that feed's state (shown by ``aggregator status`` and on feeds.html),
never the run's. The clock and the HTTP transport are injected.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence

from . import refile
from .sources import fetch, parse, schedule
from .config import Config
from .enrich import content_hash, enrich_all
from .errors import AggregatorError, ParseError, RenderError
from .models import (Entry, FeedSource, FeedState, FeedView, FetchResult, ParsedEntry, ParsedFeed,
                     RunSummary, SiteData)
from .claims import Claims
from .store import Store, exclusive

log = logging.getLogger("aggregator")

# How far back stories are looked for when a new entry arrives.
STORY_WINDOW = timedelta(days=3)
# New entries grouped into stories at a time (bounds the memory of a large first run).
STORY_SLICE = 2000


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class FeedOutcome:
    """What happened to one feed in a run (for progress output)."""

    source: FeedSource
    status: str  # "ok", "not-modified", "failed", "skipped"
    new_entries: int = 0
    error: str | None = None


# Downloaded feeds allowed to wait for parsing; more holds back further downloads (memory).
MAX_BACKLOG = 32
# Below this many feeds, a worker process costs more to start than it saves.
POOL_MIN_FEEDS = 16
POOL_TWO_FEEDS = 64


def default_workers(feeds: int, cpus: int | None = None) -> int:
    """Processes to parse and enrich ``feeds`` due feeds in: 0 means in this process.

    From POOL_MIN_FEEDS feeds, one worker: the language and topic models (about 100 MB once
    warm) then live in a process that ends before the site is rendered, and parsing overlaps
    downloading and storing. From POOL_TWO_FEEDS feeds on a machine with two or more cores, two
    (at 1,000 feeds: update 46-58 s instead of about 100 s, peak memory of all processes
    275-294 MB).
    More would hold more copies of the models for little gain while this process stores and
    downloads, so more are used only when asked for (``update(workers=N)``).
    """
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    if feeds < POOL_MIN_FEEDS:
        return 0
    return 2 if feeds >= POOL_TWO_FEEDS and cpus >= 2 else 1


def update(config: Config, store: Store, *, now: datetime | None = None, transport=None,
           force: bool = False, feed_ids: Sequence[str] | None = None,
           on_feed: Callable[[FeedOutcome], None] | None = None,
           workers: int | None = None,
           on_refresh: Callable[[int, int], None] | None = None,
           on_stage: Callable[[str], None] | None = None) -> tuple[RunSummary, bool]:
    """Fetch the due feeds and store what is new.

    Feeds are parsed and stored as their downloads complete, while others still download.
    Parsing and enrichment (CPU-bound) run in ``workers`` processes (None: ``default_workers``;
    0: in this process); everything that touches the store stays here.
    ``on_refresh(done, total)``: progress of the stored entries embedded again first, once after
    an upgrade (``refile.refresh_embeddings``). ``on_stage(what)`` is told each stage as it
    begins ("fetching 1,000 feeds", "grouping 5,000 new entries into stories").
    Returns the run summary and whether anything the site shows changed.
    """
    now = now or utcnow()
    stage = on_stage or (lambda what: None)
    stage("checking the topics of stored entries")
    with exclusive(store, "topics"):  # where runs share the store, one files entries again
        refiled = refile.refile_topics(config, store, on_refresh=on_refresh)
    since = store.clock()  # this run's cycle: a feed another run finishes after it is not due
    states = store.feed_states()
    sources = [f for f in config.feeds if feed_ids is None or f.id in feed_ids]
    due = [f for f in sources if schedule.is_due(f, states.get(f.id), now, force=force)]
    skipped = len(sources) - len(due)
    by_id = {f.id: f for f in due}
    run = _Run(config, store, states, now, on_feed)
    claims = Claims(config, store, due, now, force, since)
    stage(f"fetching {len(due):,} feeds")
    if workers is None:
        workers = default_workers(len(due))
    events: queue.Queue = queue.Queue()
    batches: queue.Queue = queue.Queue()  # the requests of each claimed batch; None: no more
    # downloads delivered (only the fetch thread writes it), feeds finished (only we write it),
    # and whether we stopped early (an error here: let the downloads run out unheld)
    counts = [0, 0, False]

    def delivered(result: FetchResult) -> None:
        counts[0] += 1
        events.put(("fetched", result, None))

    def download() -> None:
        try:
            while (batch := batches.get()) is not None:
                fetch.fetch_feeds(batch, config.fetch, transport=transport, clock=lambda: now,
                                  on_result=delivered, keep_content=False,
                                  room=lambda: counts[2] or counts[0] - counts[1] < MAX_BACKLOG)
        except BaseException as e:  # fetch_feeds never raises; if it does, the run must end
            events.put(("crashed", None, e))

    downloader = threading.Thread(target=download, name="aggregator-fetch", daemon=True)
    try:
        with _Workers(config, now, workers, events) as pool:
            downloader.start()
            left = claims.next(batches, run.states)
            while left:
                try:
                    kind, result, payload = events.get(timeout=claims.renew_every)
                except queue.Empty:  # downloads slower than a third of the lease
                    claims.renew()
                    continue
                if kind == "crashed":
                    raise payload
                source = by_id[result.feed_id]
                if kind == "fetched" and result.ok and result.content is not None:
                    # the feed's stored guids and content hashes: the parser skips unchanged
                    # entries by them
                    pool.submit(source, result, store.known_hashes(source.id))
                    continue
                run.finish(source, result, payload)
                claims.done(source.id)
                counts[1] += 1
                left -= 1
                if not left:
                    left = claims.next(batches, run.states)
    finally:
        counts[2] = True
        batches.put(None)
        claims.give_back()  # an error ended the run: the feeds it held are free at once
    if downloader.ident is not None:
        downloader.join()
    grouped = group_stories(store, now, stage)
    if grouped > len(run.new_ids):  # entries a killed or failed run stored and did not group
        log.info("grouped %d stored entries an interrupted run had left ungrouped",
                 grouped - len(run.new_ids))
    pruned = prune(config, store, now)
    summary = RunSummary(feeds_ok=run.ok, feeds_not_modified=run.not_modified,
                         feeds_failed=run.failed, feeds_skipped=skipped,
                         feeds_elsewhere=len(claims.elsewhere),
                         new_entries=len(run.new_ids), failures=tuple(run.failures),
                         pruned_entries=pruned)
    return summary, run.changed or bool(refiled) or bool(pruned) or store.site_stale()


def prune(config: Config, store: Store, now: datetime) -> int:
    """Retention: delete the entries published more than ``storage.keep_days`` days ago
    (nothing when it is 0); the site built after it lists none of them. Returns how many."""
    cutoff = retention_cutoff(config, now)
    if cutoff is None:
        return 0
    n = store.prune_entries(cutoff)
    if n:
        log.info("retention: deleted %d entries published more than %d days ago", n,
                 config.storage.keep_days)
    return n


def retention_cutoff(config: Config, now: datetime) -> datetime | None:
    """Entries published before this are pruned (None: all are kept)."""
    days = config.storage.keep_days
    return now - timedelta(days=days) if days else None


@dataclass(frozen=True)
class FeedWork:
    """One downloaded feed, parsed and enriched (crosses the process boundary)."""

    title: str | None = None  # the feed's own title
    link: str | None = None  # the feed's home page
    warning: str | None = None  # the document was malformed but partly readable
    items: tuple[tuple[Entry, str, bytes | None], ...] = ()  # (entry, content hash, features)
    error: str | None = None  # nothing could be read
    error_kind: str | None = None  # its kind (models.ERROR_KINDS)
    skipped: tuple[str, ...] = ()  # why entries were skipped (logged by the main process)


def parse_and_enrich(config: Config, source: FeedSource, content: bytes, headers, url: str,
                     known: dict[str, str], now: datetime) -> FeedWork:
    """Parse one document and enrich the entries that are new or changed (pure, CPU-bound).

    ``known`` maps the guids already stored for the feed to their content hashes.
    """
    try:
        parsed = parse.parse_feed(content, headers, url, now=now)
    except ParseError as e:
        return FeedWork(error=f"not a readable feed: {e}", error_kind="not-a-feed")
    except AggregatorError as e:
        return FeedWork(error=str(e), error_kind="other")
    skipped: list[str] = []
    items = _entries(config, source, parsed, known, now, skipped)
    return FeedWork(title=parsed.title, link=parsed.link, warning=parsed.warning, items=tuple(items),
                    skipped=tuple(skipped))


class _Workers:
    """Runs ``parse_and_enrich`` in this process (``n == 0``) or in a pool of ``n`` processes.

    Each finished feed is put on ``events`` as ("parsed", result without its body, FeedWork).
    A pool that breaks (a worker killed) is given up and the feeds are done here instead.
    """

    def __init__(self, config: Config, now: datetime, n: int, events: queue.Queue):
        self.config, self.now, self.events = config, now, events
        self.pool = None
        if n > 0:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn: the downloads run in a thread, and forking a threaded process can deadlock
            self.pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_worker_init, initargs=(config, os.getpid()))

    def __enter__(self) -> "_Workers":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _here(self, source: FeedSource, result: FetchResult, known: dict[str, str]) -> FeedWork:
        return parse_and_enrich(self.config, source, result.content or b"", result.headers,
                                result.final_url or result.url, known, self.now)

    def submit(self, source: FeedSource, result: FetchResult, known: dict[str, str]) -> None:
        bare = replace(result, content=b"")  # still a successful download, without its body
        if self.pool is None:
            self.events.put(("parsed", bare, self._here(source, result, known)))
            return
        try:
            fut = self.pool.submit(_worker_run, source, result.content, dict(result.headers),
                                   result.final_url or result.url, known, self.now)
        except Exception:  # the pool is broken or shut down
            self.pool = None
            self.events.put(("parsed", bare, self._here(source, result, known)))
            return

        def done(f) -> None:
            if f.cancelled():  # the run is ending on an error: nothing waits for this feed
                return
            try:
                work = f.result()
            except BaseException as e:  # a worker died, or an unexpected error in one feed
                log.warning("%s: parsing in a worker failed (%s: %s); parsing here",
                            source.id, type(e).__name__, e)
                try:
                    work = self._here(source, result, known)
                except Exception as e2:
                    work = FeedWork(error=f"unexpected error: {type(e2).__name__}: {e2}",
                                    error_kind="other")
            self.events.put(("parsed", bare, work))

        fut.add_done_callback(done)


_worker_config: Config | None = None  # set once in each worker process


def _worker_init(config: Config, parent: int) -> None:
    global _worker_config
    _worker_config = config
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True,
                     name="aggregator-orphan-check").start()


def _exit_with_parent(parent: int) -> None:
    """A worker whose run was killed (kill -9, the OOM killer, a service manager's timeout) ends
    too: left alone it would wait on its queue for ever, holding the models' memory."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _worker_run(source: FeedSource, content: bytes, headers, url: str, known: dict[str, str],
                now: datetime) -> FeedWork:
    assert _worker_config is not None
    return parse_and_enrich(_worker_config, source, content, headers, url, known, now)


class _Run:
    """Stores each finished feed, saves its state and keeps the run's tallies."""

    def __init__(self, config: Config, store: Store, states: dict[str, FeedState], now: datetime,
                 on_feed: Callable[[FeedOutcome], None] | None):
        self.config, self.store, self.states, self.now, self.on_feed = config, store, states, now, on_feed
        self.ok = self.not_modified = self.failed = 0
        self.failures: list[tuple[str, str]] = []
        self.new_ids: list[int] = []
        self.changed = False

    def finish(self, source: FeedSource, result: FetchResult, work: FeedWork | None) -> None:
        prev = self.states.get(source.id)
        outcome, state, ids, updated = _one_feed(self.config, self.store, source, prev, result,
                                                 work, self.now)
        self.new_ids.extend(ids)
        self.changed = self.changed or bool(ids or updated) or _health(prev) != _health(state)
        if outcome.status == "ok":
            self.ok += 1
        elif outcome.status == "not-modified":
            self.not_modified += 1
        else:
            self.failed += 1
            self.failures.append((source.id, outcome.error or "failed"))
        if self.on_feed:
            self.on_feed(outcome)


def _one_feed(config: Config, store: Store, source: FeedSource, prev: FeedState | None,
              result: FetchResult, work: FeedWork | None, now: datetime):
    """Store one feed's parsed entries; every failure ends up in its state."""
    ids: list[int] = []
    updated: list[int] = []
    if work is not None and work.error:
        result = replace(result, error=work.error, error_kind=work.error_kind)
    elif work is not None:
        for note in work.skipped:  # a bad entry is skipped with a warning, never the feed
            log.warning("%s: %s", source.id, note)
        if work.warning:
            log.info("%s: malformed feed, kept what could be read (%s)", source.id, work.warning)
        try:
            if work.items:  # before they are stored: a run killed after it still builds
                store.mark_site_stale()
            # An article another feed also carries is stored for this feed too: both are kept,
            # and story grouping (same link) shows it once, with this feed among its versions.
            ids, updated = store.upsert_entries(work.items, now)
        except AggregatorError as e:
            result = replace(result, error=str(e), error_kind="store")
    count = store.feed_entry_count(source.id) if (ids or prev is None) else prev.entry_count
    lang = store.main_language(source.id) if (ids or updated) else (prev.language if prev else None)
    state = schedule.next_state(
        prev, source, result, now, interval=config.schedule.interval or 1800.0,
        settings=config.fetch, entry_count=count,
        title=work.title if work else None, site_link=work.link if work else None,
        language=lang, jitter=config.schedule.jitter)
    if _health(prev) != _health(state):
        store.mark_site_stale()
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


def _entries(config: Config, source: FeedSource, parsed: ParsedFeed, known: dict[str, str],
             now: datetime, skipped: list[str]) -> list[tuple[Entry, str, bytes | None]]:
    """Turn the parsed entries that are new or changed into stored entries."""
    todo: list[ParsedEntry] = []
    hashes: dict[str, str] = {}
    # retention: an entry older than storage.keep_days is not stored (it would be deleted again
    # at the end of the run, and come back as new on every run while its feed still lists it)
    cutoff = retention_cutoff(config, now)
    for pe in parsed.entries:
        if cutoff is not None and pe.published is not None and pe.published < cutoff:
            continue
        chash = content_hash(pe)
        if pe.guid in hashes or known.get(pe.guid) == chash:
            continue
        hashes[pe.guid] = chash
        todo.append(pe)

    def on_error(pe: ParsedEntry, e: Exception) -> None:  # a bad entry is skipped, never the feed
        skipped.append(f"skipped entry {pe.guid[:80]!r}: {type(e).__name__}: {e}")

    return [(entry, hashes[pe.guid], features)
            for pe, entry, features in enrich_all(config, source, parsed, todo, now, on_error)]


def group_stories(store: Store, now: datetime,
                  stage: Callable[[str], None] | None = None) -> int:
    """Group the entries story grouping has not seen yet; where several runs share the store,
    one at a time (the others wait: each groups what the one before left). Returns how many."""
    with exclusive(store, "stories"):
        return _assign_stories(store, now, stage or (lambda what: None))


def _assign_stories(store: Store, now: datetime, stage: Callable[[str], None]) -> int:
    """Group the entries story grouping has not seen yet (this run's, and those a killed run
    stored) with each other and with the stories of the window; returns how many."""
    from .topics.stories import StoryItem, assign_stories, story_id, term_counts

    oldest = store.oldest_ungrouped()
    if oldest is None:
        return 0
    # the window follows the new entries' own dates, so a backfill of old entries is grouped too
    rows = store.story_rows(min(oldest, now) - STORY_WINDOW - timedelta(days=30))
    new: list[StoryItem] = []
    recent: dict[int, StoryItem] = {}
    for r in rows:
        item = StoryItem(key=r.id, lang=r.lang, link=r.link, published=r.published,
                         features=r.features or b"", story=r.story,
                         own_story=story_id(r.feed_id, r.guid))
        if not r.grouped:
            new.append(item)
        else:
            recent[r.id] = item
    del rows
    stage(f"grouping {len(new):,} new entries into stories")
    # A first run over many feeds brings tens of thousands of entries: group them in time order,
    # a slice at a time, as a series of ordinary runs would (each slice sees the stories of the
    # ones before it), so the memory of grouping is that of one slice and its window.
    # Words are weighed by their frequency over everything loaded, the same for every slice.
    corpus = term_counts([*new, *recent.values()])
    new.sort(key=lambda i: (i.published, i.key))
    for start in range(0, len(new), STORY_SLICE):
        part = new[start:start + STORY_SLICE]
        stories = assign_stories(part, list(recent.values()), corpus=corpus)
        store.set_stories(stories, grouped=[item.key for item in part])
        for key, sid in stories.items():
            if key in recent:
                recent[key] = replace(recent[key], story=sid)
        for item in part:
            recent[item.key] = replace(item, story=stories.get(item.key))
    return len(new)


def site_data(config: Config, store: Store, now: datetime) -> SiteData:
    """Everything the renderer shows, read from the store."""
    states = store.feed_states()
    feeds = tuple(FeedView(source=f, state=states.get(f.id)) for f in config.feeds)
    known = {f.id for f in config.feeds}
    # Pages show excerpts unless site.full_content: the full HTML (most of the bytes) stays in
    # the store and is read only for the entries of atom.xml / feed.json.
    full = config.site.full_content
    entries = tuple(e for e in store.entries(content=full) if e.feed_id in known)
    # a story is filed under one topic, though its versions may have got different ones
    from .topics import story_topics

    story_topic = story_topics(entries, {t.id for t in config.topics})
    if story_topic:
        entries = tuple(replace(e, topic=story_topic[e.story])
                        if e.story in story_topic and e.topic != story_topic[e.story] else e
                        for e in entries)
    return SiteData(entries=entries, feeds=feeds, topics=config.topics, generated_at=now,
                    load_content=None if full else store.contents)


def build_site(config: Config, store: Store, *, now: datetime | None = None,
               on_stage: Callable[[str], None] | None = None):
    """Render the whole site from the store into ``config.site.output``."""
    from . import render
    from .sources import opml

    now = now or utcnow()
    if on_stage:
        on_stage("rendering the site")
    generation = store.site_generation()  # what this build shows (set_site_built when it is out)
    data = site_data(config, store, now)
    extra = {"opml.xml": opml.to_opml(data.feeds, config.site.title, now)}
    try:
        # the archive pages of pruned days stay published when storage.keep_archive says so
        cutoff = retention_cutoff(config, now) if config.storage.keep_archive else None
        result = render.build_site(data, config.site, now=now, extra_files=extra,
                                   keep_archive_before=cutoff)
    except OSError as e:
        raise RenderError(f"{config.site.output}: cannot write the site: {e}") from e
    store.set_meta(SITE_INPUTS, site_inputs(config))
    store.set_site_built(generation)
    return result


SITE_INPUTS = "site_inputs"  # the store's meta key for the last build's site_inputs()


def site_inputs(config: Config) -> str:
    """A fingerprint of what the site is made of besides the entries and the feeds' health:
    the templates and rendering code, the site settings, the topics and the feeds' names."""
    from .render import code_fingerprint
    from .render.plan import digest

    feeds = [(f.id, f.name, f.url, f.language, f.topics) for f in config.feeds]
    return digest(code_fingerprint(), repr(config.site), repr(config.topics), repr(feeds))


def site_outdated(config: Config, store: Store) -> bool:
    """Whether the last build used other templates, code or settings than these (an upgrade, a
    renamed topic, a new site title): then a run renders even when no feed brought news."""
    return store.get_meta(SITE_INPUTS) != site_inputs(config)
