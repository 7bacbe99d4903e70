"""``aggregator status`` and ``aggregator feeds ...``: config edits keep comments and order;
autodiscovery over a loopback server; OPML round trip; moves applied."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from aggregator.cli import main
from aggregator.config import load_config
from aggregator.errors import ConfigError
from aggregator.models import FeedSource, FeedState, FeedView
from aggregator.sources.opml import from_opml, to_opml
from aggregator.store import open_store

ROOT_CONFIG = Path(__file__).resolve().parents[1] / "config.yaml"
FEED = (b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Found Feed"
        b"</title><link>http://example.org/</link><item><title>x</title><guid>1</guid></item>"
        b"</channel></rss>")
CONFIG = """\
# My digest — a comment that must survive
site:
  title: "Test"   # inline comment
storage:
  path: store.sqlite3

feeds:
  # Tamil
  - {name: One, url: "https://one.example/feed.xml", language: ta}
  # Sinhala
  - {name: Two, url: "https://two.example/rss"}
  - url: https://three.example/atom.xml   # block style
    name: Three
"""


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def run(cfg, *argv) -> int:
    return main(["--config", str(cfg), *argv])


def test_list(cfg, capsys):
    assert run(cfg, "feeds", "list") == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in out] == ["one", "two", "three"]


def test_add_discovers_the_feed_of_a_page_and_keeps_comments(cfg, server, capsys):
    feed = server.serve_bytes("/blog/feed.xml", FEED)
    page = server.serve_bytes("/blog/", b'<html><head><link rel="alternate" type="application/'
                                        b'atom+xml" href="feed.xml"></head></html>',
                              headers={"Content-Type": "text/html"})
    assert run(cfg, "feeds", "add", page, "--language", "en") == 0
    out = capsys.readouterr().out
    assert "found the feed" in out and feed in out
    text = cfg.read_text(encoding="utf-8")
    assert text.startswith(CONFIG)  # everything before, byte for byte
    assert text.endswith(f'  - name: Found Feed\n    url: "{feed}"\n    language: en\n')
    config = load_config(cfg)
    assert [f.name for f in config.feeds] == ["One", "Two", "Three", "Found Feed"]
    assert run(cfg, "feeds", "add", feed) == 0  # again: a duplicate is not added
    assert "already" in capsys.readouterr().out
    assert len(load_config(cfg).feeds) == 4


def test_add_refuses_what_is_not_a_feed(cfg, server, capsys):
    url = server.serve_bytes("/nothing", b"<html><body>no feed</body></html>",
                             headers={"Content-Type": "text/html"})
    assert run(cfg, "feeds", "add", url) == 2  # bad input, like a bad config (README)
    assert "links to no feed" in capsys.readouterr().err
    assert cfg.read_text(encoding="utf-8") == CONFIG
    assert run(cfg, "feeds", "add", url, "--no-fetch", "--name", "Anyway") == 0
    assert load_config(cfg).feeds[-1].name == "Anyway"


def test_remove_by_url_or_id_keeps_the_rest(cfg, capsys):
    assert run(cfg, "feeds", "remove", "https://two.example/rss") == 0
    text = cfg.read_text(encoding="utf-8")
    assert "two.example" not in text and "# Sinhala" in text and "# Tamil" in text
    assert "# block style" in text and "# inline comment" in text
    assert run(cfg, "feeds", "remove", "three") == 0
    assert [f.id for f in load_config(cfg).feeds] == ["one"]
    assert run(cfg, "feeds", "remove", "nope") == 2


def test_opml_round_trip_and_import_skips_duplicates(cfg, tmp_path, capsys):
    out = tmp_path / "feeds.opml"
    assert run(cfg, "feeds", "export", "-o", str(out)) == 0
    feeds = from_opml(out.read_bytes(), str(out))
    assert feeds == [("https://one.example/feed.xml", "One", "ta"),
                     ("https://two.example/rss", "Two", None),
                     ("https://three.example/atom.xml", "Three", None)]
    extra = tmp_path / "more.opml"
    extra.write_text("""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
      <outline text="News">
        <outline type="rss" text="Four" title="Four" xmlUrl="https://four.example/rss" language="si"/>
        <outline text="Deeper"><outline type="rss" text="Five" xmlUrl="https://five.example/rss"/></outline>
      </outline>
      <outline type="rss" text="One again" xmlUrl="https://one.example/feed.xml"/>
    </body></opml>""", encoding="utf-8")
    capsys.readouterr()
    assert run(cfg, "feeds", "import", str(extra)) == 0
    assert "imported 2" in capsys.readouterr().out and True
    config = load_config(cfg)
    assert [f.name for f in config.feeds][-2:] == ["Four", "Five"]
    assert config.feeds[3].language == "si"


def test_bad_opml_names_the_file(cfg, tmp_path, capsys):
    bad = tmp_path / "bad.opml"
    bad.write_text("<opml><body><outline", encoding="utf-8")
    assert run(cfg, "feeds", "import", str(bad)) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "not valid OPML" in err
    html = tmp_path / "page.opml"
    html.write_text("<html><body/></html>", encoding="utf-8")
    with pytest.raises(ConfigError, match="not an OPML document"):
        from_opml(html.read_bytes(), str(html))


def test_to_opml_is_opml_2():
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    views = [FeedView(FeedSource("a", "https://a.example/rss", "A & B", "ta"),
                      FeedState("a", "https://a.example/rss", title="A's own", site_link="https://a.example/")),
             FeedView(FeedSource("b", "file:///tmp/x.xml", "Local"))]
    text = to_opml(views, "Digest", now)
    assert '<opml version="2.0">' in text and "<dateCreated>Sun, 01 Mar 2026 00:00:00 GMT" in text
    assert 'xmlUrl="https://a.example/rss"' in text and 'htmlUrl="https://a.example/"' in text
    assert 'text="A &amp; B"' in text and 'language="ta"' in text and "file:" not in text
    assert from_opml(text.encode(), "x") == [("https://a.example/rss", "A's own", "ta")]


def _save_states(cfg, *states):
    config = load_config(cfg)
    with open_store(config.storage) as store:
        store.save_states(states)
    return config


def test_status_shows_health_and_moves(cfg, capsys):
    now = datetime.now(timezone.utc)
    _save_states(
        cfg,
        FeedState("one", "https://one.example/feed.xml", final_url="https://one.example/feed.xml",
                  last_status=200, last_success=now, next_due=now + timedelta(minutes=30),
                  title="One"),
        FeedState("two", "https://two.example/rss", final_url="https://new.two.example/rss",
                  moved_to="https://new.two.example/rss", last_status=200, last_success=now,
                  next_due=now + timedelta(minutes=30)),
        FeedState("three", "https://three.example/atom.xml", last_status=410, gone=True,
                  last_error="HTTP 410 Gone", failures=1))
    assert run(cfg, "status") == 0
    out = capsys.readouterr().out
    assert "one  [ok]" in out and "two  [moved]" in out and "three  [gone]" in out
    assert "moved: update config (aggregator feeds apply-moves): https://new.two.example/rss" in out
    assert "HTTP 410 Gone" in out and "3 feeds, 1 with problems, 1 moved" in out
    assert run(cfg, "status", "--json") == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["two"]["moved_to"] == "https://new.two.example/rss"
    assert rows["three"]["gone"] and rows["three"]["last_status"] == 410
    assert rows["one"]["health"] == "ok" and rows["one"]["due_now"] is False


def test_status_before_any_run(cfg, capsys):
    assert run(cfg, "status") == 0
    assert capsys.readouterr().out.count("never fetched yet") == 3
    assert not (cfg.parent / "store.sqlite3").exists()


def test_apply_moves_rewrites_the_config(cfg, capsys):
    _save_states(cfg, FeedState("two", "https://two.example/rss",
                                moved_to="https://new.two.example/rss"))
    assert run(cfg, "feeds", "apply-moves") == 0
    assert "two: https://two.example/rss -> https://new.two.example/rss" in capsys.readouterr().out
    text = cfg.read_text(encoding="utf-8")
    assert '- {name: Two, url: "https://new.two.example/rss"}' in text and "# Sinhala" in text
    assert [f.id for f in load_config(cfg).feeds] == ["one", "two", "three"]
    assert run(cfg, "feeds", "apply-moves") == 0
    assert "no feed has moved" in capsys.readouterr().out


def test_bars_are_drawn_on_a_terminal_only_and_not_with_quiet(monkeypatch):
    import io
    from types import SimpleNamespace

    from aggregator.cli.main import CountBar, Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("TERM", raising=False)
    t = Terminal()
    bar = CountBar("stored entries", 0, t)
    bar(0, 4)
    bar(2, 4)
    bar(4, 4)
    assert t.getvalue() == ("\r\x1b[2K[------------------------] 0/4 stored entries"
                            "\r\x1b[2K[############------------] 2/4 stored entries"
                            "\r\x1b[2K[########################] 4/4 stored entries\n")
    feed = SimpleNamespace(source=SimpleNamespace(id="bbc"), status="ok", new_entries=3, error=None)
    p = Progress(2, 0, 0, Terminal())
    p(feed)
    assert p.stream.getvalue() == "\r\x1b[2K[############------------] 1/2 bbc: ok, 3 new"
    for stream, quiet in ((Terminal(), 1), (io.StringIO(), 0)):  # --quiet, or not a terminal (cron)
        CountBar("x", quiet, stream)(1, 1)
        Progress(1, quiet, 0, stream)(feed)
        assert stream.getvalue() == ""
    monkeypatch.setenv("TERM", "dumb")
    dumb = Terminal()
    CountBar("x", 0, dumb)(1, 1)
    assert dumb.getvalue() == ""


def _diff(before: str, after: str) -> list[str]:
    import difflib

    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                                  lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_add_and_remove_change_only_their_lines_in_the_shipped_config(tmp_path, capsys):
    """The shipped config.yaml has multi-line keyword lists under topics and feeds in flow and
    block style: adding a feed adds its lines and nothing else, removing one removes only its
    lines, moving one changes its url line only."""
    shipped = ROOT_CONFIG.read_text(encoding="utf-8")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(shipped, encoding="utf-8")
    assert run(cfg, "feeds", "add", "https://new.example/feed.xml", "--no-fetch",
               "--name", "New Feed", "--language", "ta") == 0
    added = cfg.read_text(encoding="utf-8")
    diff = _diff(shipped, added)
    assert all(line.startswith("+") for line in diff), diff
    assert "new.example/feed.xml" in "".join(diff) and len(diff) <= 3, diff
    assert added.startswith(shipped.rstrip("\n"))
    config = load_config(cfg)
    assert config.feeds[-1].name == "New Feed" and config.feeds[-1].language == "ta"

    first = load_config(ROOT_CONFIG).feeds[0]
    assert run(cfg, "feeds", "remove", first.id) == 0
    removed = cfg.read_text(encoding="utf-8")
    diff = _diff(added, removed)
    assert diff and all(line.startswith("-") for line in diff), diff
    assert first.url in "".join(diff) or first.name in "".join(diff), diff
    assert first.id not in {f.id for f in load_config(cfg).feeds}

    assert run(cfg, "feeds", "remove", "https://new.example/feed.xml") == 0
    diff = _diff(removed, cfg.read_text(encoding="utf-8"))
    assert diff and all(line.startswith("-") for line in diff), diff
    assert len(diff) <= 3



def test_status_shows_times_in_the_site_time_zone(cfg, capsys):
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        'title: "Test"', 'title: "Test"\n  timezone: Asia/Colombo'), encoding="utf-8")
    success = datetime(2026, 2, 18, 3, 50, tzinfo=timezone.utc)
    _save_states(cfg, FeedState("one", "https://one.example/feed.xml", last_status=200,
                                last_success=success, next_due=datetime(2099, 1, 1, tzinfo=timezone.utc)))
    assert run(cfg, "status") == 0
    out = capsys.readouterr().out
    assert "last success: 2026-02-18 09:20 +0530" in out and "UTC" not in out.replace(
        "(times in Asia/Colombo)", "")
    assert "times in Asia/Colombo" in out and "3 feeds," in out
    assert run(cfg, "status", "--json") == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["one"]["last_success"] == "2026-02-18T09:20:00+05:30"


def test_command_line_counts_are_singular_for_one():
    from aggregator.i18n import Translator, plural_en

    assert [plural_en(n, "feed", "feeds") for n in (0, 1, 2, 1000)] == [
        "0 feeds", "1 feed", "2 feeds", "1,000 feeds"]
    en, ta, si = (Translator(u) for u in ("en", "ta", "si"))
    assert en.plural("status_failing_never", 1) == "Failing, never fetched successfully (1 attempt)"
    assert en.plural("status_failing_never", 3).endswith("(3 attempts)")
    assert en.count(1) == "1 entry" and en.count(2) == "2 entries"
    assert ta.count(1) == "1 பதிவு" and ta.count(5) == "5 பதிவுகள்"
    assert si.count(1) == "ලිපි 1" and si.count(0) == "ලිපි 0"
