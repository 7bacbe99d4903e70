"""Legacy (pre-Unicode) font encodings: Bamini and TSCII for Tamil, FM Abhaya for Sinhala.

Text typed in these fonts reaches feeds as ASCII/Latin-1 "gibberish" ("jkpo;" is தமிழ் in
Bamini).  This module converts each of them to Unicode, and encodes Unicode back into them
(used by ``scripts/train_langid.py`` to generate training text for the recogniser, and by the
tests for round trips).  Which encoding a text is in is decided by the character n-gram model
(``romanized.py``) for Bamini/FM Abhaya, and by the share of Latin-1 high bytes for TSCII.

The tables are our own, written from the fonts' published layouts (glyph positions are facts
of the fonts); they were checked against public MIT-licensed samples (open-tamil's TSCII
documents, akuruAI/Pandukabhaya's FM Abhaya cases) — see aggregator/language/README.md.
"""

from __future__ import annotations

import re

from .fm_abhaya import fm_to_unicode, unicode_to_fm  # Sinhala, in its own module

__all__ = [
    "bamini_to_unicode", "unicode_to_bamini", "tscii_to_unicode", "unicode_to_tscii",
    "fm_to_unicode", "unicode_to_fm", "tscii_share", "to_unicode",
]

_ZWJ = "\u200d"

# ----------------------------------------------------------------------------------- Tamil
_PULLI = "\u0bcd"
_TA_CONS = set("கஙசஞடணதநபமயரலவழளறனஜஷஸஹ")
_TA_U, _TA_UU = "\u0bc1", "\u0bc2"

# Bamini: one keystroke -> Unicode.  n, N, i are the pre-base signs ெ ே ை (typed first).
_BAMINI = {
    "a": "ய", "b": "டி", "c": "உ", "d": "ன", "e": "ந", "f": "க", "g": "ப", "h": "\u0bbe",
    "i": "\u0bc8", "j": "த", "k": "ம", "l": "ட", "m": "அ", "n": "\u0bc6", "o": "ழ", "p": "\u0bbf",
    "q": "ங", "r": "ச", "s": "ள", "t": "வ", "u": "ர", "v": "எ", "w": "ற", "x": "ஒ", "y": "ல",
    "z": "ண",
    "A": "யு", "B": "டீ", "C": "ஊ", "D": "னு", "E": "நு", "F": "கு", "G": "பு", "H": "ர்",
    "I": "ஐ", "J": "து", "K": "மு", "L": "டு", "M": "ஆ", "N": "\u0bc7", "O": "ழு", "P": "\u0bc0",
    "Q": "ஞ", "R": "சு", "S": "ளு", "T": "வு", "U": "ரு", "V": "ஏ", "W": "று", "X": "ஓ",
    "Y": "லு", "Z": "ணு",
    ";": _PULLI, ",": "இ", "<": "ஈ", "[": "ஜ", "]": "ஸ", "\\": "ஷ", "`": "ஹ", "$": "கூ",
    "%": "மூ", "&": "ரூ", "*": "ழூ", "^": "டூ", "#": "சூ", "=": "ஸ்ரீ", ">": ",", "/": "ஃ",
    "+": _TA_UU, "}": _TA_UU,
}
_BAMINI_PRE = {"n": "\u0bc6", "N": "\u0bc7", "i": "\u0bc8"}


def _reorder_tamil(units: list[tuple[str, str]]) -> str:
    """units: (kind, text) with kind 'pre' for a pre-base sign typed before its consonant,
    'aa' for the ா stroke, 'au' for the ௗ stroke, 'c' for anything else."""
    out: list[str] = []
    i, n = 0, len(units)
    while i < n:
        kind, u = units[i]
        if kind == "pre" and i + 1 < n and units[i + 1][0] == "c" and units[i + 1][1][-1:] in _TA_CONS:
            cons = units[i + 1][1]
            j = i + 2
            # க்ஷ is one conjunct: the sign goes after the whole cluster
            if cons == "க" and j + 1 < n and units[j][1] == _PULLI and units[j + 1][1] == "ஷ":
                cons, j = "க்ஷ", j + 2
            nxt = units[j] if j < n else ("", "")
            if nxt[0] == "aa" and u in ("\u0bc6", "\u0bc7"):
                out.append(cons + ("\u0bca" if u == "\u0bc6" else "\u0bcb"))
                j += 1
            elif nxt[0] == "au" and u == "\u0bc6":
                out.append(cons + "\u0bcc")
                j += 1
            else:
                out.append(cons + u)
            i = j
            continue
        if kind == "aa" and out and out[-1].endswith(_TA_U):
            out[-1] = out[-1][:-1] + _TA_UU  # "Jh" = தூ: ா after a -u form lengthens it
        elif kind == "uu" and out and out[-1].endswith(_TA_U):
            out[-1] = out[-1][:-1] + _TA_UU
        elif kind == "uu":
            out.append(_TA_UU)
        else:
            out.append(u)
        i += 1
    return "".join(out)


def bamini_to_unicode(text: str) -> str:
    """Convert Bamini-typed ASCII to Unicode Tamil ("jkpo;" → "தமிழ்")."""
    units: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _BAMINI_PRE:
            units.append(("pre", _BAMINI_PRE[ch]))
        elif ch == "h":
            units.append(("aa", "\u0bbe"))
        elif ch in "+}":
            units.append(("uu", _TA_UU))
        elif ch == "x" and i + 1 < n and text[i + 1] == "s":
            units.append(("c", "ஔ"))
            i += 1
        elif ch == "s" and units and units[-1][0] == "c" and len(units) >= 2 and units[-2] == ("pre", "\u0bc6") \
                and (i + 1 >= n or text[i + 1] not in ";phPi"):
            units.append(("au", "\u0bd7"))
        else:
            units.append(("c", _BAMINI.get(ch, ch)))
        i += 1
    return _reorder_tamil(units)


# TSCII 1.7 byte -> Unicode (0x80-0xFF).  0xA6/0xA7/0xA8 are pre-base ெ ே ை, 0xA1 is ா, 0xAA ௗ.
_TSCII = {
    0x80: "௦", 0x81: "௧", 0x82: "ஸ்ரீ", 0x83: "ஜ", 0x84: "ஷ", 0x85: "ஸ", 0x86: "ஹ", 0x87: "க்ஷ",
    0x88: "ஜ்", 0x89: "ஷ்", 0x8A: "ஸ்", 0x8B: "ஹ்", 0x8C: "க்ஷ்", 0x8D: "௨", 0x8E: "௩", 0x8F: "௪",
    0x90: "௫", 0x91: "\u2018", 0x92: "\u2019", 0x93: "\u201c", 0x94: "\u201d", 0x95: "௬", 0x96: "௭",
    0x97: "௮", 0x98: "௯", 0x99: "ஙு", 0x9A: "ஞு", 0x9B: "ஙூ", 0x9C: "ஞூ", 0x9D: "௰", 0x9E: "௱",
    0x9F: "௲", 0xA1: "\u0bbe", 0xA2: "\u0bbf", 0xA3: "\u0bc0", 0xA4: "\u0bc1", 0xA5: "\u0bc2",
    0xA6: "\u0bc6", 0xA7: "\u0bc7", 0xA8: "\u0bc8", 0xA9: "©", 0xAA: "\u0bd7", 0xAB: "அ", 0xAC: "ஆ",
    0xAD: "இ", 0xAE: "ஈ", 0xAF: "உ", 0xB0: "ஊ", 0xB1: "எ", 0xB2: "ஏ", 0xB3: "ஐ", 0xB4: "ஒ",
    0xB5: "ஓ", 0xB6: "ஔ", 0xB7: "ஃ", 0xFE: "இ",
}
for _b, _c in zip(range(0xB8, 0xCA), "கஙசஞடணதநபமயரலவழளறன"):
    _TSCII[_b] = _c
for _b, _c in zip(range(0xCA, 0xCC), ("டி", "டீ")):
    _TSCII[_b] = _c
for _b, _c in zip(range(0xCC, 0xDC), "கசடணதநபமயரலவழளறன"):
    _TSCII[_b] = _c + _TA_U
for _b, _c in zip(range(0xDC, 0xEC), "கசடணதநபமயரலவழளறன"):
    _TSCII[_b] = _c + _TA_UU
for _b, _c in zip(range(0xEC, 0xFE), "கஙசஞடணதநபமயரலவழளறன"):
    _TSCII[_b] = _c + _PULLI
_TSCII_PRE = {0xA6, 0xA7, 0xA8}


def _byte_of(ch: str) -> int:
    """The byte a mis-decoded character came from (cp1252 first, Latin-1 for C1 controls)."""
    o = ord(ch)
    if o < 0x100:
        return o
    try:
        return ch.encode("cp1252")[0]
    except UnicodeEncodeError:
        return -1


# every character that is a TSCII letter byte seen through Latin-1/cp1252 (as ``_byte_of`` reads it)
_TSCII_CHARS = re.compile("[" + "".join(
    re.escape(chr(cp)) for cp in range(0x80, 0x2200)
    if not chr(cp).isspace() and (b := _byte_of(chr(cp))) >= 0x80 and b in _TSCII) + "]")


def tscii_share(text: str) -> float:
    """Share of the non-space characters that are TSCII letter bytes (seen as Latin-1/cp1252)."""
    total = sum(map(len, text.split()))
    return len(_TSCII_CHARS.findall(text)) / total if total else 0.0


def tscii_to_unicode(text: str) -> str:
    """Convert TSCII text that was decoded as Latin-1/cp1252 ("¾Á¢ú") to Unicode ("தமிழ்")."""
    units: list[tuple[str, str]] = []
    for ch in text:
        b = _byte_of(ch)
        if b < 0x80 or b not in _TSCII:
            units.append(("c", ch))
        elif b in _TSCII_PRE:
            units.append(("pre", _TSCII[b]))
        elif b == 0xA1:
            units.append(("aa", _TSCII[b]))
        elif b == 0xAA:
            units.append(("au", _TSCII[b]))
        else:
            units.append(("c", _TSCII[b]))
    return _reorder_tamil(units)


def _tamil_syllables(text: str):
    """Yield (consonant-or-char, vowel sign or '') pairs of Unicode Tamil text."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _TA_CONS:
            base = ch
            if ch == "க" and text[i + 1:i + 3] == _PULLI + "ஷ":
                base, i = "க்ஷ", i + 2
            sign = text[i + 1] if i + 1 < n and "\u0bbe" <= text[i + 1] <= "\u0bcd" else ""
            yield base, sign
            i += 2 if sign else 1
        else:
            yield ch, ""
            i += 1


_BAMINI_REV_U = {v[0]: k for k, v in _BAMINI.items() if len(v) == 2 and v[1] == _TA_U and k.isupper()}
_BAMINI_REV_U.update({"ச": "R", "ர": "U"})
_BAMINI_REV_UU = {"க": "$", "ம": "%", "ர": "&", "ழ": "*", "ட": "^", "ச": "#"}
_BAMINI_REV = {v: k for k, v in _BAMINI.items() if len(v) == 1 and k not in "hnNip;+}PH>"}
_BAMINI_REV.update({"ஸ்ரீ": "=", ",": ">", "க்ஷ": "f;\\"})


def unicode_to_bamini(text: str) -> str:
    """Encode Unicode Tamil as Bamini keystrokes (the inverse of :func:`bamini_to_unicode`)."""
    out: list[str] = []
    text = text.replace("ஸ்ரீ", "\ue000")
    for base, sign in _tamil_syllables(text):
        if base == "\ue000":
            out.append("=")
            continue
        if base not in _TA_CONS and base != "க்ஷ":
            out.append(_BAMINI_REV.get(base, base))
            continue
        k = _BAMINI_REV[base]
        if sign == "":
            out.append(k)
        elif sign == _PULLI:
            out.append("H" if base == "ர" and False else k + ";")
        elif sign == "\u0bbe":
            out.append(k + "h")
        elif sign == "\u0bbf":
            out.append("b" if base == "ட" else k + "p")
        elif sign == "\u0bc0":
            out.append("B" if base == "ட" else k + "P")
        elif sign == _TA_U:
            out.append(_BAMINI_REV_U.get(base, k + "\u0bc1"))
        elif sign == _TA_UU:
            out.append(_BAMINI_REV_UU.get(base) or (_BAMINI_REV_U.get(base, k) + "}"))
        elif sign == "\u0bc6":
            out.append("n" + k)
        elif sign == "\u0bc7":
            out.append("N" + k)
        elif sign == "\u0bc8":
            out.append("i" + k)
        elif sign == "\u0bca":
            out.append("n" + k + "h")
        elif sign == "\u0bcb":
            out.append("N" + k + "h")
        elif sign == "\u0bcc":
            out.append("n" + k + "s")
        else:
            out.append(k)
    return "".join(out)


_TSCII_REV: dict[str, int] = {}
for _b, _c in _TSCII.items():
    if _b not in (0xAD, 0xA4, 0xA5) and _c not in _TSCII_REV:
        _TSCII_REV[_c] = _b


def unicode_to_tscii(text: str) -> str:
    """Encode Unicode Tamil as TSCII, returned as the Latin-1/cp1252 mojibake feeds show."""
    out: list[int | str] = []
    for base, sign in _tamil_syllables(text):
        if base not in _TA_CONS and base != "க்ஷ":
            out.append(_TSCII_REV.get(base, base))
            continue
        if sign in ("\u0bc6", "\u0bc7", "\u0bc8"):
            out += [_TSCII_REV[sign], _TSCII_REV[base]]
        elif sign in ("\u0bca", "\u0bcb"):
            out += [0xA6 if sign == "\u0bca" else 0xA7, _TSCII_REV[base], 0xA1]
        elif sign == "\u0bcc":
            out += [0xA6, _TSCII_REV[base], 0xAA]
        elif base + sign in _TSCII_REV:
            out.append(_TSCII_REV[base + sign])
        else:
            out.append(_TSCII_REV[base])
            if sign:
                out.append(_TSCII_REV.get(sign, sign))
    res = []
    for x in out:
        if isinstance(x, int):
            try:
                res.append(bytes([x]).decode("cp1252"))
            except UnicodeDecodeError:
                res.append(chr(x))
        else:
            res.append(x)
    return "".join(res)


_CONVERTERS = {"bamini": bamini_to_unicode, "tscii": tscii_to_unicode, "fm-abhaya": fm_to_unicode}


def to_unicode(text: str, encoding: str) -> str:
    """Convert ``text`` from ``encoding`` ("bamini", "tscii", "fm-abhaya") to Unicode."""
    return _CONVERTERS[encoding](text)
