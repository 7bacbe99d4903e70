"""Safe under cron: real `aggregator` processes on one store, kill -9 at points inside a run,
a loopback server serving hostile feeds, the user's files in the output folder."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from aggregator.render.views import _anchor
from aggregator.store import SQLiteStore
from aggregator.store.lock import FileLock

DATA = Path(__file__).resolve().parent / "data" / "feeds"
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
ROOT = Path(__file__).resolve().parents[1]


def config(tmp_path: Path, feeds: list[tuple[str, str]], site: str = "",
           interval: str = "30m") -> Path:
    lines = ["site:", "  title: Test digest", "  output: site", "  days: 3650", *site.splitlines(),
             "storage:", "  path: store.sqlite3",
             "fetch:", "  timeout: 10s", "  retries: 0",
             "schedule:", f"  interval: {interval}",
             "feeds:"]
    lines += [f"  - {{name: {name}, url: '{url}'}}" for name, url in feeds]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def aggregator(*args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "AGGREGATOR_EMBEDDINGS": "0", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "aggregator.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def run(*args: str) -> tuple[int, str, str]:
    return finish(aggregator(*args))


def slow(server, path: str, body: bytes, seconds: float, started: threading.Event | None = None):
    """A route that waits ``seconds`` before answering."""
    def fn(h):
        if started is not None:
            started.set()
        time.sleep(seconds)
        h.send_response(200)
        for k, v in RSS.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
    return server.route(path, fn)


def real_feeds(server) -> list[tuple[str, str]]:
    return [("Colombo Notes", server.serve_bytes("/mixed.xml", (DATA / "mixed-blogger.xml").read_bytes(),
                                                 headers=RSS)),
            ("Virakesari", server.serve_bytes("/ta.xml", (DATA / "ta-virakesarilk.xml").read_bytes(),
                                              headers=RSS)),
            ("Ada", server.serve_bytes("/si.xml", (DATA / "si-adalk.xml").read_bytes(), headers=RSS))]


def missing_from_site(tmp_path: Path) -> list[str]:
    """Stored entries of which no page of their feed shows the article or its story."""
    site = tmp_path / "site"
    anchors: set[str] = set()
    for page in (site / "feeds").glob("*.html"):
        anchors.update(re.findall(r'id="(e-[0-9a-f]+)"', page.read_text(encoding="utf-8")))
    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        entries = store.entries(content=False)
    stories: dict[str, list] = {}
    for e in entries:
        stories.setdefault(e.story or f"lone-{e.id}", []).append(e)
    missing = []
    for members in stories.values():  # a story is shown once, at one of its versions
        if not any("e-" + _anchor(e.feed_id, e.guid) in anchors for e in members):
            missing += [e.guid for e in members]
    return missing


def hits(server, path: str) -> int:
    return sum(1 for p, _ in server.requests if p == path)


# -- one writer at a time -------------------------------------------------------------------

def test_a_second_run_exits_75_at_once_and_the_first_finishes(tmp_path, server):
    started = threading.Event()
    feeds = real_feeds(server) + [("Slow", slow(server, "/slow.xml", (DATA / "npr-world.xml").read_bytes(),
                                                3.0, started))]
    cfg = config(tmp_path, feeds)
    first = aggregator("run", "--config", str(cfg))
    assert started.wait(60)  # the first run holds the store and is downloading
    t0 = time.monotonic()
    code, out, err = run("run", "--config", str(cfg))
    assert code == 75, err
    assert time.monotonic() - t0 < 20  # at once: it did not wait for the first (module load aside)
    assert re.search(rf"another run \(pid {first.pid}, since [0-9: -]+ UTC\) is in progress on "
                     rf".*store\.sqlite3; not starting \(--wait waits for it\)", err), err
    assert len(err.strip().splitlines()) == 1 and out == ""
    code, out, err = finish(first)
    assert code == 0, err
    assert hits(server, "/slow.xml") == 1 and hits(server, "/ta.xml") == 1  # fetched once
    assert missing_from_site(tmp_path) == []


def test_wait_runs_after_the_first_run_and_fetches_nothing_twice(tmp_path, server):
    started = threading.Event()
    feeds = real_feeds(server) + [("Slow", slow(server, "/slow.xml", (DATA / "npr-world.xml").read_bytes(),
                                                2.0, started))]
    cfg = config(tmp_path, feeds)
    first = aggregator("run", "--config", str(cfg))
    assert started.wait(60)
    second = aggregator("run", "--wait", "--config", str(cfg))
    code1, _, err1 = finish(first)
    code2, out2, err2 = finish(second)
    assert (code1, code2) == (0, 0), (err1, err2)
    assert "waiting for it" in err2
    assert "0 feeds ok" in out2 and "4 not due" in out2  # it ran after, when nothing was due
    assert all(hits(server, p) == 1 for p in ("/mixed.xml", "/ta.xml", "/si.xml", "/slow.xml"))
    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        states = store.feed_states()
    assert all(s.failures == 0 and s.last_success is not None for s in states.values())


def test_render_while_a_run_holds_the_store_exits_75_and_wait_gives_up_after_its_seconds(tmp_path):
    cfg = config(tmp_path, [("Ada", str(DATA / "si-adalk.xml"))])
    assert run("run", "--config", str(cfg))[0] == 0
    with SQLiteStore(tmp_path / "store.sqlite3") as store, store.lock("run"):
        code, _, err = run("render", "--config", str(cfg))
        assert code == 75 and "another run (pid" in err
        t0 = time.monotonic()
        code, _, err = run("render", "--wait", "1", "--config", str(cfg))
        assert code == 75 and "waiting for it (at most 1 s)" in err
        assert time.monotonic() - t0 >= 1
    assert run("render", "--config", str(cfg))[0] == 0


def test_serve_skips_a_tick_while_another_run_holds_the_store(tmp_path):
    cfg = config(tmp_path, [("Ada", str(DATA / "si-adalk.xml"))], interval="1s")
    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        lock = store.lock("run")
    lock.acquire()
    proc = aggregator("serve", "--config", str(cfg), "--no-http")  # the lock, not the preview
    try:
        time.sleep(4)  # the first ticks find the store held
        assert proc.poll() is None
        lock.release()
        time.sleep(5)  # a later tick runs
    finally:
        proc.send_signal(signal.SIGTERM)
        code, out, err = finish(proc, 60)
    assert "skipping this run: another run (pid" in err, err
    assert "1 feed ok" in out, (out, err)  # a later tick ran once the store was free
    assert (tmp_path / "site" / "index.html").exists()


# -- nothing lost when a run is killed --------------------------------------------------------

def killed_at(cfg: Path, target: str, attribute: str) -> int:
    """Run ``aggregator run`` in a process that kills itself with SIGKILL when ``target`` (a
    module) reaches ``attribute`` (a function or method): a kill -9 at that very point."""
    code = textwrap.dedent(f"""
        import os, signal, sys, importlib
        mod = importlib.import_module({target!r})
        owner, _, name = {attribute!r}.rpartition(".")
        obj = getattr(mod, owner) if owner else mod
        def die(*a, **k):
            os.kill(os.getpid(), signal.SIGKILL)
        setattr(obj, name, die)
        from aggregator.cli import main
        sys.exit(main(["run", "--config", {str(cfg)!r}]))
    """)
    env = {**os.environ, "AGGREGATOR_EMBEDDINGS": "0", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          timeout=120).returncode


@pytest.mark.parametrize("target,attribute", [
    ("aggregator.pipeline", "_assign_stories"),  # every entry stored, none grouped yet
    ("aggregator.store.sql", "SQLStore.set_site_built"),  # grouped, site built but not recorded
    ("aggregator.render.publish", "Publisher.commit"),  # every page rendered, not published
    ("aggregator.render.publish", "_exchange"),  # about to swap the new site in
])
def test_kill_9_inside_a_run_then_run_again_every_entry_is_on_the_site(tmp_path, server, target,
                                                                       attribute):
    feeds = real_feeds(server)
    assert run("run", "--config", str(config(tmp_path, feeds[:1])))[0] == 0  # a site is up
    cfg = config(tmp_path, feeds)
    assert killed_at(cfg, target, attribute) == -signal.SIGKILL
    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        assert store.entry_count() > 100  # what the killed run stored is still there
    code, out, err = run("run", "--config", str(cfg))
    assert code == 0, err
    assert "nothing changed" not in out  # nothing new was fetched, but the site was finished
    assert missing_from_site(tmp_path) == []
    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        assert all(e.story for e in store.entries(content=False))  # every entry was grouped
        assert not store.site_stale()
    assert "nothing changed" in run("run", "--config", str(cfg))[1]


def test_kill_9_while_downloading_then_run_again(tmp_path, server):
    started = threading.Event()
    feeds = real_feeds(server) + [("Slow", slow(server, "/slow.xml", (DATA / "npr-world.xml").read_bytes(),
                                                30.0, started))]
    cfg = config(tmp_path, feeds)
    proc = aggregator("run", "--config", str(cfg))
    assert started.wait(60)
    time.sleep(1.5)  # the other feeds are stored meanwhile
    proc.kill()
    proc.wait()
    server.serve_bytes("/slow.xml", (DATA / "npr-world.xml").read_bytes(), headers=RSS)
    code, _, err = run("run", "--config", str(cfg))
    assert code == 0, err
    assert missing_from_site(tmp_path) == []
    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        assert {e.feed_id for e in store.entries(content=False)} == {"colombo-notes", "virakesari",
                                                                    "ada", "slow"}


# -- the output folder is the user's ----------------------------------------------------------

def users_things(site: Path) -> None:
    (site / ".git" / "refs" / "tags").mkdir(parents=True)  # empty, as git leaves it
    (site / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    (site / "CNAME").write_text("digest.example.org\n")
    (site / ".nojekyll").write_text("")
    (site / "media").mkdir()
    for i in range(50):
        (site / "media" / f"{i}.jpg").write_bytes(b"\xff\xd8" + bytes([i]) * 100)
    (site / "media" / "empty").mkdir()
    (site / "pictures").symlink_to("media")  # a link to a folder
    (site / "logo.jpg").symlink_to("media/1.jpg")  # a link to a file


def check_users_things(site: Path) -> None:
    assert (site / ".git" / "refs" / "tags").is_dir()
    assert (site / ".git" / "HEAD").read_text() == "ref: refs/heads/gh-pages\n"
    assert (site / "CNAME").read_text() == "digest.example.org\n"
    assert (site / ".nojekyll").exists()
    assert sorted(p.name for p in (site / "media").iterdir()) == sorted(
        [f"{i}.jpg" for i in range(50)] + ["empty"])
    assert (site / "media" / "7.jpg").read_bytes() == b"\xff\xd8" + bytes([7]) * 100
    assert (site / "pictures").is_symlink() and os.readlink(site / "pictures") == "media"
    assert (site / "logo.jpg").is_symlink() and os.readlink(site / "logo.jpg") == "media/1.jpg"


def test_the_users_files_in_the_output_folder_survive_every_build(tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_bytes((DATA / "si-adalk.xml").read_bytes())
    cfg = config(tmp_path, [("Ada", str(feed)), ("Virakesari", str(DATA / "ta-virakesarilk.xml"))])
    site = tmp_path / "site"
    site.mkdir()
    users_things(site)
    assert run("run", "--config", str(cfg))[0] == 0
    check_users_things(site)
    assert (site / "index.html").exists() and (site / "feeds" / "virakesari.html").exists()
    # a feed leaves the config: its pages go, the user's things stay
    cfg.write_text(cfg.read_text().replace(f"  - {{name: Virakesari, url: '{DATA / 'ta-virakesarilk.xml'}'}}\n", ""))
    assert run("run", "--config", str(cfg))[0] == 0
    assert run("render", "--config", str(cfg))[0] == 0
    check_users_things(site)
    assert not (site / "feeds" / "virakesari.html").exists()


def test_a_users_folder_where_the_site_writes_a_file_stops_the_build_and_touches_nothing(tmp_path):
    cfg = config(tmp_path, [("Ada", str(DATA / "si-adalk.xml"))])
    assert run("run", "--config", str(cfg))[0] == 0
    site = tmp_path / "site"
    before = sorted(p.relative_to(site) for p in site.rglob("*"))
    (site / "feeds.html").unlink()
    (site / "feeds.html").mkdir()  # the user put a folder where a page goes
    (site / "feeds.html" / "mine.txt").write_text("keep me")
    code, _, err = run("render", "--config", str(cfg))
    assert code == 1 and "a folder of yours stands where the site writes a file" in err
    assert "Traceback" not in err and (site / "feeds.html" / "mine.txt").read_text() == "keep me"
    assert (site / "index.html").exists() and len(before) > 10


def test_overlapping_builds_into_one_folder_wait_for_each_other(tmp_path):
    from aggregator.render.publish import Publisher

    out = tmp_path / "site"
    first = Publisher(out)
    for i in range(200):
        first.write(f"p/{i}.html", b"first %d" % i, f"fp{i}")
    second_done = threading.Event()

    def second_build():
        pub = Publisher(out)  # waits for the first build, then cleans up only what is dead
        pub.write("index.html", b"second", "fp")
        for i in range(200):
            pub.write(f"p/{i}.html", b"second %d" % i, f"fp2{i}")
        pub.commit()
        second_done.set()

    t = threading.Thread(target=second_build)
    t.start()
    time.sleep(0.5)
    assert not second_done.is_set()  # it waits
    first.write("index.html", b"first", "fp")
    first.commit()  # its temporary folder was not deleted under it
    t.join(30)
    assert second_done.is_set()
    assert (out / "index.html").read_bytes() == b"second"
    assert len(list((out / "p").iterdir())) == 200
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


# -- hostile values --------------------------------------------------------------------------

HOSTILE = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hostile</title><link>javascript:alert(1)</link>
<item><title>From year one</title><link>https://h.example/1</link><guid>one</guid>
<pubDate>Mon, 01 Jan 0001 00:00:00 GMT</pubDate></item>
<item><title>From the far future</title><link>https://h.example/2</link><guid>two</guid>
<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate></item>
<item><title>{title}</title><link>javascript:alert(document.cookie)</link><guid>{guid}</guid>
<author>{author}</author>{categories}<pubDate>Tue, 02 Dec 2025 10:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_hostile_values_are_clamped_and_every_later_run_works(tmp_path, server):
    body = HOSTILE.format(title="T" * 5_000_000, author="A" * 5000, guid="g" * 100_000,
                          categories="".join(f"<category>c{i}</category>" for i in range(500)))
    url = server.serve_bytes("/hostile.xml", body.encode(), headers=RSS)
    cfg = config(tmp_path, [("Hostile", url), ("Ada", str(DATA / "si-adalk.xml"))],
                 site="  timezone: America/New_York")
    for _ in range(2):
        code, out, err = run("run", "--all", "--config", str(cfg))
        assert code == 0 and "Traceback" not in err, err
    site = tmp_path / "site"
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    assert size < 5_000_000, size  # a 5 MB title copied into every listing made 167 MB
    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        hostile = [e for e in store.entries() if e.feed_id == "hostile"]
    by_title = {e.title[:19]: e for e in hostile}
    one, future = by_title["From year one"], by_title["From the far future"]
    long = by_title["T" * 19]
    # dates out of range are taken for missing: such an entry is dated when it was first seen
    assert one.published == future.published and one.published > long.published
    assert abs((one.published - datetime.now(timezone.utc)).total_seconds()) < 600
    assert len(long.title) == 1000 and len(long.guid) == 1000 and len(long.author or "") <= 1000
    assert len(long.categories) == 50 and long.link is None
    for name in ("opml.xml", "atom.xml", "feed.json", "index.html", "feeds.html"):
        assert "javascript:" not in (site / name).read_text(encoding="utf-8"), name


# -- --all does not override a server's wishes -----------------------------------------------

def test_run_all_fetches_what_is_not_due_but_not_what_the_server_asked_us_to_leave(tmp_path, server):
    ok = server.serve_bytes("/ok.xml", (DATA / "si-adalk.xml").read_bytes(), headers=RSS)
    busy = server.serve_bytes("/busy.xml", b"later", status=503,
                              headers={"Content-Type": "text/plain", "Retry-After": "3600"})
    gone = server.serve_bytes("/gone.xml", b"", status=410, headers={"Content-Type": "text/plain"})
    cfg = config(tmp_path, [("Ok", ok), ("Busy", busy), ("Gone", gone)])
    assert run("run", "--config", str(cfg))[0] == 0
    code, out, _ = run("run", "--all", "--config", str(cfg))
    assert code == 0
    assert (hits(server, "/ok.xml"), hits(server, "/busy.xml"), hits(server, "/gone.xml")) == (2, 1, 1)
    assert "1 feed ok" in out and "2 not due" in out


# -- a damaged store -------------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"these are my notes, not a database\n" * 10])
def test_a_file_that_is_not_a_store_is_refused_and_left_alone(tmp_path, content):
    cfg = config(tmp_path, [("Ada", str(DATA / "si-adalk.xml"))])
    (tmp_path / "store.sqlite3").write_bytes(content)
    for command in ("run", "render", "status"):
        code, out, err = run(command, "--config", str(cfg))
        assert code == 1, (command, err)
        assert "store.sqlite3" in err and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err
    assert (tmp_path / "store.sqlite3").read_bytes() == content
    assert not (tmp_path / "site").exists()


def test_a_store_damaged_inside_fails_with_one_line_that_says_what_to_do(tmp_path):
    cfg = config(tmp_path, [("Ada", str(DATA / "si-adalk.xml")),
                            ("Virakesari", str(DATA / "ta-virakesarilk.xml"))])
    assert run("run", "--config", str(cfg))[0] == 0
    path = tmp_path / "store.sqlite3"
    with SQLiteStore(path) as store:  # fold the write-ahead log into the file
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    for p in range(2, len(data) // page - 1, 2):  # garbage over every other inner page
        data[p * page:(p + 1) * page] = os.urandom(page)
    path.write_bytes(bytes(data))
    for command in ("run", "render", "status"):
        code, out, err = run(command, "--all", "--config", str(cfg)) if command == "run" else \
            run(command, "--config", str(cfg))
        assert code == 1, (command, out, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert "store.sqlite3" in err and ("damaged" in err or "restore a backup" in err), err


# -- the public page says what failed in words ------------------------------------------------

def test_feeds_page_says_what_failed_without_local_paths(tmp_path):
    folder = tmp_path / "not-a-feed"
    folder.mkdir()
    cfg = config(tmp_path, [("Ada", str(DATA / "si-adalk.xml")), ("Mine", str(folder))])
    assert run("run", "--config", str(cfg))[0] == 0
    page = (tmp_path / "site" / "feeds.html").read_text(encoding="utf-8")
    assert "the feed&#39;s file could not be read" in page or "the feed's file could not be read" in page
    assert str(folder) not in page and str(tmp_path) not in page
    code, out, _ = run("status", "--config", str(cfg))
    assert str(folder) in out  # the owner still sees the whole error


def test_a_config_edit_waits_for_another_edit(tmp_path):
    cfg = config(tmp_path, [("Ada", str(DATA / "si-adalk.xml"))])
    lock = FileLock(tmp_path / ".config.yaml.lock", "edit", str(cfg))
    lock.acquire()
    proc = aggregator("feeds", "add", "--no-fetch", "--config", str(cfg), str(DATA / "npr-world.xml"))
    time.sleep(3)
    assert proc.poll() is None  # waiting
    lock.release()
    code, out, err = finish(proc)
    assert code == 0 and "waiting for it" in err and "added" in out
    assert "npr-world.xml" in cfg.read_text()


def test_the_parse_workers_of_a_killed_run_end_too(tmp_path):
    import uuid

    feeds = []
    for i in range(20):  # enough feeds for the run to parse in worker processes
        path = tmp_path / f"f{i}.xml"
        path.write_bytes((DATA / ("si-adalk.xml", "ta-virakesarilk.xml")[i % 2]).read_bytes()
                         .replace(b"<guid", f"<!-- {i} --><guid".encode(), 1))
        feeds.append((f"Feed {i}", str(path)))
    cfg = config(tmp_path, feeds)
    mark = uuid.uuid4().hex
    proc = subprocess.Popen([sys.executable, "-m", "aggregator.cli", "run", "--config", str(cfg)],
                            env={**os.environ, "AGGREGATOR_EMBEDDINGS": "0", "PYTHONPATH": str(ROOT),
                                 "AGGREGATOR_TEST_MARK": mark},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def workers() -> list[int]:
        found = []
        for name in os.listdir("/proc"):
            try:
                environ = Path(f"/proc/{name}/environ").read_bytes()
                cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            except (OSError, ValueError):
                continue
            if mark.encode() in environ and b"spawn_main" in cmdline:
                found.append(int(name))
        return found

    deadline = time.monotonic() + 60
    while not workers() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert workers(), "the run used no worker process"
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while workers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workers() == []  # none is left waiting for ever
