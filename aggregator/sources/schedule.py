"""When each feed is next due, from its stored state and the server's answer.

Pure functions, no I/O; the clock is a parameter. The pipeline asks
``is_due`` for each configured feed, builds its request with ``request_for``
and, after the fetch, computes the new state with ``next_state``.

Decisions (issue 4):

- A permanent redirect (301/308 chain, or a page whose feed was found by
  autodiscovery) is recorded as ``moved_to``. We keep fetching the new URL from
  then on, and ``aggregator status`` says to update the config
  (``aggregator feeds apply-moves`` does it). Once the config names the new
  URL, the validators carry over.
- 410 Gone: never fetched again until the feed's configured url changes.
- Failures back off exponentially: ``interval * 2**(failures-1)`` capped at
  ``max_backoff``, never sooner than the server's Retry-After (clamped), plus
  up to ``schedule.jitter`` of it, a share fixed per feed id, so feeds failing
  together do not retry together. (A feed that works is due again one interval
  later exactly: a jittered interval would make a feed polled every 30 minutes
  by cron miss every other run.)
- Success: next fetch one interval later, or later if Cache-Control max-age /
  Expires says the document will not change before then (clamped to
  ``max_retry_after``).
- A run that starts a little before a feed's due time (``DUE_GRACE``) still
  fetches it, so a schedule whose interval equals the feed interval never
  skips every other run because of a few milliseconds.
- Previous good values (title, validators, last_success...) are never lost on
  a failure.
- ``run --all`` (``force``) fetches feeds that are merely not due yet, never
  one the server asked us to leave alone: gone (410), or an unexpired
  Retry-After (``hold_until``).
"""

from __future__ import annotations

import email.utils
import hashlib
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Mapping

from ..config import FetchConfig
from ..models import FeedSource, FeedState, FetchRequest, FetchResult

DUE_GRACE = timedelta(seconds=60)
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.I)


def is_due(source: FeedSource, state: FeedState | None, now: datetime, *,
           force: bool = False) -> bool:
    """Should ``source`` be fetched at ``now``? ``force``: even when it is not due yet, but not
    when the server asked us to stay away (``held``)."""
    if state is None or source.url not in _known_urls(state):
        return True  # never fetched, or the config entry changed
    if held(state, now):
        return False
    return force or state.next_due is None or now + DUE_GRACE >= state.next_due


def held(state: FeedState | None, now: datetime) -> bool:
    """The server asked us to leave the feed alone: it is gone (410), or its Retry-After has
    not expired."""
    if state is None:
        return False
    return state.gone or (state.hold_until is not None and now < state.hold_until)


def request_for(source: FeedSource, state: FeedState | None) -> FetchRequest:
    """The request to make for ``source``: the URL to ask and the validators to send back."""
    if state is None or source.url not in _known_urls(state):
        return FetchRequest(source=source, url=source.url)
    url = state.moved_to or source.url
    return FetchRequest(source=source, url=url, etag=state.etag, last_modified=state.last_modified)


def next_state(prev: FeedState | None, source: FeedSource, result: FetchResult, now: datetime, *,
               interval: float, settings: FetchConfig, entry_count: int | None = None,
               title: str | None = None, site_link: str | None = None,
               language: str | None = None, jitter: float = 0.0) -> FeedState:
    """The feed's state after ``result``."""
    base = _carry_over(prev, source)
    moved_to = base.moved_to
    if result.permanent_url and result.permanent_url != source.url:
        moved_to = result.permanent_url
    elif result.url == source.url and not result.error:
        moved_to = None  # the configured URL answered itself: no move (any more)
    common = dict(
        url=source.url, moved_to=moved_to, last_attempt=result.fetched_at or now,
        last_status=result.status, final_url=result.final_url or base.final_url,
        entry_count=base.entry_count if entry_count is None else entry_count,
        title=title or base.title, site_link=site_link or base.site_link,
        language=language or base.language)

    if result.gone:
        return replace(base, **common, gone=True, failures=base.failures + 1, next_due=None,
                       last_error=result.error or "HTTP 410 Gone", error_kind="gone",
                       hold_until=None)
    if result.error or not result.ok:
        failures = base.failures + 1
        delay = min(interval * 2 ** (failures - 1), settings.max_backoff)
        delay *= 1 + jitter * jitter_fraction(source.id)
        delay = min(delay, settings.max_backoff)
        hold = None
        if result.retry_after is not None:
            wait = min(result.retry_after, settings.max_retry_after)
            delay = max(delay, wait)
            hold = now + timedelta(seconds=wait) if wait > 0 else None
        return replace(base, **common, gone=False, failures=failures,
                       last_error=result.error or "no content",
                       error_kind=result.error_kind or "other", hold_until=hold,
                       next_due=now + timedelta(seconds=delay))

    delay = max(interval, min(cache_lifetime(result.headers, now) or 0.0, settings.max_retry_after))
    etag, last_modified = result.etag, result.last_modified
    if result.not_modified:  # a 304 may omit the validators: keep ours
        etag = etag or base.etag
        last_modified = last_modified or base.last_modified
    return replace(base, **common, gone=False, failures=0, last_error=None, error_kind=None,
                   hold_until=None, last_success=now, etag=etag, last_modified=last_modified,
                   next_due=now + timedelta(seconds=delay))


def health(state: FeedState | None, now: datetime) -> str:
    """One word for the feed's health: new, ok, moved, failing, backing-off, gone."""
    if state is None:
        return "new"
    if state.gone:
        return "gone"
    if state.failures:
        return "backing-off" if state.next_due and state.next_due > now else "failing"
    if state.moved_to:
        return "moved"
    return "ok"


def jitter_fraction(feed_id: str) -> float:
    """A stable number in [0, 1) derived from the feed id."""
    digest = hashlib.sha256(feed_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2 ** 32


def cache_lifetime(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds the response says it stays fresh (Cache-Control max-age, else Expires)."""
    cc = headers.get("cache-control") or ""
    if "no-cache" in cc.lower() or "no-store" in cc.lower():
        return None
    m = _MAX_AGE.search(cc)
    if m:
        return float(m.group(1))
    expires = headers.get("expires")
    if expires:
        try:
            when = email.utils.parsedate_to_datetime(expires)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, (when - now).total_seconds())
    return None


def _known_urls(state: FeedState) -> tuple[str | None, ...]:
    return (state.url, state.moved_to)


def _carry_over(prev: FeedState | None, source: FeedSource) -> FeedState:
    """The previous state when it is still this feed's; a fresh one (keeping what the
    feed itself told us) when the configured URL changed."""
    if prev is None:
        return FeedState(feed_id=source.id, url=source.url)
    if source.url in _known_urls(prev):
        if prev.moved_to == source.url:  # the move was applied to the config
            return replace(prev, url=source.url, moved_to=None)
        return prev
    return FeedState(feed_id=source.id, url=source.url, title=prev.title, site_link=prev.site_link,
                     language=prev.language, last_success=prev.last_success,
                     entry_count=prev.entry_count)
