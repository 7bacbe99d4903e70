"""The only module that touches SQLite: schema, migrations, upserts, queries.

One file (WAL mode), one writer at a time (``lock``: a file lock beside the store, taken by
``run``, ``render``, ``serve`` and the ``feeds`` edits). An entry is stored once per feed: the
same feed and guid is the same entry (updated in place when its content changed); an article
that two feeds carry is stored for each, and story grouping shows it once. Nothing is ever
deleted by a failed fetch: feed state and entries are separate tables.

Work a killed run leaves undone is recorded, not guessed: an entry is stored ungrouped
(``grouped = 0``) until story grouping has seen it, and the site is marked stale (meta) before
anything it shows is written, until a build succeeds.

A file that is not a SQLite store (empty, or anything else) is refused, never overwritten; a
damaged one fails with one line that names it and says what to do.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from dataclasses import fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from ..errors import StoreError
from ..models import Entry, FeedState, Segment
from .lock import FileLock

# 2: entries.link_key (a normalised link nothing read) is no longer written nor indexed; a
#    store of schema 1 keeps the column, empty from then on, and loses its index on opening.
# 3: entries.grouped (story grouping has seen the entry; entries of older stores without a
#    story are grouped again), feeds.error_kind and feeds.hold_until; stored dates outside
#    1990 .. first seen + 1 day (a feed's "0001-01-01") become the time the entry was first seen.
# 4: entries.image (the URL of an entry's picture, for its thumbnail).
SCHEMA_VERSION = 4
SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    feed_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    final_url TEXT, moved_to TEXT, title TEXT, site_link TEXT, language TEXT,
    etag TEXT, last_modified TEXT, last_status INTEGER, last_error TEXT,
    last_attempt TEXT, last_success TEXT, next_due TEXT,
    failures INTEGER NOT NULL DEFAULT 0, gone INTEGER NOT NULL DEFAULT 0,
    error_kind TEXT, hold_until TEXT
);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    feed_id TEXT NOT NULL,
    guid TEXT NOT NULL,
    link TEXT,
    title TEXT NOT NULL, original_title TEXT,
    summary_html TEXT NOT NULL, content_html TEXT NOT NULL,
    author TEXT,
    published TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    lang TEXT NOT NULL, lang_confidence REAL NOT NULL,
    romanized INTEGER NOT NULL DEFAULT 0, legacy_encoding TEXT,
    segments TEXT NOT NULL DEFAULT '[]',
    topic TEXT NOT NULL, topic_confidence REAL NOT NULL DEFAULT 0, topic_why TEXT NOT NULL DEFAULT '',
    categories TEXT NOT NULL DEFAULT '[]',
    story TEXT, features BLOB,
    content_hash TEXT NOT NULL,
    grouped INTEGER NOT NULL DEFAULT 1,
    image TEXT,
    UNIQUE (feed_id, guid)
);
CREATE INDEX IF NOT EXISTS entries_published ON entries (published DESC);
DROP INDEX IF EXISTS entries_link_key;
CREATE INDEX IF NOT EXISTS entries_story ON entries (story);
CREATE INDEX IF NOT EXISTS entries_ungrouped ON entries (grouped) WHERE grouped = 0;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Columns added after schema 1, with their definitions, for stores that predate them.
_ADDED = {
    "feeds": {"error_kind": "TEXT", "hold_until": "TEXT"},
    "entries": {"grouped": "INTEGER NOT NULL DEFAULT 1", "image": "TEXT"},
}
# How errors stored before schema 3 began (fetch's own wording), and their kinds.
_LEGACY_ERROR_KINDS = (("timeout", "timed out%"), ("dns", "cannot resolve%"),
                       ("refused", "connection refused%"), ("connect", "cannot connect%"),
                       ("gone", "HTTP 410%"), ("http", "HTTP %"), ("too-large", "larger than%"),
                       ("redirect", "%redirect%"), ("not-a-feed", "not a readable feed%"),
                       ("not-a-feed", "an HTML page%"), ("file", "file not found%"),
                       ("file", "cannot read %"))
EARLIEST = "1990-01-01"  # stored dates before this are a feed's nonsense (see schema 3)

_ENTRY_COLS = ("feed_id", "guid", "link", "title", "original_title", "summary_html",
               "content_html", "author", "published", "first_seen", "lang", "lang_confidence",
               "romanized", "legacy_encoding", "segments", "topic", "topic_confidence",
               "topic_why", "categories", "story", "features", "content_hash", "image")
_STATE_COLS = tuple(f.name for f in fields(FeedState) if f.name != "entry_count")
_TIME_STATE = {"last_attempt", "last_success", "next_due", "hold_until"}
T = TypeVar("T")


def _t(dt: datetime | None) -> str | None:
    return dt.astimezone(timezone.utc).isoformat() if dt else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def explain(path: Path, what: str, e: BaseException) -> str:
    """One line about a SQLite failure: the file, what we were doing, and what to do."""
    text = str(e)
    low = text.lower()
    if "malformed" in low or "not a database" in low or "encrypted" in low:
        return (f"{path}: the store is damaged ({text}); restore a backup of it, or recover what "
                f"it holds with: sqlite3 {path} .recover | sqlite3 {path}.recovered "
                "(then point storage.path at the recovered file)")
    if "locked" in low or "busy" in low:
        return f"{path}: cannot {what}: the store is busy (another program holds it): {text}"
    if "readonly" in low or "read-only" in low:
        return f"{path}: cannot {what}: the store (or its folder) is read-only: {text}"
    if "disk" in low and ("full" in low or "i/o" in low):
        return f"{path}: cannot {what}: {text} (check the disk)"
    return f"{path}: cannot {what}: {text}"


def _guarded(what: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """SQLite errors of a Store method become one ``StoreError`` line (``explain``)."""
    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def method(self: "Store", *args: Any, **kwargs: Any) -> T:
            try:
                return fn(self, *args, **kwargs)
            except sqlite3.Error as e:
                raise StoreError(explain(self.path, what, e)) from e
        return method
    return wrap


def _guarded_iter(what: str) -> Callable[[Callable[..., Iterator[T]]], Callable[..., Iterator[T]]]:
    """``_guarded`` for the methods that read a few hundred rows at a time."""
    def wrap(fn: Callable[..., Iterator[T]]) -> Callable[..., Iterator[T]]:
        @functools.wraps(fn)
        def method(self: "Store", *args: Any, **kwargs: Any) -> Iterator[T]:
            try:
                yield from fn(self, *args, **kwargs)
            except sqlite3.Error as e:
                raise StoreError(explain(self.path, what, e)) from e
        return method
    return wrap


def check_file(path: Path) -> None:
    """Refuse a file that is not a SQLite store (never overwrite what someone put there)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    except OSError as e:
        raise StoreError(f"{path}: cannot open the store: {e.strerror or e}") from e
    if not path.is_file():
        raise StoreError(f"{path}: is not a file; point storage.path at a file")
    if st.st_size == 0:
        raise StoreError(f"{path}: the store is empty (0 bytes), not a SQLite store; remove it to "
                         "start a new store, or restore a backup")
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as e:
        raise StoreError(f"{path}: cannot read the store: {e.strerror or e}") from e
    if head != SQLITE_MAGIC:
        raise StoreError(f"{path}: is not a SQLite store; left as it is (point storage.path "
                         "elsewhere, or restore a backup)")


class Store:
    """A SQLite store; use as a context manager or call ``close()``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        check_file(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30)
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"{self.path}: cannot open the store: {e}") from e
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit does not wait for fsync (the WAL is synced at checkpoints);
            # the file stays consistent on a crash, only the last commits may be lost, and a
            # lost commit is fetched again on the next run. One fsync per feed was the cost.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.Error as e:
            self.db.close()
            raise StoreError(explain(self.path, "open the store", e)) from e
        except StoreError:
            self.db.close()
            raise

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def lock(self, name: str = "run") -> FileLock:
        """The lock one writer holds (``store.lock``): a file ``<store>-<name>.lock`` beside it."""
        return FileLock(self.path.with_name(f"{self.path.name}-{name}.lock"), name, str(self.path))

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer aggregator (schema {version}); "
                             "upgrade the aggregator or point storage.path elsewhere")
        if version == SCHEMA_VERSION:
            return
        # One process migrates; another opening at the same time waits, then finds it done.
        self.db.isolation_level = None
        try:
            self.db.execute("BEGIN IMMEDIATE")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:
                self._upgrade(version)
                self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        finally:
            self.db.isolation_level = ""

    def _upgrade(self, version: int) -> None:
        """Bring a store of schema ``version`` (0: new) to ``SCHEMA_VERSION`` (inside the
        migration's transaction)."""
        for table, columns in _ADDED.items():
            have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if not have:
                continue  # a new store: _SCHEMA creates the table whole
            for col, decl in columns.items():
                if col not in have:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {col} {decl}")
        for stmt in _SCHEMA.split(";"):
            if stmt.strip():
                self.db.execute(stmt)
        if 0 < version < 3:
            # entries a killed run left without a story are grouped again
            self.db.execute("UPDATE entries SET grouped = 0 WHERE story IS NULL")
            self._repair_dates()
            for kind, pattern in _LEGACY_ERROR_KINDS:  # the kind of an error stored before kinds
                self.db.execute("UPDATE feeds SET error_kind = ? WHERE error_kind IS NULL AND "
                                "last_error LIKE ?", (kind, pattern))
            self.db.execute("UPDATE feeds SET error_kind = 'other' WHERE error_kind IS NULL "
                            "AND last_error IS NOT NULL")

    def _repair_dates(self) -> None:
        """Dates a feed made up (year 1, year 9999) become the time the entry was first seen."""
        bad = []
        for rid, published, first_seen in self.db.execute(
                "SELECT id, published, first_seen FROM entries WHERE published < ? OR published > first_seen",
                (EARLIEST,)):
            try:
                ok = published >= EARLIEST and _dt(published) <= _dt(first_seen) + timedelta(days=1)
            except (ValueError, OverflowError, TypeError):
                ok = False
            if not ok:
                bad.append((first_seen, rid))
        self.db.executemany("UPDATE entries SET published = ? WHERE id = ?", bad)

    # -- small facts about the store's use (key -> text) -----------------------

    @_guarded("read the store")
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @_guarded("write to the store")
    def set_meta(self, key: str, value: str) -> None:
        with self.db:
            self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                            "DO UPDATE SET value = excluded.value", (key, value))

    # -- whether the published site shows what is stored ----------------------------------
    # A generation counter, raised before anything the site shows is written; a build records
    # the generation it read. A run killed after storing, or a build that failed, leaves the
    # two apart, and the next run builds even when it finds nothing new.

    @_guarded("write to the store")
    def mark_site_stale(self) -> None:
        with self.db:
            self.db.execute("INSERT INTO meta (key, value) VALUES ('site_generation', '1') "
                            "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")

    def site_generation(self) -> str:
        """The generation of what is stored (give it to ``set_site_built`` after a build)."""
        return self.get_meta("site_generation") or "0"

    def set_site_built(self, generation: str) -> None:
        self.set_meta("site_built", generation)

    def site_stale(self) -> bool:
        """Whether something the site shows was stored after the last successful build began."""
        return (self.get_meta("site_built") or "0") != self.site_generation()

    # -- feed state -----------------------------------------------------------

    @_guarded("read the feeds' state")
    def feed_states(self) -> dict[str, FeedState]:
        """Every feed's stored state, with its entry count."""
        counts = self.entry_counts()
        rows = self.db.execute(f"SELECT {', '.join(_STATE_COLS)} FROM feeds").fetchall()
        out = {}
        for row in rows:
            kw = dict(zip(_STATE_COLS, row))
            for k in _TIME_STATE:
                kw[k] = _dt(kw[k])
            kw["gone"] = bool(kw["gone"])
            kw["failures"] = kw["failures"] or 0
            out[kw["feed_id"]] = FeedState(**kw, entry_count=counts.get(kw["feed_id"], 0))
        return out

    @_guarded("save the feeds' state")
    def save_states(self, states: Iterable[FeedState]) -> None:
        rows = []
        for s in states:
            values = [getattr(s, c) for c in _STATE_COLS]
            rows.append([_t(v) if c in _TIME_STATE else (int(v) if c == "gone" else v)
                         for c, v in zip(_STATE_COLS, values)])
        marks = ", ".join("?" for _ in _STATE_COLS)
        with self.db:
            self.db.executemany(
                f"INSERT OR REPLACE INTO feeds ({', '.join(_STATE_COLS)}) VALUES ({marks})", rows)

    @_guarded("read the store")
    def entry_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT feed_id, COUNT(*) FROM entries GROUP BY feed_id"))

    @_guarded("read the store")
    def feed_entry_count(self, feed_id: str) -> int:
        """Entries stored for one feed (an index lookup, not a scan of every feed)."""
        return self.db.execute("SELECT COUNT(*) FROM entries WHERE feed_id = ?",
                               (feed_id,)).fetchone()[0]

    @_guarded("read the store")
    def main_language(self, feed_id: str) -> str | None:
        """The language most of one feed's entries are in."""
        row = self.db.execute("SELECT lang, COUNT(*) FROM entries WHERE feed_id = ? "
                              "GROUP BY lang ORDER BY 2 DESC LIMIT 1", (feed_id,)).fetchone()
        return row[0] if row else None

    # -- entries --------------------------------------------------------------

    @_guarded("read the store")
    def known_hashes(self, feed_id: str) -> dict[str, str]:
        """guid -> content hash of the entries stored for one feed."""
        return dict(self.db.execute(
            "SELECT guid, content_hash FROM entries WHERE feed_id = ?", (feed_id,)))

    @_guarded("store entries")
    def upsert_entries(self, items: Sequence[tuple[Entry, str, bytes | None]],
                       now: datetime) -> tuple[list[int], list[int]]:
        """Store (entry, content hash, story features) triples, all or none. A new entry is
        stored ungrouped (``ungrouped``).

        Returns the row ids of new entries and of entries whose content changed.
        """
        new_ids: list[int] = []
        updated: list[int] = []
        with self.db:
            for entry, chash, features in items:
                row = self.db.execute("SELECT id, content_hash FROM entries "
                                      "WHERE feed_id = ? AND guid = ?",
                                      (entry.feed_id, entry.guid)).fetchone()
                values = self._values(entry, chash, features, now)
                if row is None:
                    cur = self.db.execute(
                        f"INSERT INTO entries ({', '.join(_ENTRY_COLS)}, grouped) "
                        f"VALUES ({', '.join('?' for _ in _ENTRY_COLS)}, 0)", values)
                    new_ids.append(int(cur.lastrowid))  # type: ignore[arg-type]
                elif row[1] != chash:
                    keep = {"first_seen", "story"}
                    cols = [c for c in _ENTRY_COLS if c not in keep]
                    vals = [v for c, v in zip(_ENTRY_COLS, values) if c not in keep]
                    self.db.execute(f"UPDATE entries SET {', '.join(c + ' = ?' for c in cols)} "
                                    "WHERE id = ?", (*vals, row[0]))
                    updated.append(int(row[0]))
        return new_ids, updated

    @staticmethod
    def _values(e: Entry, chash: str, features: bytes | None, now: datetime) -> list:
        segs = json.dumps([[s.start, s.end, s.lang] for s in e.segments])
        return [e.feed_id, e.guid, e.link, e.title, e.original_title,
                e.summary_html, e.content_html, e.author, _t(e.published), _t(now), e.lang,
                e.lang_confidence, int(e.romanized), e.legacy_encoding, segs, e.topic,
                e.topic_confidence, e.topic_why, json.dumps(list(e.categories), ensure_ascii=False),
                e.story, features, chash, e.image]

    @_guarded("read entries")
    def entries(self, *, since: datetime | None = None, limit: int | None = None,
                content: bool = True) -> list[Entry]:
        """Stored entries, newest first; with ``content=False`` their ``content_html`` is ""
        (the bulk of an entry; ``contents`` reads it for the entries that need it)."""
        sql = ("SELECT id, feed_id, guid, link, title, original_title, summary_html, "
               f"{'content_html' if content else chr(39) * 2}, "
               "author, published, lang, lang_confidence, romanized, legacy_encoding, segments, "
               "topic, topic_confidence, topic_why, categories, story, image FROM entries")
        args: list = []
        if since is not None:
            sql += " WHERE published >= ?"
            args.append(_t(since))
        sql += " ORDER BY published DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        out = []
        for r in self.db.execute(sql, args):
            out.append(Entry(
                id=r[0], feed_id=r[1], guid=r[2], link=r[3], title=r[4], original_title=r[5],
                summary_html=r[6], content_html=r[7], author=r[8], published=_dt(r[9]),
                lang=r[10], lang_confidence=r[11], romanized=bool(r[12]), legacy_encoding=r[13],
                segments=tuple(Segment(a, b, c) for a, b, c in json.loads(r[14])),
                topic=r[15], topic_confidence=r[16], topic_why=r[17],
                categories=tuple(json.loads(r[18])), story=r[19], image=r[20]))
        return out

    @_guarded_iter("read entries")
    def topic_inputs(self) -> Iterator[tuple[int, str, str, str, str, tuple[str, ...], bytes | None,
                                              tuple[str, float, str]]]:
        """(id, feed_id, title, content_html, lang, categories, features, (topic, confidence,
        why)) of every stored entry, in id order, read a few hundred rows at a time."""
        cur = self.db.execute("SELECT id, feed_id, title, content_html, lang, categories, features, "
                              "topic, topic_confidence, topic_why FROM entries ORDER BY id")
        while rows := cur.fetchmany(500):
            for r in rows:
                yield r[0], r[1], r[2], r[3] or "", r[4], tuple(json.loads(r[5])), r[6], (r[7], r[8], r[9])

    @_guarded("store topics")
    def set_topics(self, topics: Sequence[tuple[int, str, float, str]]) -> None:
        """Store (id, topic, confidence, why) for the given entries, all or none."""
        with self.db:
            self.db.executemany("UPDATE entries SET topic = ?, topic_confidence = ?, topic_why = ? "
                                "WHERE id = ?", [(t, c, w, i) for i, t, c, w in topics])

    @_guarded_iter("read entries")
    def features(self) -> Iterator[tuple[int, bytes | None]]:
        """(id, story signature) of every stored entry, in id order, a few hundred at a time."""
        cur = self.db.execute("SELECT id, features FROM entries ORDER BY id")
        while rows := cur.fetchmany(500):
            yield from rows

    def _by_ids(self, columns: str, ids: Sequence[int]) -> Iterator[tuple]:
        """(id, *columns) of the given entries, asked for 500 ids at a time (SQLite's limit on
        parameters is not reached, however many there are)."""
        ids = list(ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            q = ", ".join("?" for _ in chunk)
            yield from self.db.execute(f"SELECT id, {columns} FROM entries WHERE id IN ({q})", chunk)

    @_guarded("read entries")
    def texts(self, ids: Sequence[int]) -> dict[int, tuple[str, str, bytes | None]]:
        """entry id -> (title, content_html, story signature), for the given ids."""
        return {rid: (title or "", html or "", features)
                for rid, title, html, features in self._by_ids("title, content_html, features", ids)}

    @_guarded("store story signatures")
    def set_features(self, features: Sequence[tuple[int, bytes]]) -> None:
        """Store (id, story signature) for the given entries, all or none."""
        with self.db:
            self.db.executemany("UPDATE entries SET features = ? WHERE id = ?",
                                [(f, i) for i, f in features])

    @_guarded("read entries")
    def contents(self, ids: Sequence[int]) -> dict[int, str]:
        """entry id -> content_html, for the given ids."""
        return dict(self._by_ids("content_html", ids))

    @_guarded("read entries")
    def story_rows(self, since: datetime) -> list[tuple[int, str, str | None, datetime, bytes | None,
                                                       str | None, bool]]:
        """(id, lang, link, published, features, story, grouped) of entries published since
        ``since``."""
        return [(r[0], r[1], r[2], _dt(r[3]), r[4], r[5], bool(r[6])) for r in self.db.execute(
            "SELECT id, lang, link, published, features, story, grouped FROM entries "
            "WHERE published >= ?", (_t(since),))]

    @_guarded("read entries")
    def oldest_ungrouped(self) -> datetime | None:
        """The oldest publication time among the entries story grouping has not seen yet (None:
        there are none): a run's new entries, and those a killed run left behind."""
        row = self.db.execute("SELECT MIN(published) FROM entries WHERE grouped = 0").fetchone()
        return _dt(row[0]) if row and row[0] is not None else None

    @_guarded("store stories")
    def set_stories(self, stories: dict[int, str], grouped: Iterable[int] = ()) -> None:
        """Store the stories of the given entries and mark ``grouped`` (which includes entries
        that were given no story) as seen by story grouping, all or none."""
        with self.db:
            self.db.executemany("UPDATE entries SET story = ? WHERE id = ?",
                                [(s, i) for i, s in stories.items()])
            self.db.executemany("UPDATE entries SET grouped = 1 WHERE id = ?",
                                [(i,) for i in grouped])

    @_guarded("read the store")
    def entry_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    # -- retention ------------------------------------------------------------

    @_guarded("delete old entries")
    def prune_entries(self, published_before: datetime) -> int:
        """Delete the entries published before ``published_before``, all or none; returns how
        many. The site is marked stale first (it shows them until the next build). The file
        keeps its size: SQLite reuses the freed pages for new entries."""
        old = self.db.execute("SELECT COUNT(*) FROM entries WHERE published < ?",
                              (_t(published_before),)).fetchone()[0]
        if not old:
            return 0
        self.mark_site_stale()
        with self.db:
            cur = self.db.execute("DELETE FROM entries WHERE published < ?",
                                  (_t(published_before),))
        return cur.rowcount

    @_guarded("read entries")
    def oldest_published(self) -> datetime | None:
        """The publication time of the oldest stored entry, None when there are none."""
        row = self.db.execute("SELECT MIN(published) FROM entries").fetchone()
        return _dt(row[0]) if row and row[0] is not None else None
