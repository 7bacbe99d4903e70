"""Several `aggregator run` processes on one PostgreSQL store (a real server, tests/pg.py) share
the due feeds: 300 loopback feeds, 3 workers at once, every feed fetched once per cycle, the
entries those of a single run; a worker killed with SIGKILL mid-batch leaves its feeds to the
others once its lease ends."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

from aggregator.store import open_url

ROOT = Path(__file__).resolve().parents[1]
FEEDS = 300
LEASE = 15  # seconds: long enough that a busy machine renews it in time (every third of it)
WORDS = ("budget", "monsoon", "cricket", "election", "harbour", "tea", "railway", "school",
         "hospital", "festival", "court", "bridge")


def feed_body(n: int) -> bytes:
    items = "".join(
        f"<item><title>Feed {n} story {k}: {WORDS[(n + k) % len(WORDS)]} {WORDS[(n * 7 + k) % len(WORDS)]} "
        f"news number {n * 10 + k}</title><link>https://news{n}.example/{k}</link>"
        f"<guid isPermaLink=\"false\">n{n}-{k}</guid><pubDate>Tue, 0{1 + k} Dec 2025 0{k}:00:00 GMT</pubDate>"
        f"<description>Report {n}/{k} about the {WORDS[k % len(WORDS)]}.</description></item>"
        for k in range(3))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Feed {n}</title><link>https://news{n}.example/</link>{items}"
            f"</channel></rss>").encode()


class Hits:
    """The loopback server's log: when each feed was asked for."""

    def __init__(self, server, delay: float = 0.0):
        self.times: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()
        self.urls = []
        for n in range(FEEDS):
            body = feed_body(n)

            def route(h, body=body, path=f"/f{n}.xml"):
                with self.lock:
                    self.times[path].append(time.monotonic())
                if delay:
                    time.sleep(delay)
                h.send_response(200)
                h.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                h.wfile.write(body)

            self.urls.append(server.route(f"/f{n}.xml", route))


def config(folder: Path, urls: list[str], store: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["site:", "  output: site", "  days: 3650", "storage:", f"  {store}",
             "  batch: 20", f"  lease: {LEASE}s",
             "fetch:", "  per_host: 20", "  retries: 0", "feeds:"]
    lines += [f"  - {{name: Feed {n}, url: '{u}'}}" for n, u in enumerate(urls)]
    path = folder / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start(*args: str, kill_at: int | None = None) -> subprocess.Popen:
    """`aggregator run` in a process of its own; with ``kill_at``, it kills itself (SIGKILL)
    when it is about to store its ``kill_at``-th feed: mid-batch, with the others claimed."""
    env = {**os.environ, "AGGREGATOR_EMBEDDINGS": "0", "PYTHONPATH": str(ROOT)}
    if kill_at is None:
        argv = [sys.executable, "-m", "aggregator.cli", "run", *args]
    else:
        argv = [sys.executable, "-c", textwrap.dedent(f"""
            import os, signal, sys
            from aggregator import pipeline
            real, seen = pipeline._Run.finish, [0]
            def finish(self, *a, **k):
                seen[0] += 1
                if seen[0] == {kill_at}:
                    os.kill(os.getpid(), signal.SIGKILL)
                return real(self, *a, **k)
            pipeline._Run.finish = finish
            from aggregator.cli import main
            sys.exit(main(["run", *{list(args)!r}]))
        """)]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def stored(url: str) -> set[tuple]:
    with open_url(url) as store:
        return {(e.feed_id, e.guid, e.title, e.link, e.lang, e.topic, e.published, e.summary_html)
                for e in store.entries()}


@pytest.fixture(scope="module")
def single_run(tmp_path_factory, postgres):
    """What one process alone stores from the 300 feeds."""
    from conftest import LoopbackServer

    server = LoopbackServer()
    try:
        hits = Hits(server)
        url = postgres.new_database()
        cfg = config(tmp_path_factory.mktemp("single"), hits.urls, f"url: {url}")
        code, out, err = finish(start("--no-render", "--config", str(cfg)))
        assert code == 0, err
        assert f"{FEEDS} feeds ok" in out, out
        return stored(url)
    finally:
        server.close()


def test_three_workers_share_the_feeds_and_store_what_one_would(tmp_path, server, postgres,
                                                               single_run):
    hits = Hits(server, delay=0.02)
    url = postgres.new_database()
    cfg = config(tmp_path, hits.urls, f"url: {url}")
    procs = [start("--config", str(cfg)) for _ in range(3)]
    results = [finish(p) for p in procs]
    assert [code for code, _, _ in results] == [0, 0, 0], [err for _, _, err in results]
    assert sorted(len(hits.times[f"/f{n}.xml"]) for n in range(FEEDS)) == [1] * FEEDS  # once each
    # the feeds were shared: each worker fetched some, and accounted for the rest as fetched
    # by the others (or not due any more, for a worker that began after they were stored)
    oks = [int(re.match(r"(\d+) feeds? ok", out).group(1)) for _, out, _ in results]
    assert sum(oks) == FEEDS and all(n > 0 for n in oks), [out for _, out, _ in results]
    for n, (_, out, _) in zip(oks, results):
        m = re.search(r"(\d+) not due(?:, (\d+) fetched by other runs)?;", out)
        assert m and n + int(m.group(1)) + int(m.group(2) or 0) == FEEDS, out
    assert any("fetched by other runs" in out for _, out, _ in results)
    assert stored(url) == single_run
    with open_url(url) as store:
        assert all(e.story for e in store.entries(content=False))  # every entry grouped
        stale = store.site_stale()
    # one built the site at a time; what a build did not show, the next run builds
    assert (tmp_path / "site" / "index.html").exists()
    code, out, err = finish(start("--config", str(cfg)))
    assert code == 0 and "0 feeds ok" in out and f"{FEEDS} not due" in out, (out, err)
    assert ("pages written" in out) == stale, out
    with open_url(url) as store:
        assert not store.site_stale()
    assert sorted(len(t) for t in hits.times.values()) == [1] * FEEDS  # nothing fetched again


def test_a_worker_killed_mid_batch_leaves_its_feeds_to_the_others_after_its_lease(
        tmp_path, server, postgres, single_run):
    hits = Hits(server, delay=0.05)
    url = postgres.new_database()
    cfg = config(tmp_path, hits.urls, f"url: {url}")
    doomed = start("--no-render", "--config", str(cfg), kill_at=3)
    deadline = time.monotonic() + 60
    while not hits.times and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hits.times, "the first worker fetched nothing"
    t0 = time.monotonic()
    others = [start("--no-render", "--config", str(cfg)) for _ in range(2)]
    assert doomed.wait(120) == -signal.SIGKILL
    results = [finish(p) for p in others]
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    assert stored(url) == single_run  # nothing lost
    assert all(hits.times[f"/f{n}.xml"] for n in range(FEEDS))
    twice = {p: t for p, t in hits.times.items() if len(t) > 1}
    # the killed worker's batch: asked for by it, then by another once its lease had ended
    assert 1 <= len(twice) <= 20, {p: len(t) for p, t in twice.items()}
    assert all(len(t) == 2 and t[1] - t[0] >= LEASE - 1 for t in twice.values())
    assert time.monotonic() - t0 >= LEASE - 1  # the others waited for the lease, then took over
    with open_url(url) as store:
        assert all(e.story for e in store.entries(content=False))
