"""The due feeds a run fetches, claimed from the store a batch at a time.

Where several runs share the store (PostgreSQL), each claims ``storage.batch`` feeds at a time
for ``storage.lease`` seconds (``Store.claim_feeds``: ``SELECT … FOR UPDATE SKIP LOCKED``),
renews the lease while it works and releases each feed when it is stored; a feed another run
finished since this one began is left out, and one another run holds is waited for: taken over
if that run dies (its lease ends), left out when it finishes. With one run at a time (SQLite,
its run lock held), one batch: every due feed. The decision whether a feed is due stays
``schedule.is_due``'s, asked again under the claim with the feed's state as it is then.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import time
import uuid
from datetime import datetime

from .config import Config
from .errors import AggregatorError
from .models import FeedSource, FeedState
from .sources import schedule
from .store import Store

log = logging.getLogger("aggregator")


class Claims:
    """This run's claims (see the module doc): ``next`` hands the downloads the next batch,
    ``done`` releases a stored feed, ``renew`` keeps the leases, ``give_back`` frees the rest
    when the run ends early."""

    def __init__(self, config: Config, store: Store, due: list[FeedSource], now: datetime,
                 force: bool, since: datetime):
        self.store, self.now, self.force, self.since = store, now, force, since
        self.by_id = {f.id: f for f in due}
        self.left = [f.id for f in due]  # not claimed yet, in config order
        self.shared = store.shares_feeds
        self.batch = config.storage.batch if self.shared else max(len(due), 1)
        # with one run at a time (its lock held), a lease keeps nobody out: a killed run's
        # claims must not hold up the next run
        self.lease = config.storage.lease if self.shared else 0.0
        self.renew_every = self.lease / 3 if self.shared else 3600.0
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held: set[str] = set()
        self.elsewhere: list[str] = []  # due here, fetched by another run
        self._renewed = time.monotonic()

    def _due(self, feed_id: str, state: FeedState | None) -> bool:
        return schedule.is_due(self.by_id[feed_id], state, self.now, force=self.force)

    def next(self, batches: queue.Queue, states: dict[str, FeedState]) -> int:
        """Claim the next batch and hand its requests to the downloads; 0 when none is left."""
        waited = False
        while self.left:
            claim = self.store.claim_feeds(self.left, worker=self.worker, since=self.since,
                                           limit=self.batch, lease=self.lease, due=self._due)
            gone = set(claim.feeds) | set(claim.settled)
            self.left = [f for f in self.left if f not in gone]
            self.elsewhere += claim.settled
            if claim.feeds:
                self.held |= set(claim.feeds)
                self._renewed = time.monotonic()
                requests = []
                for fid, state in claim.feeds.items():
                    if state is not None:
                        states[fid] = state  # as it is now: another run may have fetched it
                    requests.append(schedule.request_for(self.by_id[fid], state))
                batches.put(requests)
                return len(requests)
            if not claim.waiting:
                break
            if not waited:
                log.info("waiting for %d feeds other runs are fetching (taken over if one of "
                         "them stops: its lease ends within %g s)", claim.waiting, self.lease)
                waited = True
            time.sleep(min(self.lease / 10, 2.0))
        return 0

    def done(self, feed_id: str) -> None:
        self.store.release_feeds(self.worker, [feed_id], done=True)
        self.held.discard(feed_id)
        if self.shared and time.monotonic() - self._renewed > self.renew_every:
            self.renew()

    def renew(self) -> None:
        if self.shared and self.held:
            self.store.renew_claims(self.worker, self.lease)
        self._renewed = time.monotonic()

    def give_back(self) -> None:
        if self.held:
            try:
                self.store.release_feeds(self.worker, sorted(self.held), done=False)
            except AggregatorError as e:  # their leases end by themselves
                log.warning("could not give back %d claimed feeds: %s", len(self.held), e)
            self.held.clear()
