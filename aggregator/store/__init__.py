"""The store: every entry, feed state and fact the pipeline keeps between runs.

``Store`` is what the pipeline, re-filing, story grouping, the renderer and the command line may
ask of a store; ``open_store(config.storage)`` gives the one the config names:

- ``sqlite.SQLiteStore``: one file (``storage.path``, the default), embedded, nothing to
  install; one run at a time (a file lock beside it).
- ``postgres.PostgresStore``: a PostgreSQL database (``storage.url``, the extra ``postgres``);
  several ``aggregator run`` processes, on one machine or many, share its due feeds
  (``claim_feeds``), one of them at a time groups stories or builds the site (advisory locks).

Both keep their queries in ``sql`` and their schema history in ``schema``. Values come out as
the frozen dataclasses of ``models``; an entry's ``id`` is a key for handing back to the store
that gave it, never ordered or kept across stores.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Protocol, Sequence
from urllib.parse import urlsplit

from ..config import POSTGRES_SCHEMES, postgres_url_problem
from ..errors import StoreError
from ..models import (Claim, Entry, EntryText, FeedState, StoreCounts, StoredEntry, StoryRow,
                      TopicRow)
from .lock import Busy, Lock
from .schema import SCHEMA_VERSION
from .sqlite import SQLiteStore

if TYPE_CHECKING:
    from ..config import StorageConfig

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "Store", "exclusive", "open_store", "open_url",
           "store_exists"]

log = logging.getLogger("aggregator")


class Store(Protocol):
    """What every store does (the contract ``tests/test_store_contract.py`` checks on each)."""

    where: str  # the store as messages name it: a path, or a URL without its password
    shares_feeds: bool  # several runs may fetch into it at once (else: the run lock, one at a time)

    def close(self) -> None: ...

    def __enter__(self) -> "Store": ...

    def __exit__(self, *exc: object) -> None: ...

    def lock(self, name: str = "run") -> Lock:
        """A named lock between processes ("run", "stories", "build", "migrate")."""

    def clock(self) -> datetime:
        """The store's own clock (the database server's), for times that several machines
        compare: leases and the end of a feed's fetch."""

    # small facts about the store's use
    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def all_meta(self) -> dict[str, str]: ...

    # whether the published site shows what is stored
    def mark_site_stale(self) -> None:
        """Raise the site generation: called before anything the site shows is written."""

    def site_generation(self) -> str:
        """The generation of what is stored (give it to ``set_site_built`` after a build)."""

    def set_site_built(self, generation: str) -> None: ...

    def site_stale(self) -> bool:
        """Whether something the site shows was stored after the last successful build began."""

    # feed state
    def feed_states(self) -> dict[str, FeedState]:
        """Every feed's stored state, with its entry count."""

    def save_states(self, states: Iterable[FeedState]) -> None: ...

    def entry_counts(self) -> dict[str, int]: ...

    def feed_entry_count(self, feed_id: str) -> int:
        """Entries stored for one feed (an index lookup, not a scan of every feed)."""

    def main_language(self, feed_id: str) -> str | None:
        """The language most of one feed's entries are in."""

    # feeds shared by several runs
    def claim_feeds(self, candidates: Sequence[str], *, worker: str, since: datetime,
                    limit: int, lease: float,
                    due: Callable[[str, FeedState | None], bool]) -> Claim:
        """Claim up to ``limit`` of ``candidates`` (feed ids, in the order given) for ``worker``
        for ``lease`` seconds: those no other worker holds a lease on, that no worker finished
        since ``since`` (the store's clock when this worker began) and that ``due(feed id, its
        state now)`` still finds due. No two workers claim the same feed at once."""

    def renew_claims(self, worker: str, lease: float) -> int:
        """Extend the leases ``worker`` holds by ``lease`` seconds from now; returns how many."""

    def release_feeds(self, worker: str, feed_ids: Sequence[str], *, done: bool = True) -> None:
        """End ``worker``'s leases on these feeds (``done``: it fetched them, now)."""

    # entries
    def known_hashes(self, feed_id: str) -> dict[str, str]:
        """guid -> content hash of the entries stored for one feed."""

    def upsert_entries(self, items: Sequence[tuple[Entry, str, bytes | None]],
                       now: datetime) -> tuple[list[int], list[int]]:
        """Store (entry, content hash, features) triples, all or none; a new entry is stored
        ungrouped. Returns the ids of the new entries and of those whose content changed."""

    def entries(self, *, since: datetime | None = None, limit: int | None = None,
                content: bool = True) -> list[Entry]:
        """Stored entries, newest first; with ``content=False`` their ``content_html`` is ""
        (the bulk of an entry; ``contents`` reads it for the entries that need it)."""

    def topic_rows(self) -> Iterator[TopicRow]:
        """Every stored entry as re-filing reads it, a few hundred rows at a time."""

    def set_topics(self, topics: Sequence[tuple[int, str, float, str]]) -> None:
        """Store (id, topic, confidence, why) for the given entries, all or none."""

    def features(self) -> Iterator[tuple[int, bytes | None]]:
        """(id, features) of every stored entry, a few hundred at a time."""

    def texts(self, ids: Sequence[int]) -> dict[int, EntryText]: ...

    def set_features(self, features: Sequence[tuple[int, bytes]]) -> None:
        """Store (id, features) for the given entries, all or none."""

    def contents(self, ids: Sequence[int]) -> dict[int, str]:
        """entry id -> content_html, for the given ids."""

    def story_rows(self, since: datetime) -> list[StoryRow]:
        """The entries published since ``since``, as story grouping reads them."""

    def oldest_ungrouped(self) -> datetime | None:
        """The oldest publication time among the entries story grouping has not seen (None:
        there are none): a run's new entries, and those a killed run left behind."""

    def set_stories(self, stories: dict[int, str], grouped: Iterable[int] = ()) -> None:
        """Store the stories of the given entries and mark ``grouped`` (which includes entries
        that were given no story) as seen by story grouping, all or none."""

    def entry_count(self) -> int: ...

    # retention
    def prune_entries(self, published_before: datetime) -> int:
        """Delete the entries published before ``published_before``, all or none (the site is
        marked stale first: it shows them until the next build); returns how many."""

    def oldest_published(self) -> datetime | None:
        """The publication time of the oldest stored entry, None when there are none."""

    # the whole store (aggregator migrate)
    def counts(self) -> StoreCounts: ...

    def stored_entries(self) -> Iterator[StoredEntry]:
        """Every entry with all the store keeps about it, a few hundred at a time."""

    def add_stored_entries(self, items: Sequence[StoredEntry]) -> None:
        """Add entries as another store kept them (story, grouped, first seen...), all or none."""


SQLITE_PREFIX = "sqlite:"


def open_url(url: str) -> Store:
    """The store at ``sqlite:PATH`` or ``postgresql://…`` (``aggregator migrate``)."""
    if url.startswith(SQLITE_PREFIX):
        path = url[len(SQLITE_PREFIX):]
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise StoreError(f"{url}: names no file (sqlite:PATH)")
        return SQLiteStore(path)
    if urlsplit(url).scheme in POSTGRES_SCHEMES:
        problem = postgres_url_problem(url)
        if problem:
            raise StoreError(f"{url}: {problem}")
        from .postgres import PostgresStore
        return PostgresStore(url)
    raise StoreError(f"{url}: not a store address; write sqlite:PATH or "
                     "postgresql://user@host/database")


def open_store(storage: "StorageConfig") -> Store:
    """The store the config names: PostgreSQL at ``storage.url`` when it is set, else the
    SQLite file at ``storage.path``."""
    if storage.url:
        from .postgres import PostgresStore
        return PostgresStore(storage.url)
    return SQLiteStore(storage.path)


def store_exists(storage: "StorageConfig") -> bool:
    """Whether the store the config names holds anything yet (``render`` and ``status`` say
    "run first" instead of making an empty one)."""
    if storage.url:
        from .postgres import database_has_store
        return database_has_store(storage.url)
    return storage.path.exists()


@contextmanager
def exclusive(store: Store, name: str, wait: float | None = None) -> Iterator[None]:
    """Hold ``store.lock(name)`` where several runs share the store (``wait`` as
    ``Lock.acquire``: None waits as long as it takes); a store with one run at a time is held
    whole by the run's lock already."""
    if not store.shares_feeds:
        yield
        return
    lock = store.lock(name)
    try:
        lock.acquire(0)
    except Busy as e:
        if wait == 0:
            raise
        log.info("%s; waiting for it", e)
        lock.acquire(wait)
    try:
        yield
    finally:
        lock.release()
