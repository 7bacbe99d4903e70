"""One entry's own work: its language (and each paragraph's), topic, safe HTML and story key.

Pure apart from the clock: ``pipeline`` calls :func:`enrich_all` for the new or changed entries
of a feed (in a worker process when there are many feeds) and stores what it returns. With the
optional extra ``stories``, each entry is embedded (in batches) twice, once for the story key
and once for the topic (``topics.embedding``), and both vectors are kept in the story key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable

from .language import blocklang
from .markup import sanitize
from .sources import media
from .config import Config
from .models import Entry, FeedSource, ParsedEntry, ParsedFeed


def content_hash(pe: ParsedEntry) -> str:
    h = hashlib.sha256()
    for part in (pe.title, pe.link or "", pe.summary, pe.content, "\x1f".join(pe.categories)):
        h.update(part.encode("utf-8", "replace"))
        h.update(b"\x1e")
    return h.hexdigest()[:32]


def enrich_all(config: Config, source: FeedSource, parsed: ParsedFeed, entries: list[ParsedEntry],
               now: datetime, on_error: Callable[[ParsedEntry, Exception], None]
               ) -> list[tuple[ParsedEntry, Entry, bytes | None]]:
    """Detect, classify and sanitise the given entries of one feed (pure apart from the clock):
    (entry as parsed, entry to store, story key). With the optional extra ``stories``, their
    story and topic embeddings are computed a few at a time (``topics.embedding.BATCH``). An
    entry that fails is passed to ``on_error`` and left out; the others go on."""
    from . import topics

    drafts: list[tuple[ParsedEntry, _Draft]] = []
    for pe in entries:
        try:
            drafts.append((pe, _draft(config, source, parsed, pe, now)))
        except Exception as e:  # a bad entry is skipped, never the feed
            on_error(pe, e)
    vecs: list = [(None, None)] * len(drafts)  # per entry: (story, topic) embeddings
    failed: set[int] = set()  # entries the model failed on: skipped, each reported once
    if drafts and topics.embeddings_available():
        for i in range(0, len(drafts), topics.embedding.BATCH):
            chunk = drafts[i:i + topics.embedding.BATCH]
            pairs = [(d.title, d.text) for _pe, d in chunk]

            def fail(j: int, e: Exception, i: int = i, chunk: list = chunk) -> None:
                if i + j not in failed:
                    failed.add(i + j)
                    on_error(chunk[j][0], e)

            vecs[i:i + len(chunk)] = zip(topics.embedding.embed_each(topics.entry_embeddings, pairs, fail),
                                         topics.embedding.embed_each(topics.topic_embeddings, pairs, fail))
    out = []
    for n, ((pe, d), vec) in enumerate(zip(drafts, vecs)):
        if n in failed:
            continue
        try:
            out.append((pe, *_finish(config, source, pe, d, vec)))
        except Exception as e:
            on_error(pe, e)
    return out


@dataclass(frozen=True)
class _Draft:
    """An entry enriched but for what reads its embedding: the topic and the story key."""

    entry: Entry  # topic fields still empty
    title: str  # as classified: legacy fonts converted, a fallback title when there was none
    text: str  # the body as plain text, converted likewise


def _finish(config: Config, source: FeedSource, pe: ParsedEntry, d: _Draft,
            vecs: tuple) -> tuple[Entry, bytes | None]:
    from . import topics

    e = d.entry
    story_vec, topic_vec = vecs
    topic = _topic(config, source, d.title, d.text, e.lang, pe.categories, topic_vec)
    features = topics.story_key_features(d.title, d.text, e.lang, pe.link, embedding=story_vec,
                                         topic_embedding=topic_vec)
    return replace(e, topic=topic.topic, topic_confidence=topic.confidence,
                   topic_why=topic.why), features


def _topic(config: Config, source: FeedSource, title: str, text: str, lang: str,
           categories: tuple[str, ...], vec):
    from . import topics

    return topics.assign_topic(title, text, lang, topics=config.topics, feed_topics=source.topics,
                               categories=categories, embedding=vec)


def stored_topic(config: Config, source: FeedSource, title: str, content_html: str, lang: str,
                 categories: tuple[str, ...], features: bytes | None):
    """The topic a stored entry gets from this config: what it got when it was stored (the
    title and text it was classified on are the stored title and the text of its stored
    content; the topic embedding is the one its story signature keeps), unless the topics, keywords,
    feed topics or models changed since."""
    from . import topics

    vec = topics.stored_topic_embedding(features) if topics.embeddings_available() else None
    return _topic(config, source, title, sanitize.html_to_text(content_html), lang, categories, vec)


def _draft(config: Config, source: FeedSource, parsed: ParsedFeed, pe: ParsedEntry,
           now: datetime) -> _Draft:
    from . import language

    body = pe.content or pe.summary
    text = sanitize.html_to_text(body)
    hint = source.language or language.normalize_tag(pe.language or parsed.language or "")
    title_det = language.detect(pe.title, hint=hint) if pe.title else None
    det = language.detect(f"{pe.title}\n\n{text[:3000]}", hint=hint)
    if det.lang == "und" and title_det is not None:
        det = title_det
    elif (title_det is not None and det.segments and title_det.lang != det.lang
          and title_det.confidence >= 0.7 and title_det.lang in {s.lang for s in det.segments}):
        # a mixed-language entry (English report, then Tamil and Sinhala commentary) is in the
        # language of its headline; its segments keep their own languages
        det = replace(det, lang=title_det.lang, script=title_det.script, romanized=title_det.romanized,
                      confidence=min(det.confidence, title_det.confidence))
    if (not det.segments and title_det is not None and title_det.segments
            and not title_det.legacy_encoding and det.text.startswith(title_det.text)):
        # a headline that switches language for a few words inside one sentence: its word-level
        # segments (offsets into the title, which starts the text ``det`` read) mark the page
        det = replace(det, segments=title_det.segments)
    title = pe.title
    original_title = None
    if title_det is not None and title_det.legacy_encoding:
        title, original_title = title_det.text, pe.title
    if not title:
        title = _fallback_title(text)
    lang = det.lang

    block_langs: dict[str, str | None] = {}  # the excerpt repeats the content's blocks

    def lang_of(block: str) -> str | None:
        found = block_langs.get(block, "")
        if found == "":
            d = language.detect(block)
            found = block_langs[block] = d.lang if d.confidence >= 0.6 and d.lang != "und" else None
        return found

    block_spans: dict[str, list[tuple[int, int, str]]] = {}

    def spans_of(block: str) -> list[tuple[int, int, str]]:
        # runs of 3+ words in another language inside a paragraph's sentences (<span lang>)
        found = block_spans.get(block)
        if found is None:
            found = block_spans[block] = language.word_spans(block)
        return found

    def legacy_of(block: str) -> str | None:
        return language.detect(block).legacy_encoding

    full = sanitize.sanitize_html(body, pe.base) if body else ""
    legacy = det.legacy_encoding or (title_det.legacy_encoding if title_det else None)
    if legacy and full:
        # typed in a legacy font (Bamini, FM Abhaya...): shown, classified and grouped as the
        # Unicode text it stands for; each block is judged alone (an English paragraph stays)
        full = blocklang.convert_legacy_blocks(full, legacy_of, language.from_legacy)
        text = sanitize.html_to_text(full)
    # Blocks are looked at one by one only when they may be in another language than the entry.
    mixed = may_mix(text, det, lang, whole=len(text) <= 3000)
    content_html = (blocklang.annotate_blocks(full, lang_of, lang, spans_of) if mixed else full) if full else ""
    if pe.summary and pe.content:
        summary_src = sanitize.sanitize_html(pe.summary, pe.base)
        if legacy and summary_src:
            summary_src = blocklang.convert_legacy_blocks(summary_src, legacy_of, language.from_legacy)
        summary_mixed = may_mix(sanitize.html_to_text(pe.summary), None, lang, whole=False)
    else:  # the body is the summary: sanitised once
        summary_src, summary_mixed = full, mixed
    summary_html = (sanitize.excerpt_html(summary_src, config.site.excerpt_chars, sanitized=True)
                    if summary_src else "")
    if summary_html and summary_mixed:
        summary_html = blocklang.annotate_blocks(summary_html, lang_of, lang, spans_of)
    published = pe.published or now  # parse took dates out of range for missing
    entry = Entry(feed_id=source.id, guid=pe.guid, title=title, link=pe.link,
                  summary_html=summary_html, content_html=content_html, author=pe.author,
                  published=published, lang=lang, lang_confidence=det.confidence,
                  topic="", topic_confidence=0.0, topic_why="",
                  categories=pe.categories, romanized=det.romanized,
                  legacy_encoding=det.legacy_encoding, original_title=original_title,
                  segments=det.segments, image=pe.image or media.first_image(full))
    return _Draft(entry, title, text)


def may_mix(text: str, det, lang: str, *, whole: bool) -> bool:
    """Whether some block of ``text`` may be in another language than the entry's ``lang``.

    Text written in one non-Latin script whose language is ``lang`` (a Tamil article in Tamil
    letters) has every block in ``lang``: the script decides. Latin-only text counts as one
    language when ``det`` looked at all of it (``whole``) and found no segments in another.
    Everything else is looked at block by block.
    """
    from .language.script import SCRIPT_LANG, counts

    scripts = counts(text)
    if len(scripts) != 1:
        return len(scripts) > 1
    script = next(iter(scripts))
    if script != "Latn":
        return SCRIPT_LANG.get(script) != lang
    return not (whole and det is not None and det.lang == lang and lang != "und"
                and not det.segments)


def _fallback_title(text: str) -> str:
    words = text.split()
    title = ""
    for w in words:
        if len(title) + len(w) > 70:
            return title + "…"
        title = f"{title} {w}".strip()
    return title or "(untitled)"
