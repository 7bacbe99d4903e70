"""``lang`` marks on the blocks of an entry that are written in another language, and Unicode
for the blocks written in a legacy font encoding.

A blog post in English with a Tamil commentary paragraph and a Sinhala note: each paragraph gets
its own ``lang`` so browsers pick the right fonts, screen readers the right voice; inside a
paragraph, a run of words in another language ("இன்று மாலை breaking news from Colombo
இடம்பெற்றது") gets a ``<span lang>``. A post typed
in the Bamini or FM Abhaya font is Latin letters in the feed ("ntw;wp"): its paragraphs are
converted to Unicode Tamil or Sinhala, so readers without that font can read them. Works on HTML
that ``sanitize`` already made safe.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from ..markup.htmltree import Element, parse_fragment, text_of, to_html

# the runs of a block's text in other languages: (start, end, lang), offsets into the text given
SpansOf = Callable[[str], Sequence[tuple[int, int, str]]]

__all__ = ["annotate_blocks", "convert_legacy_blocks"]

_WS = re.compile(r"\s+")
_CONTAINERS = {"div", "section", "article", "blockquote", "aside", "header", "footer",
               "figure", "details", "ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "tr"}
_LEAVES = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "dt", "dd", "td", "th",
           "figcaption", "caption", "summary", "address"}
_HAS_LETTER = re.compile(r"[^\W\d_]")


def annotate_blocks(html: str, lang_of: Callable[[str], str | None], entry_lang: str,
                    spans_of: SpansOf | None = None) -> str:
    """``lang`` on each block of ``html`` whose language differs from ``entry_lang``, and
    ``<span lang>`` around the runs inside a block that ``spans_of`` finds in another language
    than the block's.

    ``html`` must already be sanitised. Blocks are p, h1-h6, li, pre... (containers such as
    div or blockquote are looked into when they hold blocks, else treated as one block) and
    runs of top-level text separated by ``<br><br>`` (those are wrapped in ``<p>``).
    ``lang_of(text)`` returns a language code or None when unsure. Blocks that already carry
    ``lang`` are left alone. ``spans_of(text)`` gets the text of one block as it is in the HTML
    (the texts of its nodes joined); a run is marked only when it lies inside one text node (a
    run across a link or bold text is left unmarked).
    """
    if not html or not html.strip():
        return html or ""
    root = parse_fragment(html)
    changed = _annotate_children(root, lang_of, entry_lang, top=True, spans_of=spans_of)
    return to_html(root.children) if changed else html


def convert_legacy_blocks(html: str, encoding_of: Callable[[str], str | None],
                          convert: Callable[[str, str], str]) -> str:
    """``html`` with the text of each block that ``encoding_of(text)`` names a legacy encoding
    for (``"bamini"``, ``"fm-abhaya"``...) replaced by ``convert(text, encoding)``.

    A block is a run of inline content between block tags (p, li, div...) and ``<br>``: a
    line typed in a legacy font, then a credit line in English, are judged apart.
    Each block is judged on its own, so English paragraphs of the same post stay as they are.
    Markup inside a block (links, bold) is kept: each of its texts is converted.
    """
    if not html or not html.strip():
        return html or ""
    root = parse_fragment(html)
    return to_html(root.children) if _convert_in(root, encoding_of, convert) else html


def _convert_in(el: Element, encoding_of, convert) -> bool:
    changed = False
    kids = el.children
    run: list[int] = []  # indices in kids of the current block's nodes

    def flush() -> None:
        nonlocal changed
        text = _WS.sub(" ", "".join(text_of(kids[i]) for i in run)).strip()
        enc = encoding_of(text) if _HAS_LETTER.search(text) else None
        if enc:
            for i in run:
                n = kids[i]
                if isinstance(n, str):
                    kids[i] = convert(n, enc)
                else:
                    _convert_all(n, enc, convert)
            changed = True
        run.clear()

    for i, c in enumerate(kids):
        if isinstance(c, Element) and (c.tag in _CONTAINERS or c.tag in _LEAVES
                                       or c.tag in ("br", "hr")):
            flush()
            if c.tag in ("br", "hr"):
                continue
            changed |= _convert_in(c, encoding_of, convert)  # its blocks, or its lines
        else:
            run.append(i)
    flush()
    return changed


def _convert_all(el: Element, enc: str, convert) -> None:
    el.children = [convert(c, enc) if isinstance(c, str) else c for c in el.children]
    for c in el.children:
        if isinstance(c, Element):
            _convert_all(c, enc, convert)


def _detect(text: str, lang_of: Callable[[str], str | None], entry_lang: str) -> str | None:
    text = _WS.sub(" ", text).strip()
    if not _HAS_LETTER.search(text):
        return None
    lang = lang_of(text)
    return lang if lang and lang != entry_lang else None


def _annotate_children(el: Element, lang_of, entry_lang: str, top: bool, spans_of: SpansOf | None = None) -> bool:
    """Annotate the block children of ``el``; inline runs become ``<p>`` only at the top."""
    changed = False
    new: list[Element | str] = []
    run: list[Element | str] = []

    def flush() -> None:
        nonlocal changed
        # trailing/leading <br>s stay outside the paragraph
        lead: list[Element | str] = []
        trail: list[Element | str] = []
        body = list(run)
        while body and (_is_br(body[0]) or _is_blank(body[0])):
            lead.append(body.pop(0))
        while body and (_is_br(body[-1]) or _is_blank(body[-1])):
            trail.insert(0, body.pop())
        lang = _detect("".join(text_of(n) for n in body), lang_of, entry_lang) if body else None
        if body and spans_of is not None:
            changed |= _mark_spans(body, spans_of, lang or entry_lang)
        if lang and top:
            new.extend(lead)
            new.append(Element("p", [("lang", lang)], body))
            new.extend(trail)
            changed = True
        else:
            new.extend(lead + body + trail)
        run.clear()

    kids = el.children
    i = 0
    while i < len(kids):
        c = kids[i]
        if isinstance(c, Element) and (c.tag in _CONTAINERS or c.tag in _LEAVES or c.tag == "hr"):
            flush()
            if c.get("lang") is None and c.tag != "hr":
                changed |= _annotate_block(c, lang_of, entry_lang, spans_of)
            new.append(c)
        elif _is_br(c) and _next_is_br(kids, i):
            run.append(c)
            j = i + 1
            while j < len(kids) and not _is_br(kids[j]):
                run.append(kids[j])  # whitespace between the two <br>
                j += 1
            run.append(kids[j])
            flush()
            i = j
        else:
            run.append(c)
        i += 1
    flush()
    el.children = new
    return changed


def _annotate_block(el: Element, lang_of, entry_lang: str, spans_of: SpansOf | None = None) -> bool:
    holds_blocks = any(isinstance(c, Element) and (c.tag in _CONTAINERS or c.tag in _LEAVES)
                       for c in el.children)
    if el.tag in _CONTAINERS and holds_blocks:
        if el.tag in ("ul", "ol", "dl"):
            # a list in one other language gets one mark; a mixed list, one per item
            langs = {_detect(text_of(c), lang_of, entry_lang) for c in el.children
                     if isinstance(c, Element) and _HAS_LETTER.search(text_of(c))}
            if len(langs) == 1 and None not in langs:
                lang = langs.pop()
                el.set("lang", lang)
                if spans_of is not None:
                    for c in el.children:
                        if isinstance(c, Element):
                            _mark_spans(c.children, spans_of, lang)
                return True
        return _annotate_children(el, lang_of, entry_lang, top=False, spans_of=spans_of)
    lang = _detect(text_of(el), lang_of, entry_lang)
    if lang:
        el.set("lang", lang)
    marked = spans_of is not None and el.tag != "pre" and _mark_spans(el.children, spans_of, lang or entry_lang)
    return bool(lang) or marked


def _mark_spans(nodes: list[Element | str], spans_of: SpansOf, block_lang: str) -> bool:
    """Wrap the runs of ``nodes``' text that ``spans_of`` finds in a language other than
    ``block_lang`` in ``<span lang>``, where a run lies inside one text node; in place."""
    text = "".join(text_of(n) for n in nodes)
    if not _HAS_LETTER.search(text):
        return False
    runs = sorted((s, e, lang) for s, e, lang in spans_of(text) if lang != block_lang and lang != "und")
    if not runs:
        return False
    changed = False
    pos = 0  # offset of nodes[i] in text

    def visit(kids: list[Element | str], pos: int) -> int:
        nonlocal changed
        i = 0
        while i < len(kids):
            node = kids[i]
            if isinstance(node, Element):
                if node.tag not in ("a", "b", "strong", "i", "em", "u", "mark", "small", "q", "cite") \
                        or node.get("lang") is not None:
                    pos += len(text_of(node))  # code, a span that has its own lang...: not looked into
                else:
                    pos = visit(node.children, pos)
                i += 1
                continue
            end = pos + len(node)
            inside = [(s, e, lang) for s, e, lang in runs if s >= pos and e <= end]
            if inside:
                parts: list[Element | str] = []
                at = pos
                for s, e, lang in inside:
                    if s < at:
                        continue  # overlapping runs: the first one wins
                    if s > at:
                        parts.append(node[at - pos:s - pos])
                    parts.append(Element("span", [("lang", lang)], [node[s - pos:e - pos]]))
                    at = e
                if at < end:
                    parts.append(node[at - pos:])
                kids[i:i + 1] = parts
                i += len(parts)
                changed = True
            else:
                i += 1
            pos = end
        return pos

    visit(nodes, pos)
    return changed


def _is_br(n: Element | str) -> bool:
    return isinstance(n, Element) and n.tag == "br"


def _is_blank(n: Element | str) -> bool:
    return isinstance(n, str) and not n.strip()


def _next_is_br(kids: list[Element | str], i: int) -> bool:
    j = i + 1
    while j < len(kids) and _is_blank(kids[j]):
        j += 1
    return j < len(kids) and _is_br(kids[j])
