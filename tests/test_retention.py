"""Retention: ``storage.keep_days`` deletes old entries from the store and the site's listings in
the same run; ``storage.keep_archive`` keeps or removes the archive pages of the days pruned."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

from aggregator.cli import main
from aggregator.store import SQLiteStore
from render_data import entry

NOW = datetime.now(timezone.utc).replace(microsecond=0)
AGES = {"fresh": 1, "week": 7, "old": 60, "ancient": 400}  # days


def feed(path: Path) -> None:
    items = "".join(
        f"<item><title>Entry {name}</title><guid>{name}</guid>"
        f"<link>https://example.org/{name}</link>"
        f"<pubDate>{format_datetime(NOW - timedelta(days=days))}</pubDate>"
        f"<description>Parliament news about {name}.</description></item>"
        for name, days in AGES.items())
    path.write_text(f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
                    f"<link>https://example.org/</link>{items}</channel></rss>", encoding="utf-8")


def config(tmp_path: Path, storage: str) -> Path:
    feed(tmp_path / "feed.xml")
    p = tmp_path / "config.yaml"
    p.write_text(f"site: {{output: site, days: 3650}}\nstorage:\n  path: s.sqlite3\n{storage}"
                 "feeds:\n  - {name: T, url: feed.xml, language: en}\n", encoding="utf-8")
    return p


def day_page(tmp_path: Path, days: int) -> Path:
    d = (NOW - timedelta(days=days)).date().isoformat()
    return tmp_path / "site" / "archive" / f"{d}.html"


def test_store_prune_deletes_older_entries_only(tmp_path):
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        store.upsert_entries([(entry(i, guid=f"g{i}", published=NOW - timedelta(days=i)), f"h{i}",
                               None) for i in (1, 5, 40)], NOW)
        assert store.prune_entries(NOW - timedelta(days=10)) == 1
        assert sorted(e.guid for e in store.entries()) == ["g1", "g5"]
        assert store.oldest_published() == NOW - timedelta(days=5)
        assert store.prune_entries(NOW - timedelta(days=10)) == 0


def test_keep_days_prunes_the_store_and_the_site_in_the_same_run(tmp_path, capsys):
    cfg = config(tmp_path, "")
    assert main(["--config", str(cfg), "run"]) == 0
    assert day_page(tmp_path, 400).is_file() and day_page(tmp_path, 60).is_file()
    capsys.readouterr()
    cfg.write_text(cfg.read_text().replace("  path: s.sqlite3\n",
                                           "  path: s.sqlite3\n  keep_days: 30\n"))
    assert main(["--config", str(cfg), "run", "--all"]) == 0
    out = capsys.readouterr().out
    assert "2 old entries deleted" in out and "0 new entries" in out, out
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        assert sorted(e.title for e in store.entries()) == ["Entry fresh", "Entry week"]
    site = tmp_path / "site"
    for page in ("index.html", "en/index.html", "archive/index.html", "feeds/t.html"):
        html = (site / page).read_text(encoding="utf-8")
        assert "Entry fresh" in html or page == "archive/index.html", page
        assert "Entry old" not in html and "Entry ancient" not in html, page
    assert not day_page(tmp_path, 400).exists() and not day_page(tmp_path, 60).exists()
    assert day_page(tmp_path, 7).is_file()
    # the feed still lists the old entries: they are not stored again, nor counted as new
    assert main(["--config", str(cfg), "run", "--all"]) == 0
    out = capsys.readouterr().out
    assert "0 new entries" in out and "deleted" not in out, out


def test_keep_archive_keeps_the_pages_of_pruned_days(tmp_path, capsys):
    cfg = config(tmp_path, "")
    assert main(["--config", str(cfg), "run"]) == 0
    old_page = day_page(tmp_path, 60).read_bytes()
    cfg.write_text(cfg.read_text().replace(
        "  path: s.sqlite3\n", "  path: s.sqlite3\n  keep_days: 30\n  keep_archive: true\n"))
    assert main(["--config", str(cfg), "run", "--all"]) == 0
    assert day_page(tmp_path, 60).read_bytes() == old_page  # kept as it was published
    assert day_page(tmp_path, 400).is_file()
    assert (tmp_path / "site/ui/ta" / day_page(tmp_path, 60).relative_to(tmp_path / "site")).is_file()
    # but the listings hold only what is stored
    assert "Entry old" not in (tmp_path / "site/en/index.html").read_text(encoding="utf-8")
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        assert store.entry_count() == 2
    # a later build keeps them too
    assert main(["--config", str(cfg), "render"]) == 0
    assert day_page(tmp_path, 60).read_bytes() == old_page


def test_keep_days_is_checked(tmp_path, capsys):
    cfg = config(tmp_path, "  keep_days: -3\n  keep_archive: sometimes\n")
    assert main(["--config", str(cfg), "check"]) == 2
    err = capsys.readouterr().err
    assert "storage.keep_days" in err and "at least 0" in err
