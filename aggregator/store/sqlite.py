"""The embedded store: one SQLite file, the only module that touches SQLite.

One file (WAL mode), one run at a time (``lock``: a file lock beside the store, taken by
``run``, ``render`` and ``serve``'s runs). The queries are ``sql.SQLStore``'s; this module opens
the file, upgrades its schema (``schema``) and says what went wrong in words.

A file that is not a SQLite store (empty, or anything else) is refused, never overwritten; a
damaged one fails with one line that names it and says what to do.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..errors import StoreError
from . import schema
from .lock import FileLock
from .sql import CHUNK, SQLStore, Tx

SCHEMA_VERSION = schema.SCHEMA_VERSION
SQLITE_MAGIC = b"SQLite format 3\x00"


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


class _Db:
    """``schema.Db`` over a SQLite connection."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        return self.conn.execute(sql, tuple(args)).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def columns(self, table: str) -> set[str]:
        return {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}


class SQLiteStore(SQLStore):
    """A SQLite store; use as a context manager or call ``close()``."""

    shares_feeds = False  # one run at a time: the run lock (a file lock beside the store)
    driver_errors = (sqlite3.Error,)

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.where = str(self.path)
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

    def explain(self, what: str, e: BaseException) -> str:
        return explain(self.path, what, e)

    def close(self) -> None:
        self.db.close()

    def lock(self, name: str = "run") -> FileLock:
        """The lock one writer holds (``store.lock``): a file ``<store>-<name>.lock`` beside it."""
        return FileLock(self.path.with_name(f"{self.path.name}-{name}.lock"), name, str(self.path))

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        with self.db:
            yield Tx(self.db, _same)

    @contextmanager
    def claiming(self) -> Iterator[Tx]:
        with self._immediate():
            yield Tx(self.db, _same)

    @contextmanager
    def _immediate(self) -> Iterator[None]:
        """A write transaction from its first statement (BEGIN IMMEDIATE): another process
        wanting to write waits for it to end."""
        self.db.isolation_level = None
        try:
            self.db.execute("BEGIN IMMEDIATE")
            yield
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        finally:
            self.db.isolation_level = ""

    def stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple]:
        cur = self.db.execute(sql, tuple(args))
        while rows := cur.fetchmany(CHUNK):
            yield from rows

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer aggregator (schema {version}); "
                             "upgrade the aggregator or point storage.path elsewhere")
        if version == SCHEMA_VERSION:
            return
        # One process migrates; another opening at the same time waits, then finds it done.
        with self._immediate():
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:
                schema.upgrade(_Db(self.db), "sqlite", version)
                self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _same(sql: str) -> str:
    return sql
