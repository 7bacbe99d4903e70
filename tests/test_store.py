"""The SQLite store on a real file: upserts, dedup, state, reopen."""

import os
from datetime import datetime, timezone

import pytest

from aggregator.errors import StoreError
from aggregator.models import Entry, FeedState, Segment
from aggregator.store import SCHEMA_VERSION, Store

NOW = datetime(2025, 11, 20, 12, 0, tzinfo=timezone.utc)


def entry(guid="g1", feed="f1", title="Title", link="https://example.org/a?utm_source=x", **kw):
    base = dict(feed_id=feed, guid=guid, title=title, link=link, summary_html="<p>s</p>",
                content_html="", author=None, published=NOW, lang="ta", lang_confidence=0.9,
                topic="sports", segments=(Segment(0, 5, "en"),), categories=("Cricket",))
    base.update(kw)
    return Entry(**base)


def test_insert_update_and_reopen(tmp_path):
    path = tmp_path / "store.sqlite3"
    with Store(path) as store:
        new, updated = store.upsert_entries([(entry(), "h1", b"feat")], NOW)
        assert len(new) == 1 and not updated
        new, updated = store.upsert_entries([(entry(), "h1", b"feat")], NOW)
        assert not new and not updated
        new, updated = store.upsert_entries([(entry(title="Changed"), "h2", None)], NOW)
        assert not new and len(updated) == 1
    with Store(path) as store:
        [e] = store.entries()
        assert e.title == "Changed" and e.lang == "ta" and e.categories == ("Cricket",)
        assert e.segments == (Segment(0, 5, "en"),)
        assert e.published == NOW
        assert store.known_hashes("f1") == {"g1": "h2"}


def test_feed_state_round_trip(tmp_path):
    state = FeedState(feed_id="f1", url="https://example.org/rss", etag='"abc"', last_status=200,
                      last_success=NOW, next_due=NOW, failures=0, gone=False, title="Example")
    with Store(tmp_path / "s.sqlite3") as store:
        store.save_states([state])
        store.upsert_entries([(entry(), "h", None)], NOW)
        got = store.feed_states()["f1"]
    assert got.etag == '"abc"' and got.last_success == NOW and got.entry_count == 1
    assert got.title == "Example" and got.gone is False


def test_unusable_path_is_a_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open"):
        Store(blocker / "store.sqlite3")


def test_newer_schema_refused(tmp_path):
    import sqlite3
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_a_schema_1_store_opens_keeps_its_entries_and_drops_the_unused_index(tmp_path):
    import sqlite3
    path = tmp_path / "s.sqlite3"
    with Store(path) as store:
        store.upsert_entries([(entry(), "h1", b"feat")], NOW)
    db = sqlite3.connect(path)  # what schema 1 had on top: the link_key column and its index
    db.execute("ALTER TABLE entries ADD COLUMN link_key TEXT")
    db.execute("UPDATE entries SET link_key = 'example.org/a'")
    db.execute("CREATE INDEX entries_link_key ON entries (link_key)")
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    with Store(path) as store:
        assert [e.guid for e in store.entries()] == ["g1"]
        new, _ = store.upsert_entries([(entry(guid="g2"), "h2", None)], NOW)
        assert len(new) == 1
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'entries_link_key'").fetchall() == []
    assert db.execute("SELECT guid, link_key FROM entries ORDER BY guid").fetchall() == [
        ("g1", "example.org/a"), ("g2", None)]


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
    with Store(path) as store:
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
    with Store(path) as store:
        by_guid = {e.guid: e for e in store.entries()}
        assert by_guid["year-one"].published == NOW  # first seen
        assert store.oldest_ungrouped() == NOW  # 'killed' waits for grouping
        rows = {r[0]: r for r in store.story_rows(NOW)}
        assert sorted(r[-1] for r in rows.values()) == [False, True, True]
        states = store.feed_states()
        assert states["f"].error_kind == "timeout" and states["g"].error_kind == "file"
        store.set_stories({}, grouped=[e.id for e in by_guid.values()])
        assert store.oldest_ungrouped() is None


def test_new_entries_wait_for_grouping_and_the_site_for_a_build(tmp_path):
    with Store(tmp_path / "s.sqlite3") as store:
        assert not store.site_stale() and store.oldest_ungrouped() is None
        store.mark_site_stale()
        ids, _ = store.upsert_entries([(entry(), "h1", None)], NOW)
        assert store.site_stale() and store.oldest_ungrouped() == NOW
        generation = store.site_generation()
        store.mark_site_stale()  # something stored while the build ran
        store.set_site_built(generation)
        assert store.site_stale()
        store.set_site_built(store.site_generation())
        assert not store.site_stale()
        store.set_stories({ids[0]: "s9"}, grouped=ids)
        assert store.oldest_ungrouped() is None and store.entries()[0].story == "s9"


def test_one_lock_holder_at_a_time(tmp_path):
    from aggregator.store.lock import Busy

    with Store(tmp_path / "s.sqlite3") as store:
        first, second = store.lock("run"), store.lock("run")
        first.acquire()
        with pytest.raises(Busy, match=r"another run \(pid \d+, since .* UTC\) is in progress"):
            second.acquire(0.3)
        assert first.holder() is not None and first.holder().pid == os.getpid()
        first.release()
        assert second.holder() is None
        second.acquire(0)
        second.release()
