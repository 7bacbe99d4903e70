"""The store's contract (aggregator.store.Store), checked on each backend: a real SQLite file
and a real PostgreSQL database (tests/pg.py starts the server)."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from aggregator.errors import StoreError
from aggregator.models import Entry, FeedState, Segment
from aggregator.store import open_url
from aggregator.store.lock import Busy

NOW = datetime(2025, 11, 20, 12, 0, tzinfo=timezone.utc)


def entry(guid="g1", feed="f1", title="Title", link="https://example.org/a?utm_source=x", **kw):
    base = dict(feed_id=feed, guid=guid, title=title, link=link, summary_html="<p>s</p>",
                content_html="", author=None, published=NOW, lang="ta", lang_confidence=0.9,
                topic="sports", segments=(Segment(0, 5, "en"),), categories=("Cricket",))
    base.update(kw)
    return Entry(**base)


@pytest.fixture
def store(store_url):
    s = open_url(store_url)
    yield s
    s.close()


def test_entries_are_inserted_updated_in_place_and_kept_after_reopening(store_url):
    tamil = "இலங்கை அணி வென்றது"
    with open_url(store_url) as store:
        new, updated = store.upsert_entries([(entry(title=tamil), "h1", b"\x00feat\xff")], NOW)
        assert len(new) == 1 and not updated
        assert store.upsert_entries([(entry(title=tamil), "h1", b"\x00feat\xff")], NOW) == ([], [])
        new, updated = store.upsert_entries([(entry(title="ශ්\u200dරී Changed",
                                                    image="https://e.org/a.jpg"), "h2", None)],
                                            NOW + timedelta(days=1))
        assert not new and len(updated) == 1
    with open_url(store_url) as store:
        [e] = store.entries()
        assert e.title == "ශ්\u200dරී Changed" and e.lang == "ta" and e.categories == ("Cricket",)
        assert e.segments == (Segment(0, 5, "en"),) and e.lang_confidence == 0.9
        assert e.published == NOW and e.id == updated[0] and e.image == "https://e.org/a.jpg"
        assert store.known_hashes("f1") == {"g1": "h2"}
        [stored] = list(store.stored_entries())
        assert stored.first_seen == NOW  # an update keeps when it was first seen
        assert stored.features is None and stored.content_hash == "h2" and not stored.grouped


def test_a_feed_state_round_trips_with_every_field(store):
    state = FeedState(feed_id="f1", url="https://example.org/rss", final_url="https://e.org/rss",
                      moved_to="https://e.org/new", title="Example", site_link="https://e.org/",
                      language="si", etag='"abc"', last_modified="Tue, 02 Dec 2025 10:00:00 GMT",
                      last_status=503, last_error="HTTP 503", error_kind="http",
                      last_attempt=NOW, last_success=NOW - timedelta(hours=1), next_due=NOW,
                      hold_until=NOW + timedelta(hours=1), failures=3, gone=True)
    store.save_states([state])
    store.upsert_entries([(entry(), "h", None)], NOW)
    assert store.feed_states()["f1"] == FeedState(**{**state.__dict__, "entry_count": 1})
    store.save_states([FeedState(feed_id="f1", url="https://example.org/rss")])  # replaced whole
    assert store.feed_states()["f1"].etag is None and store.feed_entry_count("f1") == 1
    assert store.entry_counts() == {"f1": 1}


def test_meta_and_the_site_generation(store):
    assert store.get_meta("k") is None and not store.site_stale()
    store.set_meta("k", "v1")
    store.set_meta("k", "v2")
    assert store.get_meta("k") == "v2" and store.all_meta() == {"k": "v2"}
    store.mark_site_stale()
    generation = store.site_generation()
    assert store.site_stale()
    store.mark_site_stale()  # something stored while the build ran
    store.set_site_built(generation)
    assert store.site_stale()
    store.set_site_built(store.site_generation())
    assert not store.site_stale()


def test_many_processes_raising_the_generation_at_once_each_count(store_url):
    with open_url(store_url) as store:
        store.mark_site_stale()
        before = int(store.site_generation())

    def raise_it():
        with open_url(store_url) as s:
            for _ in range(10):
                s.mark_site_stale()

    threads = [threading.Thread(target=raise_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open_url(store_url) as store:
        assert int(store.site_generation()) == before + 40


def test_entries_are_read_newest_first_with_or_without_their_content(store):
    items = [(entry(guid=f"g{i}", published=NOW + timedelta(hours=i), content_html=f"<p>{i}</p>"),
              f"h{i}", bytes([i])) for i in range(5)]
    ids, _ = store.upsert_entries(items, NOW)
    assert [e.guid for e in store.entries()] == ["g4", "g3", "g2", "g1", "g0"]
    assert [e.guid for e in store.entries(since=NOW + timedelta(hours=3))] == ["g4", "g3"]
    assert [e.guid for e in store.entries(limit=2)] == ["g4", "g3"]
    light = store.entries(content=False)
    assert all(e.content_html == "" for e in light)
    assert store.contents([e.id for e in light[:2]]) == {light[0].id: "<p>4</p>", light[1].id: "<p>3</p>"}
    texts = store.texts(ids[:1])
    assert texts[ids[0]].title == "Title" and texts[ids[0]].content_html == "<p>0</p>"
    assert texts[ids[0]].features == b"\x00"
    assert dict(store.features()) == {i: bytes([n]) for n, i in enumerate(ids)}
    store.set_features([(ids[0], b"new")])
    assert dict(store.features())[ids[0]] == b"new"
    assert store.entry_count() == 5


def test_many_ids_are_read_in_chunks(store):
    items = [(entry(guid=f"g{i}"), f"h{i}", None) for i in range(1234)]
    ids, _ = store.upsert_entries(items, NOW)
    assert len(store.contents(ids)) == 1234 and len(store.texts(ids)) == 1234
    assert sum(1 for _ in store.topic_rows()) == 1234


def test_topics_are_read_for_refiling_and_stored(store):
    ids, _ = store.upsert_entries([(entry(guid="a", content_html="<p>x</p>", categories=("c1", "c2"),
                                          topic="sports", topic_confidence=0.5, topic_why="w"),
                                    "h", b"f")], NOW)
    [row] = list(store.topic_rows())
    assert (row.id, row.feed_id, row.title, row.content_html, row.lang, row.categories,
            row.features, row.topic, row.topic_confidence, row.topic_why) == (
        ids[0], "f1", "Title", "<p>x</p>", "ta", ("c1", "c2"), b"f", "sports", 0.5, "w")
    store.set_topics([(ids[0], "politics", 0.75, "keywords: vote")])
    [e] = store.entries()
    assert (e.topic, e.topic_confidence, e.topic_why) == ("politics", 0.75, "keywords: vote")


def test_stories_and_what_grouping_has_not_seen(store):
    ids, _ = store.upsert_entries([(entry(guid="old", published=NOW - timedelta(days=1)), "h1", b"1"),
                                   (entry(guid="new"), "h2", b"2")], NOW)
    assert store.oldest_ungrouped() == NOW - timedelta(days=1)
    rows = {r.guid: r for r in store.story_rows(NOW - timedelta(days=2))}
    assert set(rows) == {"old", "new"} and not any(r.grouped for r in rows.values())
    assert rows["old"].feed_id == "f1" and rows["old"].features == b"1" and rows["old"].lang == "ta"
    assert rows["new"].link == "https://example.org/a?utm_source=x" and rows["new"].published == NOW
    assert [r.guid for r in store.story_rows(NOW)] == ["new"]
    store.set_stories({ids[0]: "s-one"}, grouped=[ids[0]])
    assert store.oldest_ungrouped() == NOW
    store.set_stories({}, grouped=[ids[1]])  # seen, and given no story
    assert store.oldest_ungrouped() is None
    assert {e.guid: e.story for e in store.entries()} == {"old": "s-one", "new": None}
    assert store.counts().stories == 1


def test_old_entries_are_pruned_and_the_site_marked_stale(store):
    assert store.oldest_published() is None and store.prune_entries(NOW) == 0
    assert not store.site_stale()
    store.upsert_entries([(entry(guid=f"g{d}", published=NOW - timedelta(days=d)), f"h{d}", None)
                          for d in range(5)], NOW)
    assert store.oldest_published() == NOW - timedelta(days=4)
    assert store.prune_entries(NOW - timedelta(days=2, hours=12)) == 2
    assert sorted(e.guid for e in store.entries()) == ["g0", "g1", "g2"]
    assert store.site_stale()


def test_an_entry_with_nul_and_odd_text_is_stored(store):
    store.upsert_entries([(entry(title="a\x00b", summary_html="<p>\x00</p>", author="x" * 5000), "h", None)], NOW)
    [e] = store.entries()
    assert e.title in ("a\x00b", "a\ufffdb") and len(e.author) == 5000


def test_stored_entries_copy_into_another_store_whole(store_url, tmp_path):
    with open_url(store_url) as store:
        ids, _ = store.upsert_entries([(entry(guid=f"g{i}", story="s1" if i < 2 else None), f"h{i}",
                                        bytes(range(i + 1))) for i in range(3)], NOW)
        store.set_stories({}, grouped=ids[:2])
        rows = list(store.stored_entries())
    with open_url(f"sqlite:{tmp_path / 'copy.sqlite3'}") as copy:
        copy.add_stored_entries(rows)
        got = {s.entry.guid: s for s in copy.stored_entries()}
        assert copy.counts() == open_url(store_url).counts()
    for s in rows:
        g = got[s.entry.guid]
        assert g.entry.__dict__ | {"id": None} == s.entry.__dict__ | {"id": None}
        assert (g.content_hash, g.features, g.first_seen, g.grouped) == (
            s.content_hash, s.features, s.first_seen, s.grouped)


def test_one_lock_holder_at_a_time(store):
    first, second = store.lock("build"), store.lock("build")
    first.acquire()
    try:
        with pytest.raises(Busy, match=r"another build \(pid \d+.*, since .* UTC\) is in progress"):
            second.acquire(0.3)
        assert first.holder() is not None and first.holder().pid == os.getpid()
        assert second.holder().pid == os.getpid()
        other = store.lock("stories")  # another name is another lock
        other.acquire(0)
        other.release()
    finally:
        first.release()
    assert second.holder() is None
    t0 = time.monotonic()
    second.acquire(0)
    second.release()
    assert time.monotonic() - t0 < 5


def test_a_lock_waits_for_its_holder(store):
    first = store.lock("build")
    first.acquire()
    threading.Timer(0.5, first.release).start()
    second = store.lock("build")
    second.acquire(None)  # as long as it takes
    second.release()


# -- feeds shared by several runs ---------------------------------------------------------

def due_unless_fetched(fid, state):
    return state is None or state.last_attempt is None


def test_claims_hand_each_feed_to_one_worker_a_batch_at_a_time(store):
    feeds = [f"f{i}" for i in range(10)]
    since = store.clock()
    a = store.claim_feeds(feeds, worker="a", since=since, limit=4, lease=60, due=due_unless_fetched)
    b = store.claim_feeds(feeds, worker="b", since=since, limit=4, lease=60, due=due_unless_fetched)
    assert list(a.feeds) == feeds[:4] and list(b.feeds) == feeds[4:8]
    assert b.waiting == 4  # a's
    assert all(v is None for v in a.feeds.values())  # never fetched
    store.release_feeds("a", feeds[:4], done=True)
    c = store.claim_feeds(feeds, worker="c", since=since, limit=10, lease=60, due=due_unless_fetched)
    assert list(c.feeds) == feeds[8:] and set(c.settled) == set(feeds[:4]) and c.waiting == 4
    # a worker that began after the feeds were done may fetch them again when they are due
    later = store.clock()
    d = store.claim_feeds(feeds[:4], worker="d", since=later, limit=10, lease=60, due=due_unless_fetched)
    assert list(d.feeds) == feeds[:4]


def test_a_claim_gives_the_state_now_and_asks_whether_the_feed_is_still_due(store):
    store.save_states([FeedState(feed_id="done", url="u", last_attempt=NOW, etag='"x"'),
                       FeedState(feed_id="todo", url="u", etag='"y"')])
    claim = store.claim_feeds(["done", "todo", "new"], worker="a", since=store.clock(), limit=10,
                              lease=60, due=due_unless_fetched)
    assert list(claim.feeds) == ["todo", "new"] and claim.settled == ("done",)
    assert claim.feeds["todo"].etag == '"y"' and claim.feeds["new"] is None


def test_a_dead_workers_feeds_are_taken_over_when_its_lease_ends(store):
    since = store.clock()
    held = store.claim_feeds(["f1", "f2"], worker="dead", since=since, limit=2, lease=1.5,
                             due=due_unless_fetched)
    assert len(held.feeds) == 2
    assert not store.claim_feeds(["f1", "f2"], worker="b", since=since, limit=2, lease=60,
                                 due=due_unless_fetched).feeds
    time.sleep(1.6)
    taken = store.claim_feeds(["f1", "f2"], worker="b", since=since, limit=2, lease=60,
                              due=due_unless_fetched)
    assert list(taken.feeds) == ["f1", "f2"]
    store.release_feeds("dead", ["f1"], done=True)  # too late: it is b's now, and stays b's
    assert not store.claim_feeds(["f1"], worker="c", since=since, limit=1, lease=60,
                                 due=due_unless_fetched).feeds


def test_renewing_keeps_a_slow_workers_feeds_and_giving_back_frees_them(store):
    since = store.clock()
    store.claim_feeds(["f1", "f2"], worker="slow", since=since, limit=2, lease=1.5,
                      due=due_unless_fetched)
    time.sleep(1.0)
    assert store.renew_claims("slow", 60) == 2
    time.sleep(1.0)
    assert not store.claim_feeds(["f1", "f2"], worker="b", since=since, limit=2, lease=60,
                                 due=due_unless_fetched).feeds
    store.release_feeds("slow", ["f2"], done=False)  # given back undone: another may take it
    assert list(store.claim_feeds(["f1", "f2"], worker="b", since=since, limit=2, lease=60,
                                  due=due_unless_fetched).feeds) == ["f2"]


def test_workers_claiming_at_once_never_share_a_feed(store_url):
    feeds = [f"f{i:03d}" for i in range(300)]
    with open_url(store_url) as store:
        since = store.clock()
    got: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with open_url(store_url) as s:
                mine = got.setdefault(name, [])
                while True:
                    claim = s.claim_feeds(feeds, worker=name, since=since, limit=7, lease=60,
                                          due=due_unless_fetched)
                    if not claim.feeds:
                        if claim.waiting:
                            time.sleep(0.01)
                            continue
                        return
                    mine += claim.feeds
                    s.release_feeds(name, list(claim.feeds), done=True)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    claimed = [f for mine in got.values() for f in mine]
    assert sorted(claimed) == feeds  # each once


def test_a_bad_store_address_is_a_clear_error(tmp_path):
    for url, words in (("mysql://x/y", "not a store address"), ("sqlite:", "names no file"),
                       ("postgresql://localhost", "names no database"),
                       ("postgresql://h:port/db", "not a valid URL")):
        with pytest.raises(StoreError, match=words):
            open_url(url)
