"""fetch + schedule against a real loopback HTTP server that misbehaves on purpose.

Each test serves one bad behaviour from 127.0.0.1, fetches it with
``fetch_feeds`` and checks the ``FetchResult`` and the ``FeedState`` that
``schedule.next_state`` makes of it.
"""

from __future__ import annotations

import gzip
import threading
import time
import tracemalloc
import zlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from aggregator.sources import schedule
from aggregator.config import DEFAULT_USER_AGENT, FetchConfig
from aggregator.sources.fetch import fetch_feeds, parse_retry_after
from aggregator.models import FeedSource, FetchRequest

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
FEED = ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>T</title>"
        "<link>http://example.org/</link><item><title>தமிழ் செய்தி</title>"
        "<link>http://example.org/1</link><guid>1</guid></item></channel></rss>").encode()
FAST = FetchConfig(timeout=5, connect_timeout=2, read_timeout=3, retries=0)
INTERVAL = 1800.0


def src(url: str, fid: str = "f") -> FeedSource:
    return FeedSource(id=fid, url=url, name=fid)


def fetch1(url_or_req, settings: FetchConfig = FAST, **kw):
    req = url_or_req if isinstance(url_or_req, FetchRequest) else FetchRequest(src(url_or_req),
                                                                              url_or_req)
    [result] = fetch_feeds([req], settings, clock=lambda: NOW, **kw)
    return result


def state_after(result, prev=None, source=None, settings: FetchConfig = FAST, now=NOW, **kw):
    source = source or src(result.url)
    return schedule.next_state(prev, source, result, now, interval=INTERVAL, settings=settings, **kw)


def redirect(server, path: str, to: str, status: int) -> str:
    def fn(h):
        h.send_response(status)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()
    return server.route(path, fn)


# -- the good case -----------------------------------------------------------------------------

def test_ok_sends_user_agent_and_returns_lowercase_headers(server):
    url = server.serve_bytes("/feed.xml", FEED, headers={**RSS, "X-Thing": "1"})
    r = fetch1(url)
    assert r.ok and r.status == 200 and r.content == FEED and r.error is None
    assert r.headers["content-type"] == RSS["Content-Type"] and r.headers["x-thing"] == "1"
    assert all(k == k.lower() for k in r.headers)
    assert r.final_url == url and r.permanent_url is None and r.fetched_at == NOW
    path, headers = server.requests[-1]
    assert headers["User-Agent"] == DEFAULT_USER_AGENT
    assert DEFAULT_USER_AGENT.startswith("aggregator/") and "https://" in DEFAULT_USER_AGENT
    st = state_after(r, title="T")
    assert st.failures == 0 and st.last_success == NOW and st.last_status == 200
    assert st.next_due == NOW + timedelta(seconds=INTERVAL) and st.title == "T"


def test_results_keep_request_order_and_report_each(server):
    urls = [server.serve_bytes(f"/f{i}.xml", FEED) for i in range(5)]
    seen = []
    reqs = [FetchRequest(src(u, f"f{i}"), u) for i, u in enumerate(urls)]
    results = fetch_feeds(reqs, FAST, on_result=seen.append)
    assert [r.feed_id for r in results] == [f"f{i}" for i in range(5)]
    assert sorted(r.feed_id for r in seen) == [f"f{i}" for i in range(5)]


# -- conditional GET -----------------------------------------------------------------------------

def test_304_round_trip_with_etag_and_last_modified(server):
    lm = "Sat, 28 Feb 2026 10:00:00 GMT"

    def fn(h):
        if h.headers.get("If-None-Match") == '"v1"' and h.headers.get("If-Modified-Since") == lm:
            h.send_response(304)
            h.end_headers()  # no validators repeated: ours must be kept
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("ETag", '"v1"')
        h.send_header("Last-Modified", lm)
        h.send_header("Content-Length", str(len(FEED)))
        h.end_headers()
        h.wfile.write(FEED)

    url = server.route("/cond.xml", fn)
    source = src(url)
    first = fetch1(schedule.request_for(source, None))
    assert first.status == 200 and first.etag == '"v1"' and first.last_modified == lm
    st1 = state_after(first, source=source, title="Title")
    assert (st1.etag, st1.last_modified) == ('"v1"', lm)

    later = NOW + timedelta(hours=1)
    assert schedule.is_due(source, st1, later)
    req = schedule.request_for(source, st1)
    assert (req.url, req.etag, req.last_modified) == (url, '"v1"', lm)
    second = fetch1(req)
    assert second.not_modified and second.content is None and second.ok and second.status == 304
    assert server.requests[-1][1]["If-None-Match"] == '"v1"'
    st2 = state_after(second, prev=st1, source=source, now=later)
    assert (st2.etag, st2.last_modified, st2.title) == ('"v1"', lm, "Title")
    assert st2.failures == 0 and st2.last_success == later and st2.last_error is None


# -- redirects -----------------------------------------------------------------------------------

def test_301_308_chain_is_permanent_and_used_from_then_on(server):
    final = server.serve_bytes("/new.xml", FEED, etag='"n"')
    mid = redirect(server, "/mid.xml", "/new.xml", 308)
    start = redirect(server, "/old.xml", mid, 301)
    source = src(start)
    r = fetch1(start)
    assert r.ok and r.final_url == final and r.permanent_url == final and r.url == start
    st = state_after(r, source=source)
    assert st.moved_to == final and st.url == start and st.final_url == final
    assert schedule.health(st, NOW) == "moved"
    req = schedule.request_for(source, st)
    assert req.url == final and req.etag == '"n"'
    again = fetch1(req)
    assert again.not_modified and again.permanent_url is None
    st2 = state_after(again, prev=st, source=source)
    assert st2.moved_to == final  # still reported until the config is updated
    # the user applies the move: the validators carry over, the move is done
    moved = replace(source, url=final)
    assert not schedule.is_due(moved, st2, NOW + timedelta(seconds=60))
    req3 = schedule.request_for(moved, st2)
    assert req3.url == final and req3.etag == '"n"'
    st3 = state_after(fetch1(req3), prev=st2, source=moved)
    assert st3.url == final and st3.moved_to is None


def test_a_temporary_hop_makes_the_chain_temporary(server):
    final = server.serve_bytes("/t-final.xml", FEED)
    mid = redirect(server, "/t-mid.xml", final, 302)
    start = redirect(server, "/t-start.xml", mid, 301)
    r = fetch1(start)
    assert r.ok and r.final_url == final and r.permanent_url is None


@pytest.mark.parametrize("status", [302, 307, 303])
def test_temporary_redirect_is_followed_without_moving(server, status):
    final = server.serve_bytes("/tmp-target.xml", FEED)
    start = redirect(server, f"/tmp-{status}.xml", "/tmp-target.xml", status)
    r = fetch1(start)
    assert r.ok and r.final_url == final and r.permanent_url is None
    st = state_after(r, source=src(start))
    assert st.moved_to is None and st.final_url == final
    assert schedule.request_for(src(start), st).url == start


def test_redirect_loop_is_cut(server):
    a = server.url("/loop-a")
    redirect(server, "/loop-b", a, 301)
    redirect(server, "/loop-a", server.url("/loop-b"), 301)
    r = fetch1(a)
    assert not r.ok and "redirect loop" in r.error and r.content is None
    assert len(server.requests) == 2


def test_too_many_redirects_are_cut(server):
    for i in range(10):
        redirect(server, f"/hop{i}", f"/hop{i + 1}", 302)
    server.serve_bytes("/hop10", FEED)
    r = fetch1(server.url("/hop0"))
    assert "too many redirects (more than 5)" in r.error
    assert len(server.requests) == 6
    ok = fetch1(server.url("/hop0"), replace(FAST, max_redirects=10))
    assert ok.ok


def test_redirect_to_a_local_file_is_refused(server, tmp_path):
    (tmp_path / "secret.xml").write_bytes(FEED)
    start = redirect(server, "/evil", (tmp_path / "secret.xml").as_uri(), 301)
    r = fetch1(start)
    assert r.content is None and "non-HTTP" in r.error


# -- errors and back-off ---------------------------------------------------------------------------

def test_410_marks_the_feed_gone_until_its_url_changes(server):
    url = server.serve_bytes("/gone.xml", b"", status=410)
    source = src(url)
    prev = state_after(fetch1(server.serve_bytes("/ok.xml", FEED)), source=source, title="Kept")
    r = fetch1(url)
    assert r.gone and r.status == 410 and not r.ok and "410" in r.error
    st = state_after(r, prev=prev, source=source)
    assert st.gone and st.next_due is None and st.title == "Kept"
    assert schedule.health(st, NOW) == "gone"
    assert not schedule.is_due(source, st, NOW + timedelta(days=365))
    assert schedule.is_due(replace(source, url=url + "?v=2"), st, NOW)
    fresh = state_after(fetch1(server.serve_bytes("/ok.xml", FEED)), prev=st,
                        source=replace(source, url=server.url("/ok.xml")))
    assert not fresh.gone and fresh.failures == 0 and fresh.title == "Kept"


def test_404_is_an_error_with_its_status(server):
    r = fetch1(server.url("/missing.xml"))
    assert r.status == 404 and r.error == "HTTP 404 Not Found" and r.content is None
    st = state_after(r)
    assert st.failures == 1 and st.last_error == "HTTP 404 Not Found" and st.last_status == 404


def test_500_backs_off_exponentially_capped_and_keeps_good_values(server):
    good = server.serve_bytes("/flaky.xml", FEED, headers={**RSS, "ETag": '"g"'})
    source = src(good)
    st = state_after(fetch1(good), source=source, title="Good title", entry_count=7)
    server.serve_bytes("/flaky.xml", b"oops", status=500)
    settings = replace(FAST, max_backoff=4 * INTERVAL)
    delays = []
    now = NOW
    for _ in range(5):
        now = st.next_due
        assert schedule.is_due(source, st, now)
        r = fetch1(schedule.request_for(source, st))
        assert r.status == 500 and r.error.startswith("HTTP 500")
        st = state_after(r, prev=st, source=source, settings=settings, now=now)
        delays.append((st.next_due - now).total_seconds())
        assert not schedule.is_due(source, st, now + timedelta(seconds=INTERVAL / 2))
    base = [INTERVAL, 2 * INTERVAL, 4 * INTERVAL, 4 * INTERVAL, 4 * INTERVAL]
    for got, want in zip(delays, base):
        assert want <= got <= 4 * INTERVAL and got <= want * 1.1
    assert st.failures == 5 and st.title == "Good title" and st.etag == '"g"'
    assert st.last_success == NOW and st.entry_count == 7 and schedule.health(st, now) == "backing-off"
    assert server.requests[-1][1]["If-None-Match"] == '"g"'


def test_429_retry_after_seconds_is_honoured_and_clamped(server):
    url = server.serve_bytes("/busy.xml", b"", status=429, headers={"Retry-After": "7200"})
    r = fetch1(url)
    assert r.status == 429 and r.retry_after == 7200 and "429" in r.error
    st = state_after(r)
    assert st.next_due == NOW + timedelta(seconds=7200)
    clamped = fetch1(url, replace(FAST, max_retry_after=3600))
    assert clamped.retry_after == 3600


def test_503_retry_after_http_date(server):
    when = format_datetime(NOW + timedelta(hours=3), usegmt=True)
    url = server.serve_bytes("/maint.xml", b"", status=503, headers={"Retry-After": when})
    r = fetch1(url)
    assert r.status == 503 and r.retry_after == 3 * 3600
    assert state_after(r).next_due == NOW + timedelta(hours=3)


def test_parse_retry_after_edge_cases():
    assert parse_retry_after("120", NOW, 3600) == 120
    assert parse_retry_after("999999", NOW, 3600) == 3600
    assert parse_retry_after(format_datetime(NOW - timedelta(hours=1), usegmt=True), NOW, 60) == 0
    assert parse_retry_after("soon", NOW, 60) is None


def test_cache_control_max_age_delays_the_next_fetch(server):
    url = server.serve_bytes("/cached.xml", FEED, headers={**RSS, "Cache-Control": "max-age=7200"})
    st = state_after(fetch1(url))
    assert st.next_due == NOW + timedelta(seconds=7200)
    huge = server.serve_bytes("/cached2.xml", FEED, headers={**RSS, "Cache-Control": "max-age=99999999"})
    assert state_after(fetch1(huge)).next_due == NOW + timedelta(seconds=FAST.max_retry_after)


# -- timeouts --------------------------------------------------------------------------------------

def test_slow_drip_is_cut_at_the_whole_download_timeout(server):
    stop = threading.Event()

    def drip(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.end_headers()
        try:
            for _ in range(200):  # a byte every 0.1 s: never silent long enough for read_timeout
                if stop.is_set():
                    return
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    url = server.route("/drip.xml", drip)
    settings = replace(FAST, timeout=1.5, read_timeout=1.0)
    t0 = time.monotonic()
    r = fetch1(url, settings)
    stop.set()
    assert time.monotonic() - t0 < 3
    assert r.content is None and "timed out" in r.error and "1.5 s" in r.error


def test_silent_server_hits_the_read_timeout(server):
    def silent(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.flush()
        time.sleep(2)

    r = fetch1(server.route("/silent.xml", silent), replace(FAST, read_timeout=0.5))
    assert "timed out reading" in r.error and r.elapsed < 1.9
    st = state_after(r)
    assert st.failures == 1 and "timed out" in st.last_error


def test_refused_port_is_an_error_not_an_exception(refused_url):
    r = fetch1(refused_url, replace(FAST, retries=2))
    assert r.error == "connection refused" and r.status is None and not r.ok
    assert state_after(r).failures == 1


def test_a_dropped_connection_is_retried_once(server):
    calls = []

    def flaky(h):
        calls.append(1)
        if len(calls) == 1:
            h.close_connection = True
            h.connection.shutdown(2)  # drop it without an answer
            return
        h.send_response(200)
        h.send_header("Content-Length", str(len(FEED)))
        h.end_headers()
        h.wfile.write(FEED)

    url = server.route("/flaky-conn.xml", flaky)
    r = fetch1(url, replace(FAST, retries=1))
    assert r.ok and len(calls) == 2
    calls.clear()
    r = fetch1(url, replace(FAST, retries=0))
    assert not r.ok and len(calls) == 1


# -- size cap ----------------------------------------------------------------------------------------

def _body_route(server, path, body: bytes, headers: dict[str, str], length: bool = True):
    def fn(h):
        h.send_response(200)
        for k, v in headers.items():
            h.send_header(k, v)
        if length:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        try:
            for i in range(0, len(body), 65536):
                h.wfile.write(body[i:i + 65536])
        except OSError:
            pass  # the client hung up once it had enough: that is the point
    return server.route(path, fn)


@pytest.mark.parametrize("length", [True, False])
def test_huge_body_is_cut(server, length):
    body = b"<rss>" + b"x" * 3_000_000
    url = _body_route(server, "/huge.xml", body, RSS, length)
    r = fetch1(url, replace(FAST, max_bytes=1_000_000))
    assert r.content is None and r.error.startswith("larger than 1000000 bytes")
    assert state_after(r).last_error.startswith("larger than")


@pytest.fixture(scope="module")
def bomb() -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    parts = [comp.compress(block) for _ in range(200)]  # 200 MB of zeros, ~200 KB on the wire
    return b"".join(parts) + comp.flush()


def test_gzip_bomb_is_cut_without_being_read_into_memory(server, bomb):
    url = _body_route(server, "/bomb.xml", bomb, {**RSS, "Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        r = fetch1(url, replace(FAST, max_bytes=2_000_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.content is None and r.error.startswith("larger than 2000000 bytes")
    assert peak < 20_000_000, f"peak {peak} bytes"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_body_is_decoded(server, encoding):
    if encoding == "gzip":
        body = gzip.compress(FEED)
    elif encoding == "deflate":
        body = zlib.compress(FEED)
    else:
        c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        body = c.compress(FEED) + c.flush()
    wire = "gzip" if encoding == "gzip" else "deflate"
    url = _body_route(server, f"/z-{encoding}.xml", body, {**RSS, "Content-Encoding": wire})
    r = fetch1(url)
    assert r.ok and r.content == FEED
    assert "content-encoding" not in r.headers and "content-length" not in r.headers
    assert "gzip" in server.requests[-1][1]["Accept-Encoding"]


# -- concurrency -------------------------------------------------------------------------------------

def _slow_routes(server, n: int):
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def fn(h):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.15)
        with lock:
            state["now"] -= 1
        h.send_response(200)
        h.send_header("Content-Length", str(len(FEED)))
        h.end_headers()
        h.wfile.write(FEED)

    return [server.route(f"/slow{i}.xml", fn) for i in range(n)], state


def test_per_host_limit(server):
    urls, state = _slow_routes(server, 8)
    results = fetch_feeds([FetchRequest(src(u, str(i)), u) for i, u in enumerate(urls)],
                          replace(FAST, concurrency=20, per_host=2))
    assert all(r.ok for r in results) and state["max"] == 2


def test_global_limit(server):
    urls, state = _slow_routes(server, 8)
    results = fetch_feeds([FetchRequest(src(u, str(i)), u) for i, u in enumerate(urls)],
                          replace(FAST, concurrency=3, per_host=10))
    assert all(r.ok for r in results) and state["max"] == 3


# -- HTML pages and autodiscovery -----------------------------------------------------------------

PAGE = b"""<!DOCTYPE html><html><head><title>Blog</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/rss+xml" title="RSS" href="/blog/feed.xml">
</head><body><a href="/x">x</a></body></html>"""


def test_html_page_finds_its_feed(server):
    feed = server.serve_bytes("/blog/feed.xml", FEED, etag='"b"')
    page = server.serve_bytes("/blog/", PAGE, headers={"Content-Type": "text/html; charset=utf-8"})
    source = src(page)
    r = fetch1(page)
    assert r.ok and r.content == FEED and r.url == page
    assert r.final_url == feed and r.permanent_url == feed and r.etag == '"b"'
    st = state_after(r, source=source)
    assert st.moved_to == feed
    req = schedule.request_for(source, st)
    assert req.url == feed and req.etag == '"b"'


def test_html_page_without_a_feed_link_is_an_error(server):
    page = server.serve_bytes("/plain.html", b"<html><head></head><body>hi</body></html>",
                              headers={"Content-Type": "text/html"})
    r = fetch1(page)
    assert r.content is None and "links to no feed" in r.error


def test_feed_served_as_text_html_is_still_a_feed(server):
    url = server.serve_bytes("/mislabelled.xml", FEED, headers={"Content-Type": "text/html"})
    r = fetch1(url)
    assert r.ok and r.content == FEED and r.permanent_url is None


# -- local files and odd URLs -------------------------------------------------------------------------

def test_file_url_is_read_with_mtime_as_validator(tmp_path):
    path = tmp_path / "local.xml"
    path.write_bytes(FEED)
    source = src(path.as_uri())
    r = fetch1(schedule.request_for(source, None))
    assert r.ok and r.status == 200 and r.content == FEED and r.last_modified
    st = state_after(r, source=source)
    again = fetch1(schedule.request_for(source, st))
    assert again.not_modified and again.content is None
    assert "file not found" in fetch1((tmp_path / "nope.xml").as_uri()).error
    assert "larger than" in fetch1(path.as_uri(), replace(FAST, max_bytes=10)).error


def test_bad_urls_become_errors():
    results = fetch_feeds([FetchRequest(src("http://[::1"), "http://[::1"),
                           FetchRequest(src("gopher://x/"), "gopher://x/")], FAST)
    assert all(r.error and not r.ok for r in results)


def test_inside_a_running_event_loop(server):
    import asyncio

    url = server.serve_bytes("/loop.xml", FEED)

    async def inner():
        return fetch1(url)

    assert asyncio.run(inner()).ok


# -- charsets ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ctype, body, title", [
    # the server claims Latin-1, the document is UTF-8 Tamil/Sinhala and says so
    ("text/xml; charset=iso-8859-1",
     "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>தமிழ் ශ්‍රී"
     "</title><item><title>செய்தி</title><guid>1</guid></item></channel></rss>".encode(),
     "தமிழ் ශ්‍රී"),
    # the server claims UTF-8, the document is windows-1252 and says so
    ("application/rss+xml; charset=utf-8",
     "<?xml version='1.0' encoding='windows-1252'?><rss version='2.0'><channel><title>café "
     "“quoted”</title><item><title>x</title><guid>1</guid></item></channel></rss>".encode("cp1252"),
     "café “quoted”"),
])
def test_wrong_charset_in_the_header_still_gives_the_right_text(server, ctype, body, title):
    from aggregator.sources import parse

    url = server.serve_bytes("/charset.xml", body, headers={"Content-Type": ctype})
    r = fetch1(url)
    assert r.ok and r.content == body and r.headers["content-type"] == ctype
    parsed = parse.parse_feed(r.content, r.headers, r.final_url)
    assert parsed.title == title and "\ufffd" not in parsed.title
