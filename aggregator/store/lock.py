"""One writer at a time: a named lock per store, held by the process that writes.

The lock is a small interface (``acquire`` / ``release``, or ``with``), so that each store keeps
it where it can: beside a SQLite file an OS file lock (``FileLock``: ``fcntl.flock`` on
``<store>-<name>.lock``, released by the kernel when its process ends, ``kill -9`` included);
in PostgreSQL an advisory lock (``postgres.AdvisoryLock``, released by the server when its
holder's connection ends). Each says who holds it (pid, command, since when), for the message a
second run prints.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from ..errors import StoreError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; the lock is then advisory only
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as far as it said."""

    pid: int | None = None
    command: str = ""
    since: str = ""  # ISO time the lock was taken
    host: str = ""  # the machine it runs on, when another one may (PostgreSQL)

    def describe(self) -> str:
        who = f"pid {self.pid}" if self.pid else "another process"
        if self.host:
            who += f" on {self.host}"
        return f"{who}, since {self.since[:19].replace('T', ' ')} UTC" if self.since else who


class Busy(StoreError):
    """The lock is held by another process (``holder``) and we were not to wait (longer)."""

    def __init__(self, name: str, where: str, holder: Holder):
        self.name, self.where, self.holder = name, where, holder
        super().__init__(f"another {name} ({holder.describe()}) is in progress on {where}")


class Lock(Protocol):
    """A lock between processes: what every store's ``lock(name)`` returns."""

    def acquire(self, wait: float | None = 0) -> None:
        """Take the lock; ``wait``: seconds to wait for it (None: as long as it takes, 0: not
        at all). Raises ``Busy`` when it stays held."""

    def release(self) -> None: ...

    def holder(self) -> Holder | None:
        """Who holds it now (None: nobody)."""

    def __enter__(self) -> "Lock": ...

    def __exit__(self, *exc: object) -> None: ...


class FileLock:
    """``fcntl.flock`` on a file beside the store; see the module doc."""

    POLL = 0.2  # seconds between tries while waiting

    def __init__(self, path: str | Path, name: str, where: str):
        self.path = Path(path)
        self.name, self.where = name, where
        self._fd: int | None = None

    def acquire(self, wait: float | None = 0) -> None:
        if self._fd is not None:
            raise StoreError(f"{self.path}: the {self.name} lock is already held by this process")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise StoreError(f"{self.path}: cannot create the lock file: {e.strerror or e}") from e
        deadline = None if wait is None else time.monotonic() + wait
        try:
            while not self._try(fd):
                if deadline is not None and time.monotonic() >= deadline:
                    raise Busy(self.name, self.where, self._read(fd) or Holder())
                time.sleep(self.POLL)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._write(fd)

    @staticmethod
    def _try(fd: int) -> bool:
        if fcntl is None:  # pragma: no cover
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    @staticmethod
    def _write(fd: int) -> None:
        info = {"pid": os.getpid(), "command": " ".join(sys.argv[:3])[:200],
                "since": datetime.now(timezone.utc).isoformat()}
        data = json.dumps(info).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)

    @staticmethod
    def _read(fd: int) -> Holder | None:
        try:
            raw = os.pread(fd, 4096, 0)
            info = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (OSError, ValueError):
            return None
        if not isinstance(info, dict):
            return None
        pid = info.get("pid")
        return Holder(pid=pid if isinstance(pid, int) else None, command=str(info.get("command", "")),
                      since=str(info.get("since", "")))

    def holder(self) -> Holder | None:
        if self._fd is not None:
            return self._read(self._fd)
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError:
            return None
        try:
            if self._try(fd):
                return None  # nobody holds it (we released our try at close)
            return self._read(fd) or Holder()
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # says nobody: a stale "pid N" would mislead
        except OSError:
            pass
        os.close(fd)  # closing the descriptor releases the flock

    def __enter__(self) -> "FileLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
