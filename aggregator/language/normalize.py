"""Text and language-tag normalisation (no heavy imports: used at import time)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize", "normalize_tag"]

_ZWJ, _ZWNJ = "\u200d", "\u200c"
# Zero-width space, word joiner, BOM/ZWNBSP, soft hyphen, LRM/RLM and bidi embeddings are
# formatting noise in feed text.  ZWJ/ZWNJ are kept only inside Indic words (see below).
_DROP = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e"))
_WS = re.compile(r"\s+")
# A joiner is meaningful only between two characters of an Indic script (ශ්‍රී, க்‌ஷ):
# U+0900-U+0DFF covers Devanagari..Sinhala.
_INDIC = "\u0900-\u0dff"
_STRAY_JOINER = re.compile(rf"(?<![{_INDIC}])[\u200c\u200d]|[\u200c\u200d](?![{_INDIC}])")


def normalize(text: str) -> str:
    """NFC, drop soft hyphens / zero-width spaces / BOMs, keep ZWJ/ZWNJ in Sinhala
    and Tamil conjuncts (ශ්‍රී), drop stray joiners elsewhere, collapse whitespace.

    Paragraph breaks (a blank line) are kept as a single ``\\n\\n`` so that callers can still
    split blocks; every other whitespace run becomes one space.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text.translate(_DROP))
    if _ZWJ in text or _ZWNJ in text:
        text = _STRAY_JOINER.sub("", text)
    if "\n" in text:
        paras = [_WS.sub(" ", p).strip() for p in re.split(r"\n\s*\n", text)]
        return "\n\n".join(p for p in paras if p)
    return _WS.sub(" ", text).strip()


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
