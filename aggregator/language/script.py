"""Unicode script counting: the first, fastest and most reliable signal."""

from __future__ import annotations

import re

# (ISO 15924, language the script means on its own, regex class)
SCRIPTS = (
    ("Taml", "ta", "\u0b80-\u0bff"),
    ("Sinh", "si", "\u0d80-\u0dff\U000111e0-\U000111ff"),
    ("Latn", None, "A-Za-z\u00c0-\u024f\u1e00-\u1eff"),
    ("Deva", "hi", "\u0900-\u097f"),
    ("Beng", "bn", "\u0980-\u09ff"),
    ("Guru", "pa", "\u0a00-\u0a7f"),
    ("Gujr", "gu", "\u0a80-\u0aff"),
    ("Orya", "or", "\u0b00-\u0b7f"),
    ("Telu", "te", "\u0c00-\u0c7f"),
    ("Knda", "kn", "\u0c80-\u0cff"),
    ("Mlym", "ml", "\u0d00-\u0d7f"),
    ("Thai", "th", "\u0e00-\u0e7f"),
    ("Arab", None, "\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff"),
    ("Cyrl", None, "\u0400-\u04ff"),
    ("Grek", "el", "\u0370-\u03ff"),
    ("Hebr", "he", "\u0590-\u05ff"),
    ("Geor", "ka", "\u10a0-\u10ff"),
    ("Armn", "hy", "\u0530-\u058f"),
    ("Ethi", "am", "\u1200-\u137f"),
    ("Mymr", "my", "\u1000-\u109f"),
    ("Khmr", "km", "\u1780-\u17ff"),
    ("Hang", "ko", "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"),
    ("Kana", "ja", "\u3040-\u30ff"),
    ("Hani", "zh", "\u4e00-\u9fff\u3400-\u4dbf"),
)
_NOT = {name: re.compile(f"[^{cls}]+") for name, _, cls in SCRIPTS}
SCRIPT_LANG = {name: lang for name, lang, _ in SCRIPTS}

# one run of a script, for segmenting
_RUN = re.compile("|".join(f"(?P<{name}>[{cls}][{cls}\u200c\u200d]*)" for name, _, cls in SCRIPTS))


# Counting on the UTF-8 bytes is several times faster than a regex over the text: Tamil
# U+0B80-0BFF is E0 AE/AF xx, Sinhala U+0D80-0DFF is E0 B6/B7 xx, U+00C0-023F are the two-byte
# sequences led by C3-C8 (C3 = U+00C0-00FF, the Latin class includes x and / signs as before).
_LATIN_BYTES = bytes(b for b in range(256) if not (65 <= b <= 90 or 97 <= b <= 122 or 0xC3 <= b <= 0xC8))
_NOT_LEAD = bytes(range(0xC0))  # deleting these leaves one UTF-8 lead byte per non-ASCII character
_LATN_RARE = re.compile("[\u0240-\u024f\u1e00-\u1eff]")  # behind lead bytes C9 and E1
_SINH_EXTRA = re.compile("[\U000111e0-\U000111ff]")
# a letter of any script but these three
_OTHER_LETTER = re.compile("[^\\W\\d_A-Za-z\u00c0-\u024f\u1e00-\u1eff\u0b80-\u0bff\u0d80-\u0dff\U000111e0-\U000111ff]")


def counts(text: str) -> dict[str, int]:
    """Characters per script (only scripts that occur).  Fast path for ta/si/Latin text;
    other scripts are counted only when a letter outside these three occurs."""
    b = text.encode("utf-8", "surrogatepass")
    la = len(b.translate(None, _LATIN_BYTES))
    if len(b) == len(text):  # ASCII
        return {"Latn": la} if la else {}
    if b"\xc9" in b or b"\xe1" in b:
        la += len(_LATN_RARE.findall(text))
    ta = b.count(b"\xe0\xae") + b.count(b"\xe0\xaf")
    si = b.count(b"\xe0\xb6") + b.count(b"\xe0\xb7")
    if b"\xf0\x91\x87" in b:
        si += len(_SINH_EXTRA.findall(text))
    res = {}
    if ta:
        res["Taml"] = ta
    if si:
        res["Sinh"] = si
    if la:
        res["Latn"] = la
    # other letters are possible only among the non-ASCII characters not yet accounted for
    # (General Punctuation U+2000-203F, E2 80 xx, holds none)
    rest = len(b.translate(None, _NOT_LEAD)) - ta - si - b.count(b"\xe2\x80")
    if rest > 0 and _OTHER_LETTER.search(text):
        for name, _, _ in SCRIPTS[3:]:
            n = len(_NOT[name].sub("", text))
            if n:
                res[name] = n
    return res


_RUN_OF = {name: re.compile(f"[{cls}][{cls}\u200c\u200d]*") for name, _, cls in SCRIPTS}


def run_counts(text: str, scripts) -> dict[str, int]:
    """Number of runs (words) of each of ``scripts`` in ``text``, as ``runs`` would yield them."""
    out = {}
    for name in scripts:
        n = len(_RUN_OF[name].findall(text))
        if n:
            out[name] = n
    return out


def runs(text: str):
    """Yield (script, start, end) for each run of letters of one script."""
    for m in _RUN.finditer(text):
        yield m.lastgroup, m.start(), m.end()
