"""The SQLite store on a real file: upserts, dedup, state, reopen."""

from datetime import datetime, timezone

import pytest

from aggregator.errors import StoreError
from aggregator.models import Entry, FeedState, Segment
from aggregator.store import Store

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
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'entries_link_key'").fetchall() == []
    assert db.execute("SELECT guid, link_key FROM entries ORDER BY guid").fetchall() == [
        ("g1", "example.org/a"), ("g2", None)]
