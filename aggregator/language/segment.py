"""Segments: the runs of a mixed text that are in another language, with character offsets.

Two levels:

* ``pieces`` - sentences and paragraphs: an English paragraph followed by a Tamil one.
* ``words`` - inside one sentence, a run of at least MIN_WORDS words in another script
  ("இன்று மாலை breaking news from Colombo இடம்பெற்றது") or, in Latin letters, in another
  language ("The match was great, semma mass padam da").

Both take the language of a stretch of text from a callable of the detector (``lang_of``), so
this module knows how text is cut, not how a language is told; word-level Latin switches are
found with the n-gram model's packed word scores (``romanized.NgramModel``).
"""

from __future__ import annotations

import re
from typing import Callable, Optional

from aggregator.models import Segment

from .script import SCRIPT_LANG, runs

MIN_WORDS = 3  # a switch of fewer words (a name, an acronym, "SLAF") is not a segment
MIN_LATIN_CONF = 0.9  # both sides of a Latin switch must be this sure
# where a sentence or a line ends: end punctuation before a space (not the dots of "U.S." or
# "3.5"), or a line break. Pieces are cut after each, so every character is in one piece (a
# pattern matching whole pieces backtracked over every dot not followed by a space: a
# millisecond a text, the most of detecting a long entry's language).
_END = re.compile(r"[.!?।]+(?=\s|$)|\n+")
_WORD = re.compile(r"\S+")

LangOf = Callable[[str], Optional[str]]


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line of ``text``, as ``pieces`` cuts it."""
    out = []
    start = 0
    for m in _END.finditer(text):
        out.append((start, m.end()))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


def pieces(text: str, lang_of: LangOf) -> list[Segment]:
    """Segments by sentence/paragraph; ``lang_of(piece)`` is None for a piece with too little
    signal, which joins the previous piece (or the next one at the start). Empty when the
    text has one language."""
    found = [(s, e, lang_of(text[s:e])) for s, e in sentences(text)]
    if len({p[2] for p in found if p[2]}) < 2:
        return []
    segs: list[list] = []
    for s, e, lang in found:
        if lang is None:
            if segs:
                segs[-1][1] = e
            else:
                segs.append([s, e, None])
            continue
        if segs and (segs[-1][2] == lang or segs[-1][2] is None):
            segs[-1][1] = e
            segs[-1][2] = lang
        else:
            segs.append([s, e, lang])
    return _finish(text, [(s, e, lang or "und") for s, e, lang in segs])


def _finish(text: str, spans: list[tuple[int, int, str]]) -> list[Segment]:
    """Segments from (start, end, lang) spans: whitespace trimmed, empty spans dropped, and
    nothing when fewer than two languages remain."""
    out = []
    for s, e, lang in spans:
        s, e = _trim(text, s, e)
        if s < e:
            out.append(Segment(start=s, end=e, lang=lang))
    return out if len({s.lang for s in out}) > 1 else []


def _word_scripts(text: str) -> list[tuple[int, int, str | None]]:
    """(start, end, script) of each whitespace-separated word; script None for a word without
    letters (numbers, punctuation, emoji), the script of most of its letters otherwise."""
    letters: list[tuple[int, int, str]] = list(runs(text))
    out = []
    i = 0
    for m in _WORD.finditer(text):
        s, e = m.start(), m.end()
        per: dict[str, int] = {}
        while i < len(letters) and letters[i][1] < e:
            name, rs, re_ = letters[i]
            if re_ > s:
                per[name] = per.get(name, 0) + min(re_, e) - max(rs, s)
            if re_ <= e:
                i += 1
            else:
                break
        out.append((s, e, max(per, key=per.get) if per else None))
    return out


def words(text: str, lang: str, script: str, lang_of: LangOf, latin_switch: Callable | None = None,
          latin_only: bool = False) -> list[Segment]:
    """Word-level segments of one sentence in ``lang``, written mostly in ``script``: each run of
    at least MIN_WORDS words in another script (its language from ``lang_of``, or the script's
    own), and, in a text all in Latin letters, one switch between two languages found by
    ``latin_switch(words) -> (k, left, right) | None``. Empty when nothing switches for
    MIN_WORDS words. ``latin_only``: the caller knows the text has Latin letters only."""
    if latin_only:
        ws = [(m.start(), m.end(), "Latn") for m in _WORD.finditer(text)]
    else:
        ws = _word_scripts(text)
    if len(ws) < 2 * MIN_WORDS - 1:
        return []
    if latin_only or all(sc in (None, "Latn") for _s, _e, sc in ws):
        return _latin_words(text, ws, latin_switch) if script == "Latn" and latin_switch else []
    # runs of words of one script; words without letters join the run before them
    groups: list[list] = []  # [start, end, script, words]
    for s, e, sc in ws:
        if groups and (sc is None or sc == groups[-1][2] or groups[-1][2] is None):
            groups[-1][1] = e
            if sc is not None:
                groups[-1][2] = sc
                groups[-1][3] += 1
            continue
        groups.append([s, e, sc, 0 if sc is None else 1])
    spans: list[tuple[int, int, str]] = []
    for s, e, sc, n in groups:
        other = None
        if sc is not None and sc != script and n >= MIN_WORDS:
            other = SCRIPT_LANG.get(sc) or lang_of(text[s:e])
        g = other or lang
        # neighbours in the same language are one segment
        if spans and spans[-1][2] == g:
            spans[-1] = (spans[-1][0], e, g)
        else:
            spans.append((s, e, g))
    return _finish(text, spans)


def _latin_words(text: str, ws: list[tuple[int, int, str | None]], latin_switch: Callable) -> list[Segment]:
    found = latin_switch([text[s:e] for s, e, _ in ws])
    if not found:
        return []
    k, left, right = found
    cut = ws[k][0]
    return _finish(text, [(0, cut, left), (cut, len(text), right)])
