"""Text and language-tag normalisation (no heavy imports: used at import time)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize", "normalize_tag"]

_ZWJ, _ZWNJ = "\u200d", "\u200c"
# Zero-width space, word joiner, BOM/ZWNBSP, soft hyphen, LRM/RLM and bidi embeddings are
# formatting noise in feed text.  ZWJ/ZWNJ are kept only inside Indic words (see below).
_DROP = re.compile("[\u00ad\u200b\u2060\ufeff\u200e\u200f\u202a-\u202e]")
_PARA = re.compile(r"\n\s*\n")
# NFC is costly on Tamil/Sinhala text (their vowel signs make the quick check say "maybe"), so the
# full NFC runs only when a character outside the ranges below occurs (none of them composes,
# decomposes or reorders: tests check this against unicodedata).  Within Tamil and Sinhala the
# only changes NFC can make are the two-part vowel signs (ொ = ெ + ா, ේ = ෙ + ්, ...), which are
# composed directly; their viramas reorder only against marks of other blocks.
_NFC_RISK = re.compile("[^\x00-\u024f\u0b80-\u0bff\u0d80-\u0dff\u1e00-\u1eff\u2002-\u206f\u20a0-\u20c0"
                       "\u2190-\u21ff\u2500-\u27bf\ufe00-\ufe0f\U0001f000-\U0001faff]")
_INDIC_PAIR = re.compile("[\u0dd9\u0ddc\u0bc6\u0bc7\u0b92](?:(?<=\u0dd9)\u0dcf\u0dca|(?<=\u0dd9)[\u0dca\u0dcf\u0ddf]"
                         "|(?<=\u0ddc)\u0dca|(?<=[\u0bc6\u0bc7])\u0bbe|(?<=[\u0b92\u0bc6])\u0bd7)")
# one scan for the common case: neither a character to drop nor one that needs the full NFC
# (the safe ranges of _NFC_RISK with the characters of _DROP cut out)
_DROP_OR_RISK = re.compile("[^\x00-\u00ac\u00ae-\u024f\u0b80-\u0bff\u0d80-\u0dff\u1e00-\u1eff\u2002-\u200a"
                           "\u200c\u200d\u2010-\u2029\u202f-\u205f\u2061-\u206f\u20a0-\u20c0\u2190-\u21ff"
                           "\u2500-\u27bf\ufe00-\ufe0f\U0001f000-\U0001faff]")
_COMPOSED = {s: unicodedata.normalize("NFC", s) for s in (
    "\u0dd9\u0dcf\u0dca", "\u0dd9\u0dca", "\u0dd9\u0dcf", "\u0dd9\u0ddf", "\u0ddc\u0dca",
    "\u0b92\u0bd7", "\u0bc6\u0bbe", "\u0bc7\u0bbe", "\u0bc6\u0bd7")}
# A joiner is meaningful only between two characters of an Indic script (ශ්‍රී, க்‌ஷ):
# U+0900-U+0DFF covers Devanagari..Sinhala.  (Written to start with the joiner, which the regex
# engine scans for quickly.)
_INDIC = "\u0900-\u0dff"
_STRAY_JOINER = re.compile(rf"[\u200c\u200d](?:(?<![{_INDIC}][\u200c\u200d])|(?![{_INDIC}]))")


def _compose(m: re.Match) -> str:
    return _COMPOSED[m.group()]


def normalize(text: str) -> str:
    """NFC, drop soft hyphens / zero-width spaces / BOMs, keep ZWJ/ZWNJ in Sinhala
    and Tamil conjuncts (ශ්‍රී), drop stray joiners elsewhere, collapse whitespace.

    Paragraph breaks (a blank line) are kept as a single ``\\n\\n`` so that callers can still
    split blocks; every other whitespace run becomes one space.
    """
    if not text:
        return ""
    if not text.isascii():
        if _DROP_OR_RISK.search(text):
            if _DROP.search(text):
                text = _DROP.sub("", text)
            if _NFC_RISK.search(text):
                text = unicodedata.normalize("NFC", text)
        if _INDIC_PAIR.search(text):
            text = _INDIC_PAIR.sub(_compose, text)
        if _ZWJ in text or _ZWNJ in text:
            text = _STRAY_JOINER.sub("", text)
    # str.split() and re's \s agree on what whitespace is (both use Py_UNICODE_ISSPACE)
    if "\n" in text:
        paras = (" ".join(p.split()) for p in _PARA.split(text))
        return "\n\n".join(p for p in paras if p)
    return " ".join(text.split())


_NAMES = {
    "english": "en", "tamil": "ta", "sinhala": "si", "sinhalese": "si", "singhalese": "si",
    "tamizh": "ta", "thamizh": "ta", "german": "de", "deutsch": "de", "french": "fr",
    "hindi": "hi", "spanish": "es", "español": "es", "français": "fr",
    "தமிழ்": "ta", "සිංහල": "si",
}
# ISO 639-2/3 codes we may meet in feeds, mapped to 639-1.
_THREE = {
    "eng": "en", "tam": "ta", "sin": "si", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr",
    "hin": "hi", "spa": "es", "ita": "it", "por": "pt", "nld": "nl", "dut": "nl", "rus": "ru",
    "zho": "zh", "chi": "zh", "jpn": "ja", "ara": "ar", "urd": "ur", "mal": "ml", "tel": "te",
    "kan": "kn", "ben": "bn",
}
_TAG = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$")


def normalize_tag(tag: str | None) -> str | None:
    """Normalise a declared language tag to ISO 639-1: "en-US"→"en", "TA"→"ta",
    "sinhala"→"si", "tam"→"ta"; garbage ("x-foo", "", "12") → None."""
    if not tag or not isinstance(tag, str):
        return None
    t = tag.strip().lower()
    if t in _NAMES:
        return _NAMES[t]
    m = _TAG.match(t)
    if not m:
        return None
    primary = m.group(1)
    if len(primary) == 3:
        return _THREE.get(primary)
    if primary in ("x", "i") or primary == "und":
        return None
    if primary == "iw":
        return "he"
    if primary == "in":
        return "id"
    return primary
