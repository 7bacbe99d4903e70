"""The PostgreSQL store (``storage.url: postgresql://user@host/database``; the extra
``postgres``: psycopg 3 and psycopg-pool), the only module that touches PostgreSQL.

Several ``aggregator run`` processes, on one machine or several, may work on one database at
once (``shares_feeds``): they share the due feeds through ``claim_feeds`` (``SELECT … FOR UPDATE
SKIP LOCKED`` and a lease that ends if the worker dies), and take turns at story grouping and
the site build through ``lock`` (session advisory locks: the server releases one when its
holder's connection ends, a killed worker's included).

The queries are ``sql.SQLStore``'s; this module opens the pool, upgrades the schema (``schema``;
the version is kept in the table ``schema_version``) and says what went wrong in words.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

from ..errors import StoreError
from . import schema
from .lock import Busy, Holder
from .sql import CHUNK, SQLStore, Tx

try:
    import psycopg
    from psycopg_pool import ConnectionPool
except ImportError:  # pragma: no cover - the extra is not installed
    psycopg = None  # type: ignore[assignment]

POOL_SIZE = 4  # connections: the run's queries, the renderer's reads; each lock has its own
CONNECT_TIMEOUT = 10  # seconds


def _require() -> None:
    if psycopg is None:
        raise StoreError("storage.url names a PostgreSQL database, but the PostgreSQL driver is "
                         "not installed: pip install 'aggregator[postgres]'")


def public_url(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def explain(where: str, what: str, e: BaseException) -> str:
    """One line about a PostgreSQL failure: the database, what we were doing, what to do."""
    text = " ".join(str(e).split()) or type(e).__name__
    low = text.lower()
    if psycopg is not None and isinstance(e, psycopg.OperationalError) and (
            "connect" in low or "server" in low or "does not exist" in low
            or "authentication" in low or "password" in low):
        hint = "is PostgreSQL running there, and may this user connect?"
        if "does not exist" in low and "database" in low:
            hint = f"create it: createdb {urlsplit(where).path.strip('/') or 'NAME'}"
        elif "authentication" in low or "password" in low:
            hint = "check the user and password (or ~/.pgpass)"
        return f"{where}: cannot {what}: {text} ({hint})"
    return f"{where}: cannot {what}: {text}"


def _connect(url: str, **kw: Any):
    _require()
    kw.setdefault("connect_timeout", CONNECT_TIMEOUT)
    kw.setdefault("application_name", "aggregator")
    try:
        return psycopg.connect(url, **kw)
    except psycopg.Error as e:
        raise StoreError(explain(public_url(url), "connect", e)) from e


def database_has_store(url: str) -> bool:
    with _connect(url, autocommit=True) as conn:
        try:
            return conn.execute("SELECT to_regclass('entries') IS NOT NULL").fetchone()[0]
        except psycopg.Error as e:
            raise StoreError(explain(public_url(url), "read the store", e)) from e


def _translate(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def _text(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL (SQLite's can, and a feed may send one): U+FFFD."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value


class _PgTx(Tx):
    def __call__(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return super().__call__(sql, [_text(a) for a in args])

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        super().many(sql, ([_text(a) for a in r] for r in rows))


class _Db:
    """``schema.Db`` over a PostgreSQL connection."""

    def __init__(self, conn: Any):
        self.conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        cur = self.conn.execute(_translate(sql), tuple(args))
        return cur.fetchall() if cur.description else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.conn.cursor().executemany(_translate(sql), [tuple(r) for r in rows])

    def columns(self, table: str) -> set[str]:
        return {r[0] for r in self.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND table_schema = current_schema()", (table,))}


def lock_key(name: str) -> int:
    """The advisory lock key of a named lock (a signed 64-bit number)."""
    digest = hashlib.blake2b(f"aggregator:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresStore(SQLStore):
    """A PostgreSQL store; use as a context manager or call ``close()``."""

    shares_feeds = True
    LOCK_ROWS = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str):
        _require()
        self.url = url
        self.where = public_url(url)
        self.driver_errors = (psycopg.Error,)
        with _connect(url) as conn:
            try:
                self._migrate(conn)
            except psycopg.Error as e:
                raise StoreError(explain(self.where, "open the store", e)) from e
        self.pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, open=False,
                                   kwargs={"application_name": "aggregator",
                                           "connect_timeout": CONNECT_TIMEOUT},
                                   name="aggregator")
        try:
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT + 5)
        except Exception as e:
            self.pool.close()
            raise StoreError(f"{self.where}: cannot connect: {e}") from e

    def explain(self, what: str, e: BaseException) -> str:
        return explain(self.where, what, e)

    def close(self) -> None:
        self.pool.close()

    def lock(self, name: str = "run") -> "AdvisoryLock":
        return AdvisoryLock(self.url, name, self.where)

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        with self.pool.connection() as conn:  # committed when the block ends
            yield _PgTx(conn, _translate)

    claiming = tx  # FOR UPDATE SKIP LOCKED keeps two claims apart (LOCK_ROWS)

    def stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple]:
        with self.pool.connection() as conn:
            with conn.cursor(name="aggregator_stream") as cur:  # a server-side cursor
                cur.itersize = CHUNK
                cur.execute(_translate(sql), tuple(args))
                yield from cur

    def clock(self) -> datetime:
        try:
            with self.pool.connection() as conn:
                now = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        except psycopg.Error as e:
            raise StoreError(explain(self.where, "read the server's clock", e)) from e
        return now.astimezone(timezone.utc)

    def _migrate(self, conn: Any) -> None:
        # one process upgrades; another opening at the same time waits here, then finds it done
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("schema"),))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else 0
        if version > schema.SCHEMA_VERSION:
            raise StoreError(f"{self.where}: written by a newer aggregator (schema {version}); "
                             "upgrade the aggregator or point storage.url elsewhere")
        if version < schema.SCHEMA_VERSION:
            schema.upgrade(_Db(conn), "postgres", version)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (schema.SCHEMA_VERSION,))
        conn.commit()


class AdvisoryLock:
    """A named lock in the database: a session advisory lock held on a connection of its own
    (the server releases it when that connection ends: a killed holder's too). Who holds it is
    read from the server (the holder's connection says its pid, host and command)."""

    POLL = 0.2  # seconds between tries while waiting

    def __init__(self, url: str, name: str, where: str):
        self.url, self.name, self.where = url, name, where
        self.key = lock_key(name)
        self._conn: Any = None

    def acquire(self, wait: float | None = 0) -> None:
        if self._conn is not None:
            raise StoreError(f"{self.where}: the {self.name} lock is already held by this process")
        command = " ".join(os.path.basename(a) for a in sys.argv[:2])
        conn = _connect(self.url, autocommit=True,
                        application_name=f"aggregator {self.name} {os.getpid()} "
                                         f"{socket.gethostname()[:24]} {command}"[:63])
        deadline = None if wait is None else time.monotonic() + wait
        try:
            while not conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]:
                if deadline is not None and time.monotonic() >= deadline:
                    raise Busy(self.name, self.where, self._holder(conn) or Holder())
                time.sleep(self.POLL)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _holder(self, conn: Any) -> Holder | None:
        row = conn.execute(
            "SELECT a.application_name, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = "
            "current_database()) AND l.classid::bigint = %s AND l.objid::bigint = %s "
            "AND l.objsubid = 1", ((self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF)).fetchone()
        if row is None:
            return None
        parts = (row[0] or "").split(" ", 4)  # aggregator NAME PID HOST COMMAND
        pid = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
        since = row[1].astimezone(timezone.utc).isoformat() if row[1] else ""
        return Holder(pid=pid, command=parts[4] if len(parts) > 4 else "", since=since,
                      host=parts[3] if len(parts) > 3 else "")

    def holder(self) -> Holder | None:
        if self._conn is not None:
            return self._holder(self._conn)
        with _connect(self.url, autocommit=True) as conn:
            return self._holder(conn)

    def release(self) -> None:
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        try:
            conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        except Exception:  # the connection is gone: the server released the lock with it
            pass
        finally:
            conn.close()

    def __enter__(self) -> "AdvisoryLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
