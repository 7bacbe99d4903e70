"""The SQLite backend's own: its file checks and the upgrade of older SQLite stores (what
every store does is in test_store_contract.py)."""

from datetime import datetime, timezone

import pytest

from aggregator.errors import StoreError
from aggregator.models import FeedState
from aggregator.store import SCHEMA_VERSION, SQLiteStore
from test_store_contract import entry

NOW = datetime(2025, 11, 20, 12, 0, tzinfo=timezone.utc)


def test_unusable_path_is_a_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open"):
        SQLiteStore(blocker / "store.sqlite3")


def test_newer_schema_refused(tmp_path):
    import sqlite3
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(path)


def test_a_schema_1_store_opens_keeps_its_entries_and_drops_the_unused_link_key(tmp_path):
    import sqlite3
    path = tmp_path / "s.sqlite3"
    with SQLiteStore(path) as store:
        store.upsert_entries([(entry(), "h1", b"feat")], NOW)
    db = sqlite3.connect(path)  # what schema 1 had on top: the link_key column and its index
    db.execute("ALTER TABLE entries ADD COLUMN link_key TEXT")
    db.execute("UPDATE entries SET link_key = 'example.org/a'")
    db.execute("CREATE INDEX entries_link_key ON entries (link_key)")
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    with SQLiteStore(path) as store:
        assert [e.guid for e in store.entries()] == ["g1"]
        new, _ = store.upsert_entries([(entry(guid="g2"), "h2", None)], NOW)
        assert len(new) == 1
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'entries_link_key'").fetchall() == []
    columns = {r[1] for r in db.execute("PRAGMA table_info(entries)")}
    assert "link_key" not in columns or sqlite3.sqlite_version_info < (3, 35)
    assert db.execute("SELECT guid FROM entries ORDER BY guid").fetchall() == [("g1",), ("g2",)]


def _as_schema_2(path):
    """Turn a store into what schema 2 looked like (no grouped, error_kind, hold_until)."""
    import sqlite3
    db = sqlite3.connect(path)
    db.execute("DROP INDEX entries_ungrouped")
    for table, col in (("entries", "grouped"), ("feeds", "error_kind"), ("feeds", "hold_until")):
        db.execute(f"ALTER TABLE {table} DROP COLUMN {col}")
    db.execute("PRAGMA user_version=2")
    db.commit()
    return db


def test_a_schema_2_store_is_repaired_and_resumed_on_opening(tmp_path):
    path = tmp_path / "s.sqlite3"
    with SQLiteStore(path) as store:
        store.upsert_entries([(entry(guid="year-one"), "h1", None), (entry(guid="grouped"), "h2", None),
                              (entry(guid="killed"), "h3", None)], NOW)
        store.save_states([FeedState(feed_id="f", url="https://x.example/feed",
                                     last_error="timed out: the whole download took more than 30 s",
                                     failures=2),
                           FeedState(feed_id="g", url="/srv/feeds/g.xml",
                                     last_error="cannot read /srv/feeds/g.xml: Is a directory")])
    db = _as_schema_2(path)
    db.execute("UPDATE entries SET published = '0001-01-01T00:00:00+00:00' WHERE guid = 'year-one'")
    db.execute("UPDATE entries SET story = 's1' WHERE guid != 'killed'")  # a run killed before grouping
    db.commit()
    db.close()
    with SQLiteStore(path) as store:
        by_guid = {e.guid: e for e in store.entries()}
        assert by_guid["year-one"].published == NOW  # first seen
        assert store.oldest_ungrouped() == NOW  # 'killed' waits for grouping
        assert sorted(r.grouped for r in store.story_rows(NOW)) == [False, True, True]
        states = store.feed_states()
        assert states["f"].error_kind == "timeout" and states["g"].error_kind == "file"
        store.set_stories({}, grouped=[e.id for e in by_guid.values()])
        assert store.oldest_ungrouped() is None


def test_a_schema_3_store_gets_images_and_the_claims_table_and_keeps_everything(tmp_path):
    import sqlite3
    path = tmp_path / "s.sqlite3"
    with SQLiteStore(path) as store:
        store.upsert_entries([(entry(), "h1", b"feat")], NOW)
        store.set_meta("site_generation", "7")
    db = sqlite3.connect(path)
    db.execute("DROP TABLE feed_claims")
    db.execute("ALTER TABLE entries DROP COLUMN image")
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()
    with SQLiteStore(path) as store:
        claim = store.claim_feeds(["f1"], worker="w", since=store.clock(), limit=1, lease=60,
                                  due=lambda fid, state: True)
        assert list(claim.feeds) == ["f1"] and claim.feeds["f1"] is None
        assert [e.guid for e in store.entries()] == ["g1"] and store.site_generation() == "7"
        store.upsert_entries([(entry(guid="g2", image="https://e.org/p.jpg"), "h2", None)], NOW)
        assert {e.guid: e.image for e in store.entries()} == {"g1": None, "g2": "https://e.org/p.jpg"}
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5

