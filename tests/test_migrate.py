"""`aggregator migrate`: the offline example's store copied from SQLite into a real PostgreSQL
(tests/pg.py) and back; the copy builds the same site and carries on where the original was."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from aggregator import pipeline
from aggregator.cli import main
from aggregator.config import load_config
from aggregator.store import open_store, open_url

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def offline(tmp_path) -> Path:
    """The offline example after one run (a SQLite store of 790 entries)."""
    shutil.copytree(EXAMPLES / "feeds", tmp_path / "feeds")
    config = tmp_path / "offline.yaml"
    shutil.copy(EXAMPLES / "offline.yaml", config)
    assert main(["run", "--config", str(config), "-q"]) == 0
    return config


def on_postgres(config: Path, url: str) -> Path:
    text = config.read_text(encoding="utf-8").replace("  path: offline.sqlite3", f"  url: {url}")
    assert "url: postgresql://" in text
    out = config.with_name("postgres.yaml")
    out.write_text(text, encoding="utf-8")
    return out


def site_files(config: Path) -> dict[str, bytes]:
    """The site built from the config's store (into its output folder), file by file."""
    cfg = load_config(config)
    with open_store(cfg.storage) as store:
        pipeline.build_site(cfg, store, now=NOW)
    output = cfg.site.output
    return {str(p.relative_to(output)): p.read_bytes() for p in sorted(output.rglob("*"))
            if p.is_file()}


def test_a_store_copied_into_postgresql_holds_and_shows_the_same(offline, pg_url, capsys):
    source = f"sqlite:{offline.parent / 'offline.sqlite3'}"
    capsys.readouterr()
    assert main(["migrate", "--from", source, "--to", pg_url]) == 0
    out = capsys.readouterr().out
    assert "counts agree" in out and "entries         790       790" in out, out
    with open_url(source) as a, open_url(pg_url) as b:
        assert a.counts() == b.counts() and a.counts().stories > 100
        assert a.all_meta() == b.all_meta() and a.feed_states() == b.feed_states()
        strip = lambda s: (s.entry.__dict__ | {"id": 0}, s.content_hash, s.features,  # noqa: E731
                           s.first_seen, s.grouped)
        assert [strip(s) for s in a.stored_entries()] == [strip(s) for s in b.stored_entries()]
    pg_config = on_postgres(offline, pg_url)
    # the same site, page for page, from either store
    assert site_files(offline) == site_files(pg_config)
    # the copy carries on where the original was: nothing is new, nothing to build
    capsys.readouterr()
    assert main(["run", "--all", "--config", str(pg_config)]) == 0
    out = capsys.readouterr().out
    assert "0 new entries" in out and "nothing changed, site left as it was" in out, out


def test_back_from_postgresql_into_a_new_sqlite_file(offline, pg_url, tmp_path):
    source = f"sqlite:{offline.parent / 'offline.sqlite3'}"
    assert main(["migrate", "--from", source, "--to", pg_url, "-q"]) == 0
    back = tmp_path / "back" / "copy.sqlite3"
    assert main(["migrate", "--from", pg_url, "--to", f"sqlite:{back}", "-q"]) == 0
    with open_url(source) as a, open_url(f"sqlite:{back}") as b:
        assert a.counts() == b.counts() and a.entry_counts() == b.entry_counts()


def test_migrate_copies_into_an_empty_store_only(offline, pg_url, capsys):
    source = f"sqlite:{offline.parent / 'offline.sqlite3'}"
    assert main(["migrate", "--from", source, "--to", pg_url, "-q"]) == 0
    capsys.readouterr()
    assert main(["migrate", "--from", source, "--to", pg_url]) == 1
    err = capsys.readouterr().err
    assert "already holds 790 entries" in err and "empty store only" in err, err
    assert len(err.strip().splitlines()) == 1
    with open_url(pg_url) as store:
        assert store.entry_count() == 790  # untouched


def test_migrate_waits_for_no_run(offline, pg_url, capsys):
    with open_url(f"sqlite:{offline.parent / 'offline.sqlite3'}") as store, store.lock("run"):
        assert main(["migrate", "--from", f"sqlite:{offline.parent / 'offline.sqlite3'}",
                     "--to", pg_url]) == 75
    assert "another run (pid" in capsys.readouterr().err
    with open_url(pg_url) as store:
        assert store.counts().entries == 0


@pytest.mark.parametrize("source,target,words", [
    ("offline.sqlite3", "postgresql://u@localhost/db", "--from offline.sqlite3: is not a store address"),
    ("sqlite:x.sqlite3", "postgresql://u@localhost", "--to postgresql://u@localhost: names no database"),
    ("sqlite:x.sqlite3", "mysql://u@h/db", "write sqlite:PATH or postgresql://"),
    ("sqlite:x.sqlite3", "postgresql://u@h:99999/db", "not a valid URL"),
    ("sqlite:", "sqlite:y.sqlite3", "names no file"),
])
def test_bad_store_addresses_exit_2_with_what_is_wrong(source, target, words, capsys, tmp_path,
                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["migrate", "--from", source, "--to", target]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.iterdir())  # no store was made


def test_a_missing_source_or_an_unreachable_server_is_one_line(tmp_path, capsys, refused_url):
    assert main(["migrate", "--from", f"sqlite:{tmp_path / 'none.sqlite3'}",
                 "--to", f"sqlite:{tmp_path / 'b.sqlite3'}"]) == 1
    assert "none.sqlite3: no such store" in capsys.readouterr().err
    assert main(["run", "--no-render", "--config", str(_config(tmp_path))]) == 0
    capsys.readouterr()
    port = refused_url.split(":")[2].split("/")[0]
    assert main(["migrate", "--from", f"sqlite:{tmp_path / 'store.sqlite3'}",
                 "--to", f"postgresql://me:secret@127.0.0.1:{port}/db"]) == 1
    err = capsys.readouterr().err
    assert "cannot connect" in err and "is PostgreSQL running there" in err, err
    assert "secret" not in err and "me:***@127.0.0.1" in err
    assert len(err.strip().splitlines()) == 1


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "config.yaml"
    feed = EXAMPLES / "feeds" / sorted(p.name for p in (EXAMPLES / "feeds").iterdir())[0]
    cfg.write_text(f"site: {{output: site}}\nstorage: {{path: store.sqlite3}}\n"
                   f"feeds:\n  - {{name: One, url: '{feed}'}}\n", encoding="utf-8")
    return cfg
