"""A real PostgreSQL server for the tests: initdb and pg_ctl into a temporary folder.

The server listens on a free loopback port (and a socket in its folder), trusts local
connections and runs with fsync off (a test database is thrown away). As root it runs as the
``postgres`` user (PostgreSQL refuses root). Debian's ``postgresql`` package brings the programs
(``scripts/test.sh`` installs it); they are found on PATH, under /usr/lib/postgresql/*/bin or in
$AGGREGATOR_PG_BIN.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


def find_bin() -> Path | None:
    """The folder of initdb and pg_ctl, or None."""
    if os.environ.get("AGGREGATOR_PG_BIN"):
        return Path(os.environ["AGGREGATOR_PG_BIN"])
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def missing() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None."""
    if find_bin() is None:
        return "PostgreSQL is not installed (apt-get install postgresql)"
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        return "the extra postgres is not installed (pip install -e '.[postgres]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One server for a test session; ``new_database()`` gives each test a database of its own."""

    def __init__(self):
        self.bin = find_bin()
        assert self.bin is not None
        self.root = Path(tempfile.mkdtemp(prefix="aggregator-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "aggregator"
        as_root = os.geteuid() == 0
        runuser = shutil.which("runuser") or next(
            (p for p in ("/usr/sbin/runuser", "/sbin/runuser") if os.path.exists(p)), "runuser")
        self._run_as = [runuser, "-u", "postgres", "--"] if as_root else []
        if as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._cmd(["initdb", "-D", str(self.data), "-A", "trust", "-U", self.user, "-E", "UTF8",
                   "--locale=C", "--no-sync"])
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._cmd(["pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                   "-w", "-t", "60", "start"])

    def _cmd(self, argv: list[str]) -> None:
        argv = [*self._run_as, str(self.bin / argv[0]), *argv[1:]]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stdout}{done.stderr}{log[-2000:]}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._cmd(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
