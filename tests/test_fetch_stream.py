"""fetch_feeds hands each result over as it completes, can be held back, and can drop bodies."""

from __future__ import annotations

from aggregator.config import FetchConfig
from aggregator.sources.fetch import fetch_feeds
from aggregator.models import FeedSource, FetchRequest

FAST = FetchConfig(timeout=5, connect_timeout=2, read_timeout=3, retries=0)
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>%d</title></channel></rss>'


def _requests(server, n):
    urls = [server.serve_bytes(f"/{i}.xml", RSS % i) for i in range(n)]
    return [FetchRequest(FeedSource(id=f"f{i}", url=u, name=f"F{i}"), u) for i, u in enumerate(urls)]


def test_on_result_gets_bodies_the_returned_results_do_not_keep(server):
    got = []
    results = fetch_feeds(_requests(server, 4), FAST, on_result=got.append, keep_content=False)
    assert [r.feed_id for r in results] == ["f0", "f1", "f2", "f3"]
    assert all(r.content is None and r.status == 200 and r.error is None for r in results)
    assert sorted(r.feed_id for r in got) == ["f0", "f1", "f2", "f3"]
    assert all(r.content == RSS % int(r.feed_id[1:]) for r in got)


def test_nothing_downloads_while_there_is_no_room(server):
    asked = []
    requests_seen_when_opened = []

    def room() -> bool:
        asked.append(1)
        if len(asked) < 20:
            return False
        if len(asked) == 20:
            requests_seen_when_opened.append(len(server.requests))
        return True

    results = fetch_feeds(_requests(server, 3), FAST, room=room)
    assert requests_seen_when_opened == [0]  # no request went out before room() said yes
    assert all(r.ok for r in results) and len(server.requests) == 3


def test_a_broken_room_callback_does_not_stall(server):
    def room() -> bool:
        raise RuntimeError("broken")

    results = fetch_feeds(_requests(server, 2), FAST, room=room)
    assert all(r.ok for r in results)
