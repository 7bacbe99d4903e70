"""schedule: pure decisions over FeedState, the clock passed in."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from aggregator.sources import schedule
from aggregator.config import FetchConfig
from aggregator.models import FeedSource, FetchResult

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
SRC = FeedSource(id="f", url="https://a.example/feed", name="F")
S = FetchConfig()


def result(**kw) -> FetchResult:
    return FetchResult(feed_id="f", url=kw.pop("url", SRC.url), fetched_at=NOW, **kw)


def step(prev, res, now=NOW, interval=1800.0, settings=S, **kw):
    return schedule.next_state(prev, SRC, res, now, interval=interval, settings=settings, **kw)


def test_new_feed_is_due_and_asked_without_validators():
    assert schedule.is_due(SRC, None, NOW)
    req = schedule.request_for(SRC, None)
    assert (req.url, req.etag, req.last_modified) == (SRC.url, None, None)


def test_due_time_with_a_little_grace():
    st = step(None, result(status=200, content=b"x"))
    assert st.next_due == NOW + timedelta(seconds=1800)
    assert not schedule.is_due(SRC, st, NOW + timedelta(minutes=20))
    # a run started a few seconds "early" on the same interval still fetches it
    assert schedule.is_due(SRC, st, NOW + timedelta(seconds=1799.5))
    assert schedule.is_due(SRC, st, NOW + timedelta(hours=1))


def test_failure_keeps_everything_good_and_counts():
    ok = step(None, result(status=200, content=b"x", etag='"e"', last_modified="lm"),
              title="T", site_link="https://a.example/", language="ta", entry_count=5)
    bad = step(ok, result(status=None, error="connection refused"), now=NOW + timedelta(hours=1))
    assert bad.failures == 1 and bad.last_error == "connection refused" and bad.last_status is None
    assert (bad.title, bad.site_link, bad.language, bad.entry_count) == ("T", "https://a.example/",
                                                                         "ta", 5)
    assert (bad.etag, bad.last_modified, bad.last_success) == ('"e"', "lm", NOW)
    again = step(bad, result(status=200, content=b"y", etag='"f"'), now=NOW + timedelta(hours=2))
    assert again.failures == 0 and again.last_error is None and again.etag == '"f"'
    assert again.last_modified is None  # the server stopped sending it: do not replay a stale one


def test_backoff_is_capped_and_jitter_is_deterministic():
    settings = FetchConfig(max_backoff=3600)
    st = None
    for _ in range(10):
        st = step(st, result(status=500, error="HTTP 500"), interval=600, settings=settings)
    assert st.failures == 10 and st.next_due == NOW + timedelta(seconds=3600)
    j = schedule.jitter_fraction("f")
    assert 0 <= j < 1 and j == schedule.jitter_fraction("f") != schedule.jitter_fraction("g")
    plain = step(None, result(status=500, error="HTTP 500"), interval=600)
    assert plain.next_due == NOW + timedelta(seconds=600)  # no jitter asked for
    delays = {}
    for fid in ("f", "g", "h"):
        src = FeedSource(id=fid, url=SRC.url, name=fid)
        st = schedule.next_state(None, src, result(status=500, error="HTTP 500"), NOW, interval=600,
                                 settings=FetchConfig(), jitter=0.1)
        delays[fid] = (st.next_due - NOW).total_seconds()
    assert all(600 <= d <= 660 for d in delays.values())  # at most 10 % more
    assert len(set(delays.values())) == 3  # feeds failing together retry apart
    again = schedule.next_state(None, FeedSource(id="f", url=SRC.url, name="f"),
                                result(status=500, error="HTTP 500"), NOW, interval=600,
                                settings=FetchConfig(), jitter=0.1)
    assert (again.next_due - NOW).total_seconds() == delays["f"]  # the same every time


def test_schedule_jitter_from_the_config_reaches_the_back_off(tmp_path):
    from aggregator import pipeline
    from aggregator.config import parse_config
    from aggregator.store import open_store

    # a feed that fails: a folder where a feed file should be (check refuses a path that does
    # not exist at all)
    (tmp_path / "no-such-feed.xml").mkdir()
    raw = {"storage": {"path": "s.sqlite3"}, "schedule": {"interval": 600, "jitter": 0.5},
           "feeds": [{"id": "missing", "url": str(tmp_path / "no-such-feed.xml")}]}
    config = parse_config(raw, tmp_path / "c.yaml")
    with open_store(config.storage) as store:
        pipeline.update(config, store, now=NOW)
        st = store.feed_states()["missing"]
    delay = (st.next_due - NOW).total_seconds()
    # this feed's share of the jitter is near the top: with the default 0.1 it would wait at
    # most 660 s; with the config's 0.5, close to 900 s
    assert st.failures == 1 and 850 < delay <= 900


def test_retry_after_beats_a_shorter_backoff_but_is_clamped():
    st = step(None, result(status=429, error="HTTP 429", retry_after=7200.0), interval=60)
    assert st.next_due == NOW + timedelta(seconds=7200)
    st = step(None, result(status=429, error="HTTP 429", retry_after=10 ** 9), interval=60,
              settings=FetchConfig(max_retry_after=600))
    assert st.next_due == NOW + timedelta(seconds=600)


def test_expires_header_delays_the_next_fetch():
    expires = format_datetime(NOW + timedelta(hours=5), usegmt=True)
    st = step(None, result(status=200, content=b"x", headers={"expires": expires}))
    assert st.next_due == NOW + timedelta(hours=5)
    no_cache = {"cache-control": "no-cache, max-age=99999"}
    assert step(None, result(status=200, content=b"x", headers=no_cache)).next_due == \
        NOW + timedelta(seconds=1800)


def test_changing_the_configured_url_starts_afresh_but_keeps_the_title():
    gone = step(step(None, result(status=200, content=b"x", etag='"e"'), title="T"),
                result(status=410, gone=True, error="HTTP 410 Gone"))
    assert gone.gone and not schedule.is_due(SRC, gone, NOW + timedelta(days=400))
    new = FeedSource(id="f", url="https://b.example/feed", name="F")
    assert schedule.is_due(new, gone, NOW)
    req = schedule.request_for(new, gone)
    assert req.url == new.url and req.etag is None
    st = schedule.next_state(gone, new, FetchResult("f", new.url, NOW, status=200, content=b"x"),
                             NOW, interval=1800, settings=S)
    assert not st.gone and st.failures == 0 and st.title == "T" and st.url == new.url


def test_health_words():
    assert schedule.health(None, NOW) == "new"
    ok = step(None, result(status=200, content=b"x"))
    assert schedule.health(ok, NOW) == "ok"
    bad = step(ok, result(error="HTTP 500", status=500))
    assert schedule.health(bad, NOW) == "backing-off"
    assert schedule.health(bad, NOW + timedelta(days=2)) == "failing"
