"""No crossing from the public web into a private network, and waits that are not timeouts.

Two real HTTP servers on loopback: 127.0.0.2 plays a public web server (the policy of these
tests counts that one address as public), 127.0.0.1 an internal service that must never be
reached from it. The default policy (``netguard.is_public``) is checked on its own.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from datetime import datetime, timezone

import pytest

from aggregator.config import FetchConfig
from aggregator.models import FeedSource, FetchRequest
from aggregator.sources import netguard, schedule
from aggregator.sources.fetch import fetch_feeds

from conftest import LoopbackServer

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
FAST = FetchConfig(timeout=5, connect_timeout=2, read_timeout=3, retries=0)
SECRET = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>INTERNAL-SECRET-TITLE</title>"
          b"<item><title>secret</title><guid>s</guid></item></channel></rss>")
PUBLIC_FEED = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>Public</title>"
               b"<item><title>news</title><guid>n</guid></item></channel></rss>")
# these tests' rule: 127.0.0.2 is "the public web", every other address is private as usual
POLICY = netguard.Policy(public=lambda ip: str(ip) == "127.0.0.2" or netguard.is_public(ip),
                         exempt=())


@pytest.fixture
def public():
    s = LoopbackServer("127.0.0.2")
    yield s
    s.close()


def fetch1(url: str, settings: FetchConfig = FAST, configured: str | None = None):
    source = FeedSource(id="f", url=configured or url, name="f")
    [r] = fetch_feeds([FetchRequest(source, url)], settings, clock=lambda: NOW, policy=POLICY)
    return r


def redirect(server, path: str, to: str, status: int = 302) -> str:
    def fn(h):
        h.send_response(status)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()
    return server.route(path, fn)


def page_linking(server, path: str, feed_url: str) -> str:
    html = (f'<html><head><link rel="alternate" type="application/rss+xml" href="{feed_url}">'
            "</head><body>hi</body></html>").encode()
    return server.serve_bytes(path, html, headers={"Content-Type": "text/html"})


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_from_the_public_web_into_a_private_address_is_refused(public, server, status):
    internal = server.serve_bytes("/admin/feed.xml", SECRET, headers=RSS)
    url = redirect(public, "/feed.xml", internal, status)
    r = fetch1(url)
    assert r.content is None and r.error_kind == "blocked"
    assert "private network" in r.error and "127.0.0.1" in r.error
    assert server.requests == []  # nothing was sent to the internal service
    st = schedule.next_state(None, FeedSource(id="f", url=url, name="f"), r, NOW, interval=1800,
                             settings=FAST)
    assert st.moved_to is None and st.error_kind == "blocked"  # no "moved" to the internal URL


def test_a_host_name_that_resolves_inside_is_refused_too(public, server):
    port = server.httpd.server_address[1]
    internal = server.serve_bytes("/feed.xml", SECRET, headers=RSS)
    url = redirect(public, "/feed.xml", f"http://localhost:{port}/feed.xml")
    r = fetch1(url)
    assert r.error_kind == "blocked" and "localhost" in r.error and server.requests == []
    assert internal


def test_a_discovered_feed_link_into_a_private_address_is_refused(public, server):
    internal = server.serve_bytes("/feed.xml", SECRET, headers=RSS)
    r = fetch1(page_linking(public, "/", internal))
    assert r.error_kind == "blocked" and server.requests == []


def test_public_redirects_and_discovery_still_work(public):
    feed = public.serve_bytes("/real.xml", PUBLIC_FEED, headers=RSS)
    assert fetch1(redirect(public, "/old.xml", feed, 301)).content == PUBLIC_FEED
    found = fetch1(page_linking(public, "/", feed))
    assert found.content == PUBLIC_FEED and found.permanent_url == feed


def test_a_feed_the_config_names_on_a_private_address_is_allowed_and_may_redirect_inside(server):
    feed = server.serve_bytes("/feed.xml", SECRET, headers=RSS)
    assert fetch1(feed).content == SECRET  # its owner wrote it
    assert fetch1(redirect(server, "/old.xml", feed, 301)).content == SECRET


def test_a_stored_move_into_a_private_address_is_checked_again(public, server):
    internal = server.serve_bytes("/feed.xml", SECRET, headers=RSS)
    configured = public.serve_bytes("/feed.xml", PUBLIC_FEED, headers=RSS)
    r = fetch1(internal, configured=configured)  # the request asks the URL a state says it moved to
    assert r.error_kind == "blocked" and server.requests == []


def test_allow_private_redirects_turns_the_check_off(public, server):
    internal = server.serve_bytes("/feed.xml", SECRET, headers=RSS)
    r = fetch1(redirect(public, "/feed.xml", internal),
               FetchConfig(timeout=5, retries=0, allow_private_redirects=True))
    assert r.content == SECRET


def test_a_kept_alive_connection_to_an_internal_host_is_not_reused_for_a_public_feeds_redirect(
        public, server):
    internal = server.serve_bytes("/feed.xml", SECRET, headers=RSS)
    hop = redirect(public, "/hop.xml", internal)
    # the same run fetches the internal feed (configured: allowed) and a public feed that
    # redirects to it (refused, though a connection to that host is open in the pool)
    reqs = [FetchRequest(FeedSource(id="inside", url=internal, name="i"), internal),
            FetchRequest(FeedSource(id="outside", url=hop, name="o"), hop)]
    inside, outside = fetch_feeds(reqs, FAST, clock=lambda: NOW, policy=POLICY)
    assert inside.content == SECRET
    assert outside.error_kind == "blocked" and outside.content is None


@pytest.mark.parametrize("address,public", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("224.0.0.1", False), ("0.0.0.0", False),
    ("::1", False), ("fe80::1", False), ("fc00::1", False), ("::ffff:127.0.0.1", False),
    ("ff02::1", False), ("8.8.8.8", True), ("1.1.1.1", True), ("2001:4860:4860::8888", True),
    ("::ffff:8.8.8.8", True),
])
def test_which_addresses_count_as_public(address, public):
    assert netguard.is_public(ipaddress.ip_address(address)) is public


def test_the_connect_time_guard_is_installed_on_the_client():
    import httpx

    client = httpx.AsyncClient()
    try:
        assert netguard.install(client, netguard.Policy())
        backend = client._transport._pool._network_backend  # type: ignore[attr-defined]
        assert isinstance(backend, netguard.GuardedBackend)
    finally:
        import asyncio
        asyncio.run(client.aclose())


# -- waiting for a slot is not part of a download's timeout -----------------------------------

def test_feeds_waiting_for_a_slot_on_their_host_do_not_time_out(server):
    served = []
    lock = threading.Lock()

    def slow(h):
        time.sleep(1.0)
        with lock:
            served.append(time.monotonic())
        h.send_response(200)
        h.send_header("Content-Type", RSS["Content-Type"])
        h.send_header("Content-Length", str(len(PUBLIC_FEED)))
        h.end_headers()
        h.wfile.write(PUBLIC_FEED)

    urls = [server.route(f"/{i}.xml", slow) for i in range(6)]
    settings = FetchConfig(timeout=2.5, connect_timeout=2, read_timeout=3, retries=0, per_host=2)
    results = fetch_feeds([FetchRequest(FeedSource(id=str(i), url=u, name=str(i)), u)
                           for i, u in enumerate(urls)], settings, clock=lambda: NOW)
    assert [r.error for r in results] == [None] * 6  # each answered in 1 s
    assert max(served) - min(served) >= 1.5  # and they really waited for each other


def test_the_backend_refuses_to_connect_to_a_private_address_while_public_only(server):
    import asyncio

    import httpcore

    port = server.httpd.server_address[1]
    backend = netguard.GuardedBackend(httpcore.AnyIOBackend(), netguard.Policy(exempt=()))

    async def connect(public_only: bool):
        token = netguard.PUBLIC_ONLY.set(public_only)
        try:
            stream = await backend.connect_tcp("localhost", port, timeout=2)
            await stream.aclose()
        finally:
            netguard.PUBLIC_ONLY.reset(token)

    asyncio.run(connect(False))  # a configured feed's host: connects
    with pytest.raises(netguard.Blocked, match="localhost"):
        asyncio.run(connect(True))
