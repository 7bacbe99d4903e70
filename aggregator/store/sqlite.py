"""The only module that touches SQLite: schema, migrations, upserts, queries.

One file (WAL mode), one writer. An entry is stored once: the same feed and
guid is the same entry (updated in place when its content changed), and the
same link seen from a second feed is not stored again. Nothing is ever deleted
by a failed fetch: feed state and entries are separate tables.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..errors import StoreError
from ..models import Entry, FeedState, Segment

# 2: entries.link_key (a normalised link nothing read) is no longer written nor indexed; a
# store of schema 1 keeps the column, empty from then on, and loses its index on opening.
# 3: entries.image (a thumbnail's URL), added to older stores on opening.
SCHEMA_VERSION = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    feed_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    final_url TEXT, moved_to TEXT, title TEXT, site_link TEXT, language TEXT,
    etag TEXT, last_modified TEXT, last_status INTEGER, last_error TEXT,
    last_attempt TEXT, last_success TEXT, next_due TEXT,
    failures INTEGER NOT NULL DEFAULT 0, gone INTEGER NOT NULL DEFAULT 0
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
    image TEXT,
    UNIQUE (feed_id, guid)
);
CREATE INDEX IF NOT EXISTS entries_published ON entries (published DESC);
DROP INDEX IF EXISTS entries_link_key;
CREATE INDEX IF NOT EXISTS entries_story ON entries (story);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_ENTRY_COLS = ("feed_id", "guid", "link", "title", "original_title", "summary_html",
               "content_html", "author", "published", "first_seen", "lang", "lang_confidence",
               "romanized", "legacy_encoding", "segments", "topic", "topic_confidence",
               "topic_why", "categories", "story", "features", "content_hash", "image")
_STATE_COLS = tuple(f.name for f in fields(FeedState) if f.name != "entry_count")
_TIME_STATE = {"last_attempt", "last_success", "next_due"}


def _t(dt: datetime | None) -> str | None:
    return dt.astimezone(timezone.utc).isoformat() if dt else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Store:
    """A SQLite store; use as a context manager or call ``close()``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit does not wait for fsync (the WAL is synced at checkpoints);
            # the file stays consistent on a crash, only the last commits may be lost, and a
            # lost commit is fetched again on the next run. One fsync per feed was the cost.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"{self.path}: cannot open the store: {e}") from e

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer aggregator (schema {version}); "
                             "upgrade the aggregator or point storage.path elsewhere")
        with self.db:
            self.db.executescript(_SCHEMA)
            columns = {r[1] for r in self.db.execute("PRAGMA table_info(entries)")}
            if "image" not in columns:  # a store of schema 1 or 2
                self.db.execute("ALTER TABLE entries ADD COLUMN image TEXT")
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    # -- small facts about the store's use (key -> text) -----------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        try:
            with self.db:
                self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                                "DO UPDATE SET value = excluded.value", (key, value))
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot save {key}: {e}") from e

    # -- feed state -----------------------------------------------------------

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
            out[kw["feed_id"]] = FeedState(**kw, entry_count=counts.get(kw["feed_id"], 0))
        return out

    def feed_state(self, feed_id: str) -> FeedState | None:
        return self.feed_states().get(feed_id)

    def save_states(self, states: Iterable[FeedState]) -> None:
        rows = []
        for s in states:
            values = [getattr(s, c) for c in _STATE_COLS]
            rows.append([_t(v) if c in _TIME_STATE else (int(v) if c == "gone" else v)
                         for c, v in zip(_STATE_COLS, values)])
        marks = ", ".join("?" for _ in _STATE_COLS)
        try:
            with self.db:
                self.db.executemany(
                    f"INSERT OR REPLACE INTO feeds ({', '.join(_STATE_COLS)}) VALUES ({marks})", rows)
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot save feed state: {e}") from e

    def entry_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT feed_id, COUNT(*) FROM entries GROUP BY feed_id"))

    def feed_entry_count(self, feed_id: str) -> int:
        """Entries stored for one feed (an index lookup, not a scan of every feed)."""
        return self.db.execute("SELECT COUNT(*) FROM entries WHERE feed_id = ?",
                               (feed_id,)).fetchone()[0]

    def main_language(self, feed_id: str) -> str | None:
        """The language most of one feed's entries are in."""
        row = self.db.execute("SELECT lang, COUNT(*) FROM entries WHERE feed_id = ? "
                              "GROUP BY lang ORDER BY 2 DESC LIMIT 1", (feed_id,)).fetchone()
        return row[0] if row else None

    # -- entries --------------------------------------------------------------

    def known_hashes(self, feed_id: str) -> dict[str, str]:
        """guid -> content hash of the entries stored for one feed."""
        return dict(self.db.execute(
            "SELECT guid, content_hash FROM entries WHERE feed_id = ?", (feed_id,)))

    def upsert_entries(self, items: Sequence[tuple[Entry, str, bytes | None]],
                       now: datetime) -> tuple[list[int], list[int]]:
        """Store (entry, content hash, story features) triples.

        Returns the row ids of new entries and of entries whose content changed.
        """
        new_ids: list[int] = []
        updated: list[int] = []
        try:
            with self.db:
                for entry, chash, features in items:
                    row = self.db.execute("SELECT id, content_hash FROM entries "
                                          "WHERE feed_id = ? AND guid = ?",
                                          (entry.feed_id, entry.guid)).fetchone()
                    values = self._values(entry, chash, features, now)
                    if row is None:
                        cur = self.db.execute(
                            f"INSERT INTO entries ({', '.join(_ENTRY_COLS)}) "
                            f"VALUES ({', '.join('?' for _ in _ENTRY_COLS)})", values)
                        new_ids.append(int(cur.lastrowid))
                    elif row[1] != chash:
                        keep = {"first_seen", "story"}
                        cols = [c for c in _ENTRY_COLS if c not in keep]
                        vals = [v for c, v in zip(_ENTRY_COLS, values) if c not in keep]
                        self.db.execute(f"UPDATE entries SET {', '.join(c + ' = ?' for c in cols)} "
                                        "WHERE id = ?", (*vals, row[0]))
                        updated.append(int(row[0]))
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot store entries: {e}") from e
        return new_ids, updated

    @staticmethod
    def _values(e: Entry, chash: str, features: bytes | None, now: datetime) -> list:
        segs = json.dumps([[s.start, s.end, s.lang] for s in e.segments])
        return [e.feed_id, e.guid, e.link, e.title, e.original_title,
                e.summary_html, e.content_html, e.author, _t(e.published), _t(now), e.lang,
                e.lang_confidence, int(e.romanized), e.legacy_encoding, segs, e.topic,
                e.topic_confidence, e.topic_why, json.dumps(list(e.categories), ensure_ascii=False),
                e.story, features, chash, e.image]

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

    def topic_inputs(self) -> Iterator[tuple[int, str, str, str, str, tuple[str, ...], bytes | None,
                                              tuple[str, float, str]]]:
        """(id, feed_id, title, content_html, lang, categories, features, (topic, confidence,
        why)) of every stored entry, in id order, read a few hundred rows at a time."""
        cur = self.db.execute("SELECT id, feed_id, title, content_html, lang, categories, features, "
                              "topic, topic_confidence, topic_why FROM entries ORDER BY id")
        while rows := cur.fetchmany(500):
            for r in rows:
                yield r[0], r[1], r[2], r[3] or "", r[4], tuple(json.loads(r[5])), r[6], (r[7], r[8], r[9])

    def set_topics(self, topics: Sequence[tuple[int, str, float, str]]) -> None:
        """Store (id, topic, confidence, why) for the given entries, all or none."""
        try:
            with self.db:
                self.db.executemany("UPDATE entries SET topic = ?, topic_confidence = ?, topic_why = ? "
                                    "WHERE id = ?", [(t, c, w, i) for i, t, c, w in topics])
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot store topics: {e}") from e

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

    def texts(self, ids: Sequence[int]) -> dict[int, tuple[str, str, bytes | None]]:
        """entry id -> (title, content_html, story signature), for the given ids."""
        return {rid: (title or "", html or "", features)
                for rid, title, html, features in self._by_ids("title, content_html, features", ids)}

    def set_features(self, features: Sequence[tuple[int, bytes]]) -> None:
        """Store (id, story signature) for the given entries, all or none."""
        try:
            with self.db:
                self.db.executemany("UPDATE entries SET features = ? WHERE id = ?",
                                    [(f, i) for i, f in features])
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot store story signatures: {e}") from e

    def contents(self, ids: Sequence[int]) -> dict[int, str]:
        """entry id -> content_html, for the given ids."""
        return dict(self._by_ids("content_html", ids))

    def story_rows(self, since: datetime) -> list[tuple[int, str, str | None, datetime, bytes | None, str | None]]:
        """(id, lang, link, published, features, story) of entries published since ``since``."""
        return [(r[0], r[1], r[2], _dt(r[3]), r[4], r[5]) for r in self.db.execute(
            "SELECT id, lang, link, published, features, story FROM entries WHERE published >= ?",
            (_t(since),))]

    def oldest_published_since_id(self, first_id: int) -> datetime | None:
        """The oldest publication time among entries with row id >= ``first_id`` (one run's new rows)."""
        row = self.db.execute("SELECT MIN(published) FROM entries WHERE id >= ?", (first_id,)).fetchone()
        return _dt(row[0]) if row and row[0] is not None else None

    def set_stories(self, stories: dict[int, str]) -> None:
        with self.db:
            self.db.executemany("UPDATE entries SET story = ? WHERE id = ?",
                                [(s, i) for i, s in stories.items()])

    def entry_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    # -- retention ------------------------------------------------------------

    def prune_entries(self, published_before: datetime) -> int:
        """Delete the entries published before ``published_before``, all or none; returns how
        many. The file keeps its size: SQLite reuses the freed pages for new entries."""
        try:
            with self.db:
                cur = self.db.execute("DELETE FROM entries WHERE published < ?",
                                      (_t(published_before),))
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot delete old entries: {e}") from e
        return cur.rowcount

    def oldest_published(self) -> datetime | None:
        """The publication time of the oldest stored entry, None when there are none."""
        row = self.db.execute("SELECT MIN(published) FROM entries").fetchone()
        return _dt(row[0]) if row and row[0] is not None else None
