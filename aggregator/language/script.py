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
_TAML, _SINH, _LATN = _NOT["Taml"], _NOT["Sinh"], _NOT["Latn"]
_ANY_LETTER = re.compile(r"[^\W\d_]")
SCRIPT_LANG = {name: lang for name, lang, _ in SCRIPTS}

# one run of a script, for segmenting
_RUN = re.compile("|".join(f"(?P<{name}>[{cls}][{cls}\u200c\u200d]*)" for name, _, cls in SCRIPTS))


def counts(text: str) -> dict[str, int]:
    """Characters per script (only scripts that occur).  Fast path for ta/si/Latin text."""
    ta = len(_TAML.sub("", text))
    si = len(_SINH.sub("", text))
    la = len(_LATN.sub("", text))
    res = {}
    if ta:
        res["Taml"] = ta
    if si:
        res["Sinh"] = si
    if la:
        res["Latn"] = la
    # anything else? (cheap test first: letters not yet accounted for)
    if len(_ANY_LETTER.findall(text)) > la + ta + si:
        for name, _, _ in SCRIPTS[3:]:
            n = len(_NOT[name].sub("", text))
            if n:
                res[name] = n
    return res


def runs(text: str):
    """Yield (script, start, end) for each run of letters of one script."""
    for m in _RUN.finditer(text):
        yield m.lastgroup, m.start(), m.end()
