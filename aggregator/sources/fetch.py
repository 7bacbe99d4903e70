"""The HTTP client: download feeds politely and survive the real web.

``fetch_feeds`` downloads many feeds at once (asyncio + httpx) and gives one
``FetchResult`` per request, in order; one feed's failure is that result's
``error``, never an exception. What it does for each feed:

- conditional GET: the request's ETag / Last-Modified are sent back; a 304 is
  ``not_modified`` with no content (RFC 9110 section 13.1);
- redirects are followed by hand so the chain is known: ``permanent_url`` is
  set only when every hop was a 301/308 (RFC 9110 section 15.4); loops and
  chains longer than ``max_redirects`` are cut; a redirect may never leave
  http(s) (no ``file://`` from a web server), nor lead from a public address
  into a private network (``netguard``; the feed the config names may be
  anywhere);
- 410 is ``gone``; 429/503 ``Retry-After`` (seconds or an HTTP date) is
  returned clamped to ``max_retry_after``;
- timeouts: connect, read (silence) and the whole download of one feed, so a
  server dripping a byte a second is cut at ``timeout``; waiting for a free
  slot (overall or per host) is not part of it;
- the size cap is enforced while streaming and *after* decompression: we
  decompress the raw stream ourselves with a bounded ``zlib`` output, so a
  gzip bomb never expands more than ``max_bytes`` into memory;
- a global and a per-host concurrency limit, the project's User-Agent, a
  couple of quick retries on connection errors and timeouts;
- an HTML page instead of a feed: the first ``<link rel="alternate">`` feed
  (``discover.find_feed_links``) is fetched (checked like a redirect) and
  reported as ``final_url`` and ``permanent_url`` so ``aggregator status`` can
  suggest updating the config.

Every failure carries an ``error_kind`` (``models.ERROR_KINDS``) besides its text.

``file://`` URLs are read from disk (status 200, same size cap); their mtime
acts as Last-Modified so an unchanged local file is a "304" too.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import os
import socket
import ssl
import threading
import time
import zlib
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping, Sequence
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from ..config import FetchConfig
from ..models import FetchRequest, FetchResult
from . import netguard

ACCEPT = ("application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
          "application/feed+json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, "
          "text/html;q=0.5, */*;q=0.1")
_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}
_CHUNK = 64 * 1024
# Headers that describe the wire form of the body; the body we return is decoded.
_WIRE_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class _Failure(Exception):
    """One feed's download failed; the message is shown to the user."""

    def __init__(self, message: str, status: int | None = None, kind: str = "other", **extra):
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.extra = extra


class _Clock:
    """The time left for one feed's download: ``timeout`` seconds of it, not counting the
    waits for a free slot on a host (``pause``/``resume``)."""

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds
        self.paused_at: float | None = None

    def pause(self) -> None:
        self.paused_at = time.monotonic()

    def resume(self) -> None:
        if self.paused_at is not None:
            self.deadline += time.monotonic() - self.paused_at
            self.paused_at = None

    def remaining(self) -> float:
        now = self.paused_at if self.paused_at is not None else time.monotonic()
        return self.deadline - now

    async def run(self, coro):
        """Await ``coro`` until it finishes or the time is up (``asyncio.TimeoutError``)."""
        task = asyncio.ensure_future(coro)
        try:
            while True:
                left = self.remaining()
                if self.paused_at is None and left <= 0:
                    task.cancel()
                    raise asyncio.TimeoutError
                done, _ = await asyncio.wait({task}, timeout=min(max(left, 0.01), 0.5))
                if done:
                    return task.result()
        finally:
            if not task.done():
                task.cancel()
                try:
                    await task
                except BaseException:
                    pass


def fetch_feeds(requests: Sequence[FetchRequest], settings: FetchConfig, *,
                transport: httpx.AsyncBaseTransport | None = None,
                clock: Callable[[], datetime] = utcnow,
                on_result: Callable[[FetchResult], None] | None = None,
                room: Callable[[], bool] | None = None,
                keep_content: bool = True,
                policy: netguard.Policy | None = None) -> list[FetchResult]:
    """Download every request; one result per request, in the same order. Never raises.

    ``on_result`` is called with each result as soon as it is complete (from the thread that
    runs the downloads), so a caller can process feeds while others still download. ``room``,
    when given, is asked before each download starts; while it answers False the download
    waits (a consumer that falls behind holds back further downloads instead of piling up
    bodies in memory; the wait does not count against the feed's timeout). With
    ``keep_content=False`` the returned results carry no body: ``on_result`` had it.
    ``policy`` tells public addresses from private ones (``netguard``; tests give another rule).
    """
    if not requests:
        return []
    coro_args = (list(requests), settings, transport, clock, on_result, room, keep_content, policy)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(fetch_feeds_async(*coro_args))
    # Called from inside an event loop (a notebook, an async host): run in a thread.
    box: list = []
    thread = threading.Thread(target=lambda: box.append(asyncio.run(fetch_feeds_async(*coro_args))))
    thread.start()
    thread.join()
    return box[0]


async def fetch_feeds_async(requests: Sequence[FetchRequest], settings: FetchConfig,
                            transport: httpx.AsyncBaseTransport | None = None,
                            clock: Callable[[], datetime] = utcnow,
                            on_result: Callable[[FetchResult], None] | None = None,
                            room: Callable[[], bool] | None = None,
                            keep_content: bool = True,
                            policy: netguard.Policy | None = None) -> list[FetchResult]:
    """The async core of ``fetch_feeds``."""
    fetcher = _Fetcher(settings, clock, room, policy)
    timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout, pool=None)
    limits = httpx.Limits(max_connections=settings.concurrency,
                          max_keepalive_connections=settings.concurrency)
    async with httpx.AsyncClient(transport=transport, timeout=timeout, limits=limits,
                                 follow_redirects=False,
                                 headers={"User-Agent": settings.user_agent, "Accept": ACCEPT,
                                          "Accept-Encoding": "gzip, deflate"}) as client:
        fetcher.client = client
        if fetcher.policy is not None and transport is None:
            netguard.install(client, fetcher.policy)

        async def one(req: FetchRequest) -> FetchResult:
            result = await fetcher.fetch(req)
            if on_result is not None:
                try:
                    on_result(result)
                except Exception:  # a progress callback must not lose the run
                    pass
            if not keep_content and result.content is not None:
                result = replace(result, content=None)
            return result

        return list(await asyncio.gather(*(one(r) for r in requests)))


class _Fetcher:
    def __init__(self, settings: FetchConfig, clock: Callable[[], datetime],
                 room: Callable[[], bool] | None = None, policy: netguard.Policy | None = None):
        self.settings = settings
        self.clock = clock
        self.room = room
        self.client: httpx.AsyncClient | None = None
        self.global_limit = asyncio.Semaphore(settings.concurrency)
        self.host_limits: dict[str, asyncio.Semaphore] = {}
        # None: every hop may go anywhere (fetch.allow_private_redirects)
        self.policy = None if settings.allow_private_redirects else (policy or netguard.Policy())
        self._private_origins: dict[str, bool] = {}  # configured URL -> on a private address

    def _has_room(self) -> bool:
        try:
            return bool(self.room())  # type: ignore[misc]
        except Exception:  # a broken callback must not stall the run
            return True

    def host_limit(self, url: str) -> asyncio.Semaphore:
        host = urlsplit(url).netloc.lower()
        sem = self.host_limits.get(host)
        if sem is None:
            sem = self.host_limits[host] = asyncio.Semaphore(self.settings.per_host)
        return sem

    async def fetch(self, req: FetchRequest) -> FetchResult:
        async with self.global_limit:
            # waiting for room happens inside the global limit, so at most ``concurrency``
            # downloads poll, and before the clock of this feed's timeout starts
            while self.room is not None and not self._has_room():
                await asyncio.sleep(0.02)
            fetched_at = self.clock()
            base = FetchResult(feed_id=req.source.id, url=req.url, fetched_at=fetched_at)
            started = time.monotonic()
            try:
                if urlsplit(req.url).scheme.lower() == "file":
                    result = await asyncio.to_thread(_read_file, req, base, self.settings.max_bytes)
                else:
                    result = await self._fetch_http(req, base, started)
            except _Failure as f:
                result = replace(base, error=str(f), status=f.status, error_kind=f.kind, **f.extra)
            except Exception as e:  # never let one feed take the run down
                result = replace(base, error=f"unexpected error: {type(e).__name__}: {e}",
                                 error_kind="other")
            return replace(result, elapsed=time.monotonic() - started)

    async def _fetch_http(self, req: FetchRequest, base: FetchResult, started: float) -> FetchResult:
        s = self.settings
        clock = _Clock(s.timeout)
        attempt = 0
        while True:
            try:
                result = await clock.run(self._chain(req, base, clock))
            except asyncio.TimeoutError:
                raise _Failure(f"timed out: the whole download took more than {s.timeout:g} s",
                               kind="timeout")
            except httpx.TransportError as e:
                message, kind = _transport_message(e, s)
                if attempt >= s.retries:
                    raise _Failure(message, kind=kind) from e
                attempt += 1
                # short exponential back-off inside one run; the schedule does the long one
                pause = min(0.25 * 2 ** (attempt - 1), 2.0)
                if pause >= clock.remaining():
                    raise _Failure(message, kind=kind) from e
                await asyncio.sleep(pause)
                continue
            break
        if result.content is not None and _looks_like_html(result.content, result.headers):
            result = await self._discover(req, result, clock)
        return result

    async def _discover(self, req: FetchRequest, page: FetchResult, clock: _Clock) -> FetchResult:
        """An HTML page: fetch the first feed it links to with <link rel="alternate">."""
        from .discover import find_feed_links

        page_url = page.final_url or page.url
        links = [u for u in find_feed_links(page.content or b"", page_url) if u != page_url]
        if not links:
            return replace(page, content=None, error_kind="not-a-feed",
                           error="an HTML page, not a feed, and it links to no feed "
                                 "(no <link rel=\"alternate\">)")
        feed_req = FetchRequest(source=req.source, url=links[0])
        try:
            fresh = FetchResult(feed_id=page.feed_id, url=links[0], fetched_at=page.fetched_at)
            feed = await clock.run(self._chain(feed_req, fresh, clock))
        except asyncio.TimeoutError:
            raise _Failure(f"timed out: the whole download took more than "
                           f"{self.settings.timeout:g} s (feed found at {links[0]})", kind="timeout")
        except httpx.TransportError as e:
            message, kind = _transport_message(e, self.settings)
            raise _Failure(f"{message} (feed found at {links[0]})", kind=kind) from e
        if feed.error:
            return replace(feed, url=req.url, error=f"{feed.error} (feed found at {links[0]})")
        # The configured URL is a page; the feed it names is the URL to use from now on.
        return replace(feed, url=req.url, permanent_url=feed.permanent_url or links[0])

    async def _public_only(self, source_url: str, url: str) -> bool:
        """Whether a hop to ``url`` must stay on public addresses: every hop but the configured
        URL itself, unless that URL is on a private address (an intranet feed may redirect
        within the intranet) or the check is off."""
        if self.policy is None or url == source_url:
            return False
        private = self._private_origins.get(source_url)
        if private is None:
            host = (urlsplit(source_url).hostname or "").lower()
            try:
                port = urlsplit(source_url).port or 80
            except ValueError:
                port = 80
            private = bool(host) and self.policy.refuse(
                host, await netguard.resolve(host, port)) is not None
            self._private_origins[source_url] = private
        return not private

    async def _chain(self, req: FetchRequest, base: FetchResult, clock: _Clock) -> FetchResult:
        """Follow redirects by hand from ``req.url``; returns the final hop's result."""
        s = self.settings
        headers = {}
        if req.etag:
            headers["If-None-Match"] = req.etag
        if req.last_modified:
            headers["If-Modified-Since"] = req.last_modified
        url = req.url
        seen = [url]
        permanent = True
        while True:
            public_only = await self._public_only(req.source.url, url)
            token = netguard.PUBLIC_ONLY.set(public_only)
            try:
                if public_only:
                    await netguard.check_host(self.policy, url)  # type: ignore[arg-type]
                async with self._slot(url, clock):
                    assert self.client is not None
                    async with self.client.stream("GET", url, headers=headers) as resp:
                        if public_only:
                            netguard.check_peer(self.policy, url, resp.extensions)  # type: ignore[arg-type]
                        status = resp.status_code
                        hdrs = {k.lower(): v for k, v in resp.headers.items()}
                        location = hdrs.get("location")
                        if not (status in _REDIRECTS and location):
                            return await self._final(req, base, resp, hdrs, url, seen, permanent)
                        # a redirect: followed below, after the connection is released
            except netguard.Blocked as e:
                raise _Failure(str(e), kind="blocked") from e
            finally:
                netguard.PUBLIC_ONLY.reset(token)
            target = urljoin(url, location.strip())
            if urlsplit(target).scheme.lower() not in ("http", "https"):
                raise _Failure(f"redirect to a non-HTTP URL refused: {target}", status,
                               kind="redirect")
            permanent = permanent and status in _PERMANENT
            if target in seen:
                raise _Failure("redirect loop: " + " -> ".join(seen + [target]), status,
                               kind="redirect")
            if len(seen) > s.max_redirects:
                raise _Failure(f"too many redirects (more than {s.max_redirects}): "
                               + " -> ".join(seen[:3] + ["...", target]), status, kind="redirect")
            seen.append(target)
            url = target

    @contextlib.asynccontextmanager
    async def _slot(self, url: str, clock: _Clock):
        """A download slot on ``url``'s host; the wait for it does not count against the
        feed's timeout."""
        limit = self.host_limit(url)
        if limit.locked():
            clock.pause()
            try:
                await limit.acquire()
            finally:
                clock.resume()
        else:
            await limit.acquire()
        try:
            yield
        finally:
            limit.release()

    async def _final(self, req: FetchRequest, base: FetchResult, resp: httpx.Response,
                     hdrs: dict[str, str], url: str, seen: list[str], permanent: bool) -> FetchResult:
        s = self.settings
        status = resp.status_code
        moved = seen[-1] if permanent and len(seen) > 1 else None
        result = replace(base, status=status, final_url=url, permanent_url=moved,
                         headers={k: v for k, v in hdrs.items() if k not in _WIRE_HEADERS},
                         etag=hdrs.get("etag") or None, last_modified=hdrs.get("last-modified") or None)
        if status == 304:
            return replace(result, not_modified=True, etag=result.etag or req.etag,
                           last_modified=result.last_modified or req.last_modified)
        if status == 410:
            return replace(result, gone=True, etag=None, last_modified=None, error_kind="gone",
                           error="HTTP 410 Gone: the feed was removed; fix its url in the config")
        if status in (429, 503) or status >= 400 or status < 200:
            retry = None
            if "retry-after" in hdrs:
                retry = parse_retry_after(hdrs["retry-after"], self.clock(), s.max_retry_after)
            reason = resp.reason_phrase or ""
            return replace(result, retry_after=retry, etag=None, last_modified=None,
                           error=f"HTTP {status} {reason}".strip(), error_kind="http")
        if status in _REDIRECTS:  # a redirect without a Location
            return replace(result, error=f"HTTP {status} redirect without a Location header",
                           error_kind="redirect")
        content = await _read_capped(resp, hdrs, s.max_bytes)
        return replace(result, content=content)


async def _read_capped(resp: httpx.Response, hdrs: dict[str, str], max_bytes: int) -> bytes:
    """Read the body, decompressing it ourselves with bounded output; cut at ``max_bytes``."""
    encodings = [e.strip().lower() for e in hdrs.get("content-encoding", "").split(",") if e.strip()]
    encodings = [e for e in encodings if e != "identity"]
    too_big = f"larger than {max_bytes} bytes (fetch.max_bytes), cut off"
    if not encodings:
        try:
            if int(hdrs.get("content-length", "0")) > max_bytes:
                raise _Failure(too_big, resp.status_code, kind="too-large")
        except ValueError:
            pass
    decoders = []
    for enc in reversed(encodings):  # the last encoding applied is the first to undo
        if enc not in ("gzip", "x-gzip", "deflate"):
            raise _Failure(f"unsupported Content-Encoding {enc!r}", resp.status_code, kind="http")
        decoders.append(_Inflater(enc))
    out = bytearray()
    async for chunk in resp.aiter_raw(_CHUNK):
        for dec in decoders:
            chunk = dec.feed(chunk, max_bytes - len(out) + 1)
        out += chunk
        if len(out) > max_bytes:
            raise _Failure(too_big, resp.status_code, kind="too-large")
    for dec in decoders:
        out += dec.flush(max_bytes - len(out) + 1)
        if len(out) > max_bytes:
            raise _Failure(too_big, resp.status_code, kind="too-large")
    return bytes(out)


class _Inflater:
    """Incremental gzip/deflate decoding whose output per call is bounded."""

    def __init__(self, encoding: str):
        self.raw_deflate_tried = encoding != "deflate"
        # 16+ = gzip header; 0+ MAX_WBITS = zlib header ("deflate" should be zlib, often is raw)
        self.obj = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS)
        self.first = True

    def feed(self, data: bytes, limit: int) -> bytes:
        limit = max(limit, 1)
        try:
            out = self.obj.decompress(data, limit)
        except zlib.error as e:
            if self.first and not self.raw_deflate_tried:
                self.raw_deflate_tried = True
                self.obj = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self.obj.decompress(data, limit)
            else:
                raise _Failure(f"corrupt compressed body: {e}", kind="http") from e
        self.first = False
        # Output beyond ``limit`` stays in unconsumed_tail: the caller fails on size anyway.
        return out

    def flush(self, limit: int) -> bytes:
        try:
            out = self.obj.decompress(self.obj.unconsumed_tail, max(limit, 1))
            return out + (self.obj.flush() if not self.obj.unconsumed_tail else b"")
        except zlib.error as e:
            raise _Failure(f"corrupt compressed body: {e}", kind="http") from e


def _read_file(req: FetchRequest, base: FetchResult, max_bytes: int) -> FetchResult:
    parts = urlsplit(req.url)
    path = Path(unquote(parts.path))
    if parts.netloc and parts.netloc != "localhost" and os.name == "nt":  # pragma: no cover
        path = Path(f"//{parts.netloc}{unquote(parts.path)}")
    try:
        st = path.stat()
        mtime = email.utils.formatdate(st.st_mtime, usegmt=True)
        if req.last_modified and req.last_modified == mtime:
            return replace(base, status=304, not_modified=True, final_url=req.url,
                           last_modified=mtime)
        if st.st_size > max_bytes:
            return replace(base, error=f"larger than {max_bytes} bytes (fetch.max_bytes): {path}",
                           error_kind="too-large")
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        return replace(base, error=f"file not found: {path}", error_kind="file")
    except OSError as e:
        return replace(base, error=f"cannot read {path}: {e.strerror or e}", error_kind="file")
    if len(data) > max_bytes:
        return replace(base, error=f"larger than {max_bytes} bytes (fetch.max_bytes): {path}",
                       error_kind="too-large")
    return replace(base, status=200, content=data, final_url=req.url, last_modified=mtime)


def parse_retry_after(value: str, now: datetime, maximum: float) -> float | None:
    """Retry-After as seconds from ``now`` (RFC 9110 section 10.2.3), clamped to [0, maximum]."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - now).total_seconds()
    return max(0.0, min(seconds, maximum))


def _transport_message(e: httpx.TransportError, s: FetchConfig) -> tuple[str, str]:
    """(what went wrong, its kind) for a network error."""
    if isinstance(e, httpx.ConnectTimeout):
        return f"timed out connecting (more than {s.connect_timeout:g} s)", "timeout"
    if isinstance(e, httpx.ReadTimeout):
        return f"timed out reading: no data for {s.read_timeout:g} s", "timeout"
    if isinstance(e, httpx.TimeoutException):
        return f"timed out: {e or type(e).__name__}", "timeout"
    if isinstance(e, httpx.ConnectError):
        cause: BaseException | None = e
        while cause is not None:  # the useful OSError sits at the bottom of the chain
            if isinstance(cause, ConnectionRefusedError):
                return "connection refused", "refused"
            if isinstance(cause, socket.gaierror):
                return f"cannot resolve the host name: {cause.strerror or cause}", "dns"
            if isinstance(cause, ssl.SSLError):
                return f"secure connection failed: {cause.reason or cause}", "tls"
            cause = cause.__cause__ or cause.__context__
        return f"cannot connect: {e or 'connection failed'}", "connect"
    if isinstance(e, httpx.UnsupportedProtocol):
        return f"unsupported URL: {e}", "other"
    return f"network error: {type(e).__name__}: {e}", "connect"


_FEED_MARKS = (b"<rss", b"<feed", b"<rdf:rdf", b"<rdf ")


def _looks_like_html(content: bytes, headers: Mapping[str, str]) -> bool:
    """An HTML page rather than a feed (servers often lie about the type, so sniff too)."""
    head = content[:2048].lower()
    if any(mark in head for mark in _FEED_MARKS):
        return False
    ctype = (headers.get("content-type") or "").lower()
    if "html" in ctype:
        return True
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return stripped.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:512]
