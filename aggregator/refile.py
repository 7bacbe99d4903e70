"""Stored entries filed again when what decides their topics changed.

An entry's topic is decided once, when it is stored. When the user edits the config's topics,
keywords or a feed's ``topics`` (or an upgrade brings other topic code or models), the entries
already stored are filed again, as a new entry would be filed now: :func:`refile_topics`, called
at the start of every run (``pipeline.update``) and by ``aggregator render``.

Before that, entries embedded by a release that kept no topic embedding (e5 ``query:``; the
classifier's head reads no other) get one, once: :func:`refresh_embeddings`.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from .config import Config
from .enrich import stored_topic
from .store import Store

log = logging.getLogger("aggregator")

TOPIC_INPUTS = "topic_inputs"  # the store's meta key for the topic_inputs() entries were filed with


def topic_inputs(config: Config) -> str:
    """A fingerprint of what decides an entry's topic besides the entry itself: the config's
    topics and keywords, each feed's topics, the topic code and models, and whether the
    optional embeddings are used."""
    from .render.plan import digest
    from .topics import code_fingerprint, embeddings_available

    feeds = [(f.id, f.topics) for f in config.feeds]
    return digest(repr(config.topics), repr(feeds), code_fingerprint(), embeddings_available())


def refile_topics(config: Config, store: Store,
                  on_refresh: Callable[[int, int], None] | None = None) -> int | None:
    """When the topics, keywords or feed topics of the config (or the topic models) are not
    those the stored entries were filed with, file every stored entry again, as a new entry
    would be filed now. Returns how many entries changed topic; None when nothing had to be done."""
    key = topic_inputs(config)
    if store.get_meta(TOPIC_INPUTS) == key:
        return None
    refresh_embeddings(store, on_refresh)
    started = time.monotonic()
    sources = {f.id: f for f in config.feeds}
    changes, moved, seen = [], 0, 0
    for row in store.topic_rows():
        source = sources.get(row.feed_id)
        if source is None:  # a feed no longer in the config: its entries are not shown
            continue
        seen += 1
        try:
            a = stored_topic(config, source, row.title, row.content_html, row.lang,
                             row.categories, row.features)
        except Exception as e:  # one bad entry keeps its topic, never stops the run
            log.warning("entry %s of %s kept its topic %r: %s: %s", row.id, row.feed_id,
                        row.topic, type(e).__name__, e)
            continue
        if (a.topic, a.confidence, a.why) != (row.topic, row.topic_confidence, row.topic_why):
            changes.append((row.id, a.topic, a.confidence, a.why))
            moved += a.topic != row.topic
    if changes:
        store.mark_site_stale()  # before the change: a run killed after it still builds
    store.set_topics(changes)
    store.set_meta(TOPIC_INPUTS, key)
    if seen:
        log.info("topics, keywords or topic models changed: %d of %d stored entries filed "
                 "under another topic (%.1fs)", moved, seen, time.monotonic() - started)
    return moved


def refresh_embeddings(store: Store, on_progress: Callable[[int, int], None] | None = None) -> int:
    """Give the stored entries that were embedded by a release keeping no topic embedding one,
    kept in their story signature (a few hundred at a time, each batch committed: an interrupted
    upgrade goes on where it stopped); ``on_progress(done, total)`` after each batch (and with 0
    before the first). Returns how many; 0 without the optional embeddings."""
    from . import topics
    from .markup import sanitize
    from .topics.stories import lacks_topic_embedding, with_topic_embedding

    if not topics.embeddings_available():
        return 0
    # ids only: a signature is about 3 kB, and a store may hold tens of thousands
    stale = [rid for rid, f in store.features() if lacks_topic_embedding(f)]
    if not stale:
        return 0
    started = time.monotonic()
    log.info("embedding %d stored entries for their topics (once, after an upgrade: this release "
             "classifies with an e5 query: vector; about 30 ms each)", len(stale))
    done = 0
    if on_progress:
        on_progress(0, len(stale))
    step = topics.embedding.BATCH * 32
    for i in range(0, len(stale), step):
        chunk = stale[i:i + step]
        rows = store.texts(chunk)
        pairs = [(rows[rid].title, sanitize.html_to_text(rows[rid].content_html)) for rid in chunk]
        vecs: list = []
        for j in range(0, len(pairs), topics.embedding.BATCH):
            ids = chunk[j:j + topics.embedding.BATCH]

            def fail(n: int, e: Exception, ids: list = ids) -> None:
                # filed on its words, as before, and tried again at the next re-filing
                log.warning("entry %d: no topic embedding, filed on its words: %s: %s",
                            ids[n], type(e).__name__, e)

            vecs += topics.embedding.embed_each(topics.topic_embeddings, pairs[j:j + len(ids)], fail)
        store.set_features([(rid, with_topic_embedding(rows[rid].features or b"", v))
                            for rid, v in zip(chunk, vecs)])
        done += len(chunk)
        if on_progress:
            on_progress(done, len(stale))
        log.info("embedded %d of %d stored entries for their topics (%.0fs)", done, len(stale),
                 time.monotonic() - started)
    return done
