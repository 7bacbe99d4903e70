"""What both SQL backends do alike: every query of the store, written once.

``SQLStore`` holds the queries (``?`` placeholders; a backend translates them) and the row <->
model conversions; ``sqlite.SQLiteStore`` and ``postgres.PostgresStore`` bring the connection,
their transactions, their locks and the wording of their errors. See ``aggregator.store`` for
what each method promises (the ``Store`` protocol).

An entry is stored once per feed: the same feed and guid is the same entry (updated in place
when its content changed); an article that two feeds carry is stored for each, and story
grouping shows it once. Nothing is ever deleted by a failed fetch: feed state and entries are
separate tables. Work a killed run leaves undone is recorded, not guessed: an entry is stored
ungrouped (``grouped = 0``) until story grouping has seen it, and the site is marked stale
(meta) before anything it shows is written, until a build succeeds.
"""

from __future__ import annotations

import functools
import json
from contextlib import AbstractContextManager
from dataclasses import fields
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from ..errors import StoreError
from ..models import (Claim, Entry, EntryText, FeedState, Segment, StoreCounts, StoredEntry,
                      StoryRow, TopicRow)

ENTRY_COLS = ("feed_id", "guid", "link", "title", "original_title", "summary_html",
              "content_html", "author", "published", "first_seen", "lang", "lang_confidence",
              "romanized", "legacy_encoding", "segments", "topic", "topic_confidence",
              "topic_why", "categories", "story", "features", "content_hash", "image")
STATE_COLS = tuple(f.name for f in fields(FeedState) if f.name != "entry_count")
_TIME_STATE = {"last_attempt", "last_success", "next_due", "hold_until"}
_READ_COLS = ("id, feed_id, guid, link, title, original_title, summary_html, {content}, author, "
              "published, lang, lang_confidence, romanized, legacy_encoding, segments, topic, "
              "topic_confidence, topic_why, categories, story, image")
CHUNK = 500  # ids per "IN (...)" and rows per read of a long query
T = TypeVar("T")


def iso(dt: datetime | None) -> str | None:
    """A time as stored: ISO-8601 text in UTC."""
    return dt.astimezone(timezone.utc).isoformat() if dt else None


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _marks(n: int) -> str:
    return ", ".join("?" for _ in range(n))


class Tx:
    """One connection inside a transaction (or a read), with ``?`` placeholders."""

    def __init__(self, conn: Any, translate: Callable[[str], str]):
        self.conn, self._q = conn, translate

    def __call__(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """Run one statement; returns the cursor (fetchone, fetchall, iteration)."""
        return self.conn.execute(self._q(sql), tuple(args))

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(r) for r in rows]
        if rows:
            self.conn.cursor().executemany(self._q(sql), rows)


def guarded(what: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """A driver's errors in a store method become one ``StoreError`` line (the backend's
    ``explain``)."""
    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def method(self: "SQLStore", *args: Any, **kwargs: Any) -> T:
            try:
                return fn(self, *args, **kwargs)
            except self.driver_errors as e:
                raise StoreError(self.explain(what, e)) from e
        return method
    return wrap


def guarded_iter(what: str) -> Callable[[Callable[..., Iterator[T]]], Callable[..., Iterator[T]]]:
    """``guarded`` for the methods that read a few hundred rows at a time."""
    def wrap(fn: Callable[..., Iterator[T]]) -> Callable[..., Iterator[T]]:
        @functools.wraps(fn)
        def method(self: "SQLStore", *args: Any, **kwargs: Any) -> Iterator[T]:
            try:
                yield from fn(self, *args, **kwargs)
            except self.driver_errors as e:
                raise StoreError(self.explain(what, e)) from e
        return method
    return wrap


class SQLStore:
    """The queries; a backend subclass provides the members marked "backend"."""

    where: str  # backend: the store as messages name it (a path, a URL without its password)
    shares_feeds: bool  # backend: several runs may fetch into this store at once
    driver_errors: tuple[type[BaseException], ...] = ()  # backend: the driver's error classes
    LOCK_ROWS = ""  # backend: what locks the selected rows of a claim (PostgreSQL)

    # -- backend ----------------------------------------------------------------------------

    def explain(self, what: str, e: BaseException) -> str:
        return f"{self.where}: cannot {what}: {e}"

    def tx(self) -> AbstractContextManager[Tx]:
        """A transaction, committed when the block ends (rolled back on an error)."""
        raise NotImplementedError

    def claiming(self) -> AbstractContextManager[Tx]:
        """The transaction of a claim: no other claim sees the rows it selected."""
        raise NotImplementedError

    def stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple]:
        """The rows of a long query, read ``CHUNK`` at a time."""
        raise NotImplementedError

    def clock(self) -> datetime:
        """The store's clock (``Store.clock``)."""
        return datetime.now(timezone.utc)

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- small facts about the store's use (key -> text) -----------------------------------

    @guarded("read the store")
    def get_meta(self, key: str) -> str | None:
        with self.tx() as x:
            row = x("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @guarded("write to the store")
    def set_meta(self, key: str, value: str) -> None:
        with self.tx() as x:
            x("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
              "DO UPDATE SET value = excluded.value", (key, value))

    @guarded("read the store")
    def all_meta(self) -> dict[str, str]:
        with self.tx() as x:
            return dict(x("SELECT key, value FROM meta").fetchall())

    # -- whether the published site shows what is stored -----------------------------------
    # A generation counter, raised before anything the site shows is written; a build records
    # the generation it read. A run killed after storing, a build that failed, or a worker that
    # stored after the build read, leave the two apart, and the next run builds.

    @guarded("write to the store")
    def mark_site_stale(self) -> None:
        with self.tx() as x:  # one statement: workers raising it at once each count
            x("INSERT INTO meta (key, value) VALUES ('site_generation', '1') ON CONFLICT (key) "
              "DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)")

    def site_generation(self) -> str:
        return self.get_meta("site_generation") or "0"

    def set_site_built(self, generation: str) -> None:
        self.set_meta("site_built", generation)

    def site_stale(self) -> bool:
        return (self.get_meta("site_built") or "0") != self.site_generation()

    # -- feed state ---------------------------------------------------------------------------

    @staticmethod
    def _states(x: Tx, ids: Sequence[str] | None) -> dict[str, FeedState]:
        """The stored state of the given feeds (None: all), with their entry counts."""
        cols = ", ".join(STATE_COLS)
        rows: list = []
        counts: dict[str, int] = {}
        if ids is None:
            rows = x(f"SELECT {cols} FROM feeds").fetchall()
            counts = dict(x("SELECT feed_id, COUNT(*) FROM entries GROUP BY feed_id").fetchall())
        else:
            for chunk in _chunks(list(ids)):
                rows += x(f"SELECT {cols} FROM feeds WHERE feed_id IN ({_marks(len(chunk))})",
                          chunk).fetchall()
                counts.update(x("SELECT feed_id, COUNT(*) FROM entries WHERE feed_id IN "
                                f"({_marks(len(chunk))}) GROUP BY feed_id", chunk).fetchall())
        out = {}
        for row in rows:
            kw = dict(zip(STATE_COLS, row))
            for k in _TIME_STATE:
                kw[k] = from_iso(kw[k])
            kw["gone"] = bool(kw["gone"])
            kw["failures"] = kw["failures"] or 0
            out[kw["feed_id"]] = FeedState(**kw, entry_count=counts.get(kw["feed_id"], 0))
        return out

    @guarded("read the feeds' state")
    def feed_states(self) -> dict[str, FeedState]:
        with self.tx() as x:
            return self._states(x, None)

    @guarded("save the feeds' state")
    def save_states(self, states: Iterable[FeedState]) -> None:
        rows = []
        for s in states:
            rows.append([iso(v) if c in _TIME_STATE else (int(v) if c == "gone" else v)
                         for c, v in ((c, getattr(s, c)) for c in STATE_COLS)])
        sets = ", ".join(f"{c} = excluded.{c}" for c in STATE_COLS if c != "feed_id")
        with self.tx() as x:
            x.many(f"INSERT INTO feeds ({', '.join(STATE_COLS)}) VALUES ({_marks(len(STATE_COLS))}) "
                   f"ON CONFLICT (feed_id) DO UPDATE SET {sets}", rows)

    @guarded("read the store")
    def entry_counts(self) -> dict[str, int]:
        with self.tx() as x:
            return dict(x("SELECT feed_id, COUNT(*) FROM entries GROUP BY feed_id").fetchall())

    @guarded("read the store")
    def feed_entry_count(self, feed_id: str) -> int:
        with self.tx() as x:
            return x("SELECT COUNT(*) FROM entries WHERE feed_id = ?", (feed_id,)).fetchone()[0]

    @guarded("read the store")
    def main_language(self, feed_id: str) -> str | None:
        with self.tx() as x:
            row = x("SELECT lang, COUNT(*) FROM entries WHERE feed_id = ? GROUP BY lang "
                    "ORDER BY 2 DESC, lang LIMIT 1", (feed_id,)).fetchone()
        return row[0] if row else None

    # -- feeds claimed by the workers sharing the store --------------------------------------

    @guarded("claim feeds")
    def claim_feeds(self, candidates: Sequence[str], *, worker: str, since: datetime,
                    limit: int, lease: float,
                    due: Callable[[str, FeedState | None], bool]) -> Claim:
        candidates = list(dict.fromkeys(candidates))
        if not candidates or limit <= 0:
            return Claim(feeds={})
        with self.tx() as x:  # in a fixed order: two workers adding rows never deadlock
            x.many("INSERT INTO feed_claims (feed_id) VALUES (?) ON CONFLICT (feed_id) DO NOTHING",
                   [(f,) for f in sorted(candidates)])
        claimed: dict[str, FeedState | None] = {}
        settled: list[str] = []
        waiting = 0
        cycle = iso(since)
        with self.claiming() as x:
            now = self.clock()
            for chunk in _chunks(candidates):
                rows = x("SELECT feed_id, lease_until, done_at FROM feed_claims WHERE feed_id IN "
                         f"({_marks(len(chunk))}){self.LOCK_ROWS}", chunk).fetchall()
                waiting += len(chunk) - len(rows)  # rows another claim is choosing from now
                free = set()
                for fid, until, done in rows:
                    if done is not None and done >= cycle:
                        settled.append(fid)  # finished by a worker since this one began
                    elif until is not None and until > iso(now):
                        waiting += 1
                    else:
                        free.add(fid)
                states = self._states(x, [f for f in chunk if f in free])
                take = []
                for fid in chunk:
                    if fid not in free or len(claimed) >= limit:
                        continue
                    if due(fid, states.get(fid)):
                        claimed[fid] = states.get(fid)
                        take.append((worker, iso(now + timedelta(seconds=lease)), fid))
                    else:
                        settled.append(fid)
                x.many("UPDATE feed_claims SET worker = ?, lease_until = ? WHERE feed_id = ?", take)
                if len(claimed) >= limit:
                    break
        return Claim(feeds=claimed, settled=tuple(settled), waiting=waiting)

    @guarded("renew claims")
    def renew_claims(self, worker: str, lease: float) -> int:
        until = iso(self.clock() + timedelta(seconds=lease))
        with self.tx() as x:
            return x("UPDATE feed_claims SET lease_until = ? WHERE worker = ? AND lease_until IS "
                     "NOT NULL", (until, worker)).rowcount

    @guarded("release claims")
    def release_feeds(self, worker: str, feed_ids: Sequence[str], *, done: bool = True) -> None:
        at = iso(self.clock())
        with self.tx() as x:
            for chunk in _chunks(list(feed_ids)):
                x(f"UPDATE feed_claims SET worker = NULL, lease_until = NULL, done_at = "
                  f"{'?' if done else 'done_at'} WHERE worker = ? AND feed_id IN "
                  f"({_marks(len(chunk))})", ([at] if done else []) + [worker, *chunk])

    # -- entries -----------------------------------------------------------------------------

    @guarded("read the store")
    def known_hashes(self, feed_id: str) -> dict[str, str]:
        with self.tx() as x:
            return dict(x("SELECT guid, content_hash FROM entries WHERE feed_id = ?",
                          (feed_id,)).fetchall())

    @guarded("store entries")
    def upsert_entries(self, items: Sequence[tuple[Entry, str, bytes | None]],
                       now: datetime) -> tuple[list[int], list[int]]:
        new_ids: list[int] = []
        updated: list[int] = []
        insert = (f"INSERT INTO entries ({', '.join(ENTRY_COLS)}, grouped) "
                  f"VALUES ({_marks(len(ENTRY_COLS))}, 0) RETURNING id")
        keep = {"first_seen", "story"}
        cols = [c for c in ENTRY_COLS if c not in keep]
        update = f"UPDATE entries SET {', '.join(c + ' = ?' for c in cols)} WHERE id = ?"
        with self.tx() as x:
            for entry, chash, features in items:
                row = x("SELECT id, content_hash FROM entries WHERE feed_id = ? AND guid = ?",
                        (entry.feed_id, entry.guid)).fetchone()
                values = self._values(entry, chash, features, now)
                if row is None:
                    new_ids.append(int(x(insert, values).fetchone()[0]))
                elif row[1] != chash:
                    x(update, [*(v for c, v in zip(ENTRY_COLS, values) if c not in keep), row[0]])
                    updated.append(int(row[0]))
        return new_ids, updated

    @staticmethod
    def _values(e: Entry, chash: str, features: bytes | None, first_seen: datetime) -> list:
        segs = json.dumps([[s.start, s.end, s.lang] for s in e.segments])
        return [e.feed_id, e.guid, e.link, e.title, e.original_title,
                e.summary_html, e.content_html, e.author, iso(e.published), iso(first_seen), e.lang,
                e.lang_confidence, int(e.romanized), e.legacy_encoding, segs, e.topic,
                e.topic_confidence, e.topic_why, json.dumps(list(e.categories), ensure_ascii=False),
                e.story, features, chash, e.image]

    @staticmethod
    def _entry(r: Sequence[Any]) -> Entry:
        return Entry(
            id=r[0], feed_id=r[1], guid=r[2], link=r[3], title=r[4], original_title=r[5],
            summary_html=r[6], content_html=r[7], author=r[8], published=from_iso(r[9]),
            lang=r[10], lang_confidence=r[11], romanized=bool(r[12]), legacy_encoding=r[13],
            segments=tuple(Segment(a, b, c) for a, b, c in json.loads(r[14])),
            topic=r[15], topic_confidence=r[16], topic_why=r[17],
            categories=tuple(json.loads(r[18])), story=r[19], image=r[20])

    @guarded("read entries")
    def entries(self, *, since: datetime | None = None, limit: int | None = None,
                content: bool = True) -> list[Entry]:
        sql = f"SELECT {_READ_COLS.format(content='content_html' if content else chr(39) * 2)} FROM entries"
        args: list = []
        if since is not None:
            sql += " WHERE published >= ?"
            args.append(iso(since))
        sql += " ORDER BY published DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self.tx() as x:
            return [self._entry(r) for r in x(sql, args).fetchall()]

    @guarded_iter("read entries")
    def topic_rows(self) -> Iterator[TopicRow]:
        for r in self.stream("SELECT id, feed_id, title, content_html, lang, categories, features, "
                             "topic, topic_confidence, topic_why FROM entries ORDER BY id"):
            yield TopicRow(id=r[0], feed_id=r[1], title=r[2], content_html=r[3] or "", lang=r[4],
                           categories=tuple(json.loads(r[5])), features=_bytes(r[6]), topic=r[7],
                           topic_confidence=r[8], topic_why=r[9])

    @guarded("store topics")
    def set_topics(self, topics: Sequence[tuple[int, str, float, str]]) -> None:
        with self.tx() as x:
            x.many("UPDATE entries SET topic = ?, topic_confidence = ?, topic_why = ? WHERE id = ?",
                   [(t, c, w, i) for i, t, c, w in topics])

    @guarded_iter("read entries")
    def features(self) -> Iterator[tuple[int, bytes | None]]:
        for rid, features in self.stream("SELECT id, features FROM entries ORDER BY id"):
            yield rid, _bytes(features)

    def _by_ids(self, columns: str, ids: Sequence[int]) -> Iterator[tuple]:
        with self.tx() as x:
            for chunk in _chunks(list(ids)):
                yield from x(f"SELECT id, {columns} FROM entries WHERE id IN ({_marks(len(chunk))})",
                             chunk).fetchall()

    @guarded("read entries")
    def texts(self, ids: Sequence[int]) -> dict[int, EntryText]:
        return {rid: EntryText(title or "", html or "", _bytes(features))
                for rid, title, html, features in self._by_ids("title, content_html, features", ids)}

    @guarded("store features")
    def set_features(self, features: Sequence[tuple[int, bytes]]) -> None:
        with self.tx() as x:
            x.many("UPDATE entries SET features = ? WHERE id = ?", [(f, i) for i, f in features])

    @guarded("read entries")
    def contents(self, ids: Sequence[int]) -> dict[int, str]:
        return dict(self._by_ids("content_html", ids))

    @guarded("read entries")
    def story_rows(self, since: datetime) -> list[StoryRow]:
        with self.tx() as x:
            rows = x("SELECT id, feed_id, guid, lang, link, published, features, story, grouped "
                     "FROM entries WHERE published >= ?", (iso(since),)).fetchall()
        return [StoryRow(id=r[0], feed_id=r[1], guid=r[2], lang=r[3], link=r[4],
                         published=from_iso(r[5]), features=_bytes(r[6]), story=r[7],
                         grouped=bool(r[8])) for r in rows]

    @guarded("read entries")
    def oldest_ungrouped(self) -> datetime | None:
        with self.tx() as x:
            row = x("SELECT MIN(published) FROM entries WHERE grouped = 0").fetchone()
        return from_iso(row[0]) if row and row[0] is not None else None

    @guarded("store stories")
    def set_stories(self, stories: dict[int, str], grouped: Iterable[int] = ()) -> None:
        with self.tx() as x:
            x.many("UPDATE entries SET story = ? WHERE id = ?", [(s, i) for i, s in stories.items()])
            x.many("UPDATE entries SET grouped = 1 WHERE id = ?", [(i,) for i in grouped])

    @guarded("read the store")
    def entry_count(self) -> int:
        with self.tx() as x:
            return x("SELECT COUNT(*) FROM entries").fetchone()[0]

    # -- retention ---------------------------------------------------------------------------

    @guarded("delete old entries")
    def prune_entries(self, published_before: datetime) -> int:
        with self.tx() as x:
            old = x("SELECT COUNT(*) FROM entries WHERE published < ?",
                    (iso(published_before),)).fetchone()[0]
        if not old:
            return 0
        self.mark_site_stale()  # first: the site shows them until the next build
        with self.tx() as x:
            return x("DELETE FROM entries WHERE published < ?", (iso(published_before),)).rowcount

    @guarded("read entries")
    def oldest_published(self) -> datetime | None:
        with self.tx() as x:
            row = x("SELECT MIN(published) FROM entries").fetchone()
        return from_iso(row[0]) if row and row[0] is not None else None

    # -- the whole store, for migrate ------------------------------------------------------

    @guarded("read the store")
    def counts(self) -> StoreCounts:
        with self.tx() as x:
            def one(sql: str) -> int:
                return int(x(sql).fetchone()[0])
            return StoreCounts(entries=one("SELECT COUNT(*) FROM entries"),
                               feeds=one("SELECT COUNT(*) FROM feeds"),
                               stories=one("SELECT COUNT(DISTINCT story) FROM entries"),
                               features=one("SELECT COUNT(features) FROM entries"),
                               meta=one("SELECT COUNT(*) FROM meta"))

    @guarded_iter("read entries")
    def stored_entries(self) -> Iterator[StoredEntry]:
        cols = _READ_COLS.format(content="content_html")
        for r in self.stream(f"SELECT {cols}, content_hash, features, first_seen, grouped "
                             "FROM entries ORDER BY id"):
            yield StoredEntry(entry=self._entry(r), content_hash=r[21], features=_bytes(r[22]),
                              first_seen=from_iso(r[23]), grouped=bool(r[24]))

    @guarded("store entries")
    def add_stored_entries(self, items: Sequence[StoredEntry]) -> None:
        with self.tx() as x:
            x.many(f"INSERT INTO entries ({', '.join(ENTRY_COLS)}, grouped) "
                   f"VALUES ({_marks(len(ENTRY_COLS) + 1)})",
                   [[*self._values(s.entry, s.content_hash, s.features, s.first_seen), int(s.grouped)]
                    for s in items])


def _bytes(value: Any) -> bytes | None:
    """A BLOB as bytes (a driver may hand a memoryview)."""
    return bytes(value) if value is not None and not isinstance(value, bytes) else value
