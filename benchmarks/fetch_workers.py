"""Several `aggregator run` processes on one PostgreSQL store, beside one run on SQLite
(``benchmarks/fetch.py --store postgresql://user@host/database``).

For each setting — SQLite with 1 process, PostgreSQL with 1, 2 and 4 processes started at once —
a fresh store, then ``aggregator run --all`` in each process: the first run (every feed new) and
the all-304 run (every feed forced, every answer a 304). Printed per setting: wall time from the
first start to the last end, CPU time of all processes (and their parse workers), peak resident
memory of all of them together, how the feeds were shared (feeds ok per process) and the stored
entries, which must be those of the SQLite run. Each PostgreSQL setting gets a database of its
own (``<database>_bench_<n>``, dropped afterwards): the URL's user must be allowed to create
databases. Exit 1 when a setting did not store what the SQLite run stored.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def _config(work: Path, urls: list[str], concurrency: int, store_line: str) -> Path:
    """fetch.py's config, with the store of the setting."""
    from fetch import write_config

    path = write_config(work, urls, concurrency)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  path: store.sqlite3\n", f"  {store_line}\n", 1), encoding="utf-8")
    return path


def _database(url: str, name: str, create: bool) -> str:
    """Create (or drop) the database ``name`` on the server of ``url``; its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        if create:
            conn.execute(f"CREATE DATABASE {name}")
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _tree_rss_mb(pids: list[int]) -> float:
    from fetch import _descendants, _rss_mb

    return sum(_rss_mb(p) for top in pids for p in _descendants(top))


def _runs(config: Path, n: int) -> tuple[float, float, float, list[str]]:
    """``aggregator run --all`` in ``n`` processes at once: wall s, CPU s, peak MB, summaries."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "aggregator.cli", "run", "--all", "-q",
                               "--config", str(config)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=config.parent)
             for _ in range(n)]
    peak, stop = [0.0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss_mb([p.pid for p in procs]))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu, lines = 0.0, []
    for proc in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        cpu += usage.ru_utime + usage.ru_stime
        out, err = proc.stdout.read(), proc.stderr.read()
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"aggregator run failed ({n} processes):\n{err[-3000:]}")
        lines.append(out.strip().splitlines()[0])
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    return wall, cpu, peak[0], lines


def _ok(line: str) -> str:
    """The feeds ok and the time of one process's summary line."""
    ok = re.match(r"(\d+) feeds? ok", line)
    took = re.search(r"\((\d+\.\d)s\)$", line)
    return f"{ok.group(1) if ok else '?'} in {took.group(1) if took else '?'} s"


def compare(store_url: str, urls: list[str], concurrency: int) -> int:
    """The figures of every setting, printed; 1 when one stored other entries than SQLite's."""
    from aggregator.store import open_url

    settings = [("sqlite", 1), ("postgres", 1), ("postgres", 2), ("postgres", 4)]
    want = None
    failed = []
    print(f"\n{'store, processes':22s} {'run':9s} {'wall':>8s} {'CPU':>8s} {'peak':>9s}  "
          "feeds ok in how long, per process; entries stored")
    for kind, n in settings:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            if kind == "sqlite":
                target = f"sqlite:{work / 'store.sqlite3'}"
                store_line = "path: store.sqlite3"
            else:
                name = (urlsplit(store_url).path.strip("/") or "aggregator") + f"_bench_{n}"
                target = _database(store_url, name, create=True)
                store_line = f"url: {target}"
            config = _config(work, urls, concurrency, store_line)
            try:
                for run in ("first", "all-304"):
                    wall, cpu, peak, lines = _runs(config, n)
                    with open_url(target) as store:
                        entries = {(e.feed_id, e.guid) for e in store.entries(content=False)}
                    if want is None:
                        want = entries
                    same = entries == want
                    if not same:
                        failed.append(f"{kind} x{n}")
                    print(f"{kind + ', ' + str(n):22s} {run:9s} {wall:7.1f}s {cpu:7.1f}s "
                          f"{peak:7.0f} MB  {', '.join(_ok(x) for x in lines)}; "
                          f"{len(entries):,}{'' if same else ' (NOT the SQLite entries)'}")
            finally:
                if kind == "postgres":
                    _database(store_url, name, create=False)
    if failed:
        print("FAILED: other entries than the SQLite run's: " + ", ".join(failed))
        return 1
    return 0
