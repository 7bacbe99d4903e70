"""Realistic feeds for the benchmarks, made from real news text.

Each feed gets its own mix of real items — titles and bodies of English, Tamil and Sinhala news
from ../shared/data (the topic and language sets, the derived Sri Lankan headline feeds, the
captured English feeds) — so a 1,000-feed run does not see 32 templates copied 31 times (warm
caches, every story syndicated 31 times). The pool holds about 4,200 real items for 38,000
entries: an item's first use is verbatim, every later one is a new headline made of the first
half of its title and the second half of another's (and likewise of their bodies), so words,
scripts and lengths stay real while no two entries share a text.

A feed is English, Tamil or Sinhala (40/30/30 %) and carries 15–60 items spread over the last
60 days, newest first, its newest within the last six hours; a fifth are Atom, the rest RSS 2.0
with HTML descriptions. ``changed(feed, k, now)`` gives the same feed with ``k`` new items dated
``now`` at the top (a steady-state cycle). Everything is deterministic from ``seed``.
"""

from __future__ import annotations

import html
import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
LANGS = (("en", 0.4), ("ta", 0.3), ("si", 0.3))


@dataclass(frozen=True)
class Item:
    title: str
    body: str  # plain text; "" for a headline-only item


def _jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


_ITEM = re.compile(r"<item>.*?</item>|<entry>.*?</entry>", re.S)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.S)
_DESC = re.compile(r"<(description|summary|content:encoded|content)[^>]*>(.*?)</\1>", re.S)
_TAGS = re.compile(r"<[^>]+>")


def _feed_items(path: Path) -> list[Item]:
    out = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for block in _ITEM.findall(text):
        t = _TITLE.search(block)
        d = _DESC.search(block)
        title = html.unescape(_TAGS.sub("", (t.group(1) if t else "").replace("<![CDATA[", "")
                                        .replace("]]>", ""))).strip()
        body = ""
        if d:
            raw = d.group(2).replace("<![CDATA[", "").replace("]]>", "")
            body = " ".join(html.unescape(_TAGS.sub(" ", html.unescape(raw))).split())
        if title:
            out.append(Item(title[:300], body[:4000]))
    return out


def pool() -> dict[str, list[Item]]:
    """Real items per language (titles, bodies where the source has them)."""
    if not SHARED.exists():
        raise SystemExit(f"no {SHARED}: the benchmarks need ../shared/data (or AGGREGATOR_SHARED_DATA)")
    items: dict[str, list[Item]] = {"en": [], "ta": [], "si": []}
    bodies: dict[str, list[str]] = {"en": [], "ta": [], "si": []}
    for lang in items:
        for r in _jsonl(SHARED / "topics" / f"{lang}.jsonl"):
            items[lang].append(Item(r["title"], r.get("text") or ""))
    for kind in ("titles", "sentences", "paragraphs"):
        for r in _jsonl(SHARED / "langid" / f"{kind}.jsonl"):
            if r.get("lang") in items:
                if kind == "titles":
                    items[r["lang"]].append(Item(r["text"], ""))
                else:
                    bodies[r["lang"]].append(r["text"])
    for path in sorted((SHARED / "feeds" / "derived").glob("*.xml")):
        lang = path.name[:2]
        if lang in items:
            items[lang].extend(_feed_items(path))
    for path in sorted((SHARED / "feeds" / "en").glob("*.xml")):
        items["en"].extend(_feed_items(path))
    # headline-only Tamil and Sinhala items get a body from the real sentences and paragraphs of
    # their language on two items of three (six of ten Sri Lankan entries have none)
    rng = random.Random(7)
    for lang in ("ta", "si"):
        pool_bodies = bodies[lang]
        if pool_bodies:
            items[lang] = [Item(it.title, it.body or (" ".join(rng.sample(pool_bodies, 2))
                                                      if rng.random() < 0.67 else ""))
                           for it in items[lang]]
    return {lang: [it for it in dict.fromkeys(v) if it.title.strip()] for lang, v in items.items()}


@dataclass
class Feed:
    index: int
    lang: str
    atom: bool
    entries: list[tuple[str, Item, datetime]]  # (guid, item, published), newest first


def make_feeds(n: int, now: datetime, seed: int = 1) -> list[Feed]:
    rng = random.Random(seed)
    items = pool()
    cursors = {lang: 0 for lang in items}
    orders = {lang: rng.sample(range(len(v)), len(v)) for lang, v in items.items()}
    feeds = []
    for i in range(n):
        lang = rng.choices([lg for lg, _ in LANGS], [w for _, w in LANGS])[0]
        k = rng.randint(15, 60)
        newest = now - timedelta(minutes=rng.randint(5, 360))
        entries = []
        for j in range(k):
            c = cursors[lang]
            cursors[lang] = c + 1
            order = orders[lang]
            item = items[lang][order[c % len(order)]]
            if c >= len(order):  # used before: a headline of its own, half from another item
                item = _splice(item, items[lang][order[(c * 7 + c // len(order)) % len(order)]])
            when = newest - timedelta(days=60 * j / k, minutes=rng.randint(0, 120))
            entries.append((f"bench-{i}-{j}", item, when))
        feeds.append(Feed(i, lang, rng.random() < 0.2, entries))
    return feeds


def changed(feed: Feed, k: int, now: datetime, seed: int) -> Feed:
    """``feed`` with ``k`` new items dated ``now`` on top (its oldest drop off the end)."""
    rng = random.Random(seed * 100_003 + feed.index)
    items = pool_cache()[feed.lang]
    new = [(f"bench-{feed.index}-new-{seed}-{j}", items[rng.randrange(len(items))],
            now - timedelta(minutes=j)) for j in range(k)]
    return Feed(feed.index, feed.lang, feed.atom, (new + feed.entries)[:len(feed.entries)])


def _splice(a: Item, b: Item) -> Item:
    """The first half of ``a`` and the second half of ``b``, for the title and the body."""
    def half(x: list[str], y: list[str]) -> list[str]:
        return x[:max(1, len(x) // 2)] + y[len(y) // 2:]
    title = " ".join(half(a.title.split(), b.title.split()))
    if not a.body or not b.body:
        return Item(title, a.body or b.body)
    sa, sb = re.split(r"(?<=[.!?।])\s+", a.body), re.split(r"(?<=[.!?।])\s+", b.body)
    return Item(title, " ".join(half(sa, sb)))


_POOL: dict[str, list[Item]] | None = None


def pool_cache() -> dict[str, list[Item]]:
    global _POOL
    if _POOL is None:
        _POOL = pool()
    return _POOL


def render(feed: Feed, base: str) -> bytes:
    """The feed document (RSS 2.0 or Atom)."""
    e = html.escape
    if feed.atom:
        parts = [f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
                 f'xml:lang="{feed.lang}"><title>Bench feed {feed.index}</title>'
                 f'<link href="{base}/{feed.index}/"/><id>{base}/{feed.index}/</id>'
                 f"<updated>{feed.entries[0][2].isoformat()}</updated>"]
        for guid, item, when in feed.entries:
            body = "".join(f"<p>{e(p)}</p>" for p in _paragraphs(item.body))
            parts.append(f"<entry><title>{e(item.title)}</title><link href=\"{base}/{feed.index}/{guid}\"/>"
                         f"<id>{base}/{feed.index}/{guid}</id><updated>{when.isoformat()}</updated>"
                         f"<content type=\"html\">{e(body)}</content></entry>")
        parts.append("</feed>")
    else:
        parts = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                 f"<title>Bench feed {feed.index}</title><link>{base}/{feed.index}/</link>"
                 f"<language>{feed.lang}</language><description>benchmark</description>"]
        for guid, item, when in feed.entries:
            body = "".join(f"<p>{e(p)}</p>" for p in _paragraphs(item.body))
            parts.append(f"<item><title>{e(item.title)}</title><link>{base}/{feed.index}/{guid}</link>"
                         f"<guid isPermaLink=\"false\">{guid}</guid>"
                         f"<pubDate>{format_datetime(when.astimezone(timezone.utc), usegmt=True)}</pubDate>"
                         f"<description>{e(body)}</description></item>")
        parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def _paragraphs(text: str) -> list[str]:
    if not text:
        return []
    sentences = re.split(r"(?<=[.!?।])\s+", text)
    return [" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]
