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


# --------------------------------------------------------------------------------- Sinhala
_AL = "\u0dca"
_SI_CONS = set(chr(c) for c in range(0x0D9A, 0x0DC7))
_RAKAR = _AL + _ZWJ + "ර"
_YANS = _AL + _ZWJ + "ය"

# FM Abhaya keystroke (or keystroke pair) -> Unicode.  Pre-base: f = ෙ, ff = ෛ.
_FM = {
    # vowels
    "w": "අ", "wd": "ආ", "we": "ඇ", "wE": "ඈ", "b": "ඉ", "B": "ඊ", "W": "උ", "W!": "ඌ", "R": "ඍ",
    "RD": "ඎ", "t": "එ", "ta": "ඒ", "ft": "ඓ", "T": "ඔ", "´": "ඕ", "T!": "ඖ",
    # consonants
    "l": "ක", "L": "ඛ", ".": "ග", ">": "ඝ", "X": "ඞ", "Õ": "ඟ", "`.": "ඟ", "p": "ච", "P": "ඡ",
    "c": "ජ", "CO": "ඣ", "®": "ඣ", "[": "ඤ", "{": "ඥ", "g": "ට", "G": "ඨ", "v": "ඩ", "V": "ඪ",
    "K": "ණ", "~": "ඬ", "`v": "ඬ", ";": "ත", ":": "ථ", "o": "ද", "O": "ධ", "k": "න", "|": "ඳ",
    "`o": "ඳ", "m": "ප", "M": "ඵ", "n": "බ", "N": "භ", "u": "ම", "U": "ඹ", "h": "ය", "r": "ර",
    ",": "ල", "j": "ව", "Y": "ශ", "I": "ෂ", "i": "ස", "y": "හ", "<": "ළ", "*": "ෆ",
    # conjunct glyphs
    "CI": "ක්ෂ", "Ë": "ක්ෂ", "Cj": "ක්ව", "†": "ත්ථ", "…": "ත්ව", "‡": "න්ද", "JO": "න්ධ",
    "„": "ද්ව", "Š": "ද්ධ", "`j": "ද්ව", "`O": "ද්ධ", "ø": "ද්" + _ZWJ + "ර",
    # signs
    "H": _YANS, "%": _RAKAR, "e": "\u0dd0", "E": "\u0dd1", "q": "\u0dd4", "=": "\u0dd4",
    "Q": "\u0dd6", "+": "\u0dd6", "s": "\u0dd2", "S": "\u0dd3", "!": "\u0ddf", "d": "\u0dcf",
    "a": _AL, "A": _AL, "x": "\u0d82", "#": "\u0d83", "½": "\u0d83", "D": "\u0dd8", "DD": "\u0df2",
    # punctuation re-homed by the font
    '"': ",", "'": ".", "(": ":", "&": ")", "^": "(", "@": "?", "$": "/", "]": "%", "}": "=",
    "¦": ";", "Z": "\u2019", "z": "\u2018",
    # consonant+sign ligature glyphs
    "C": "ක්", "F": "ත්", "J": "න්", "/": "රැ", "?": "රෑ", "¢": "ඳි", "£": "ඳී", "§": "දී",
    "¨": "ලු", "ª": "ඳූ", "¯": "ඣි", "°": "ඣී", "±": "දැ", "¾": "ර්", "¿": "ළු", "À": "ඨි",
    "Á": "ඨී", "Â": "ඡී", "Ä": "ඛ්", "Å": "ඛි", "Æ": "ලූ", "Ç": "ඛී", "È": "දි", "É": "ච්",
    "Ê": "ජ්", "Í": "රී", "Î": "ඪි", "Ð": "ඪී", "Ñ": "චි", "Ò": "ථී", "Ó": "ථි", "Ô": "ජී",
    "Ö": "චී", "×": "ඥ", "Ø": "ඤ", "Ù": "ඞ්", "Ú": "ඵී", "Ü": "ට්", "Ý": "ඵි", "Þ": "දා",
    "ß": "රි", "à": "ටී", "á": "ටි", "â": "ඩ්", "ã": "ඞී", "ä": "ඩි", "å": "ඬ්", "ç": "ඬි",
    "è": "ධ්", "é": "ඬී", "ê": "ධි", "ë": "ධී", "ì": "බි", "í": "බ්", "î": "බී", "ï": "ම්",
    "ð": "ජි", "ñ": "මි", "ò": "ඹ්", "ó": "මී", "ô": "ඹි", "õ": "ව්", "ö": "ඹී", "÷": "ඳු",
    "ù": "වී", "ú": "වි", "û": "ඤු", "ü": "ඤූ", "ý": "ඡි", "þ": "ඡ්", "ÿ": "දු", "›": "ශ්" + _ZWJ + "රී",
    "ƒ": "ඳැ", "Œ": "ණී", "‚": "ණි", "“": "ර්ණ", "‹": "ද්ධි", "‰": "ද්වි",
}
_FM_MAXLEN = max(map(len, _FM))
# keystroke pairs whose second key belongs to the pair only in these combinations
_FM_SIGN_KINDS = {"a": "al", "A": "al", "d": "aa", "!": "au"}


def fm_to_unicode(text: str) -> str:
    """Convert FM Abhaya-typed text to Unicode Sinhala ("isxy," → "සිංහල")."""
    # Typists enter some signs in either order; bring them to one order first.
    text = text.replace("s%", "%s").replace("S%", "%S")
    units: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("ff", i) and i + 2 < n and text[i + 2] != "t":
            units.append(("pre", "\u0ddb"))
            i += 2
            continue
        if text[i] == "f" and not text.startswith("ft", i):
            units.append(("pre", "\u0dd9"))
            i += 1
            continue
        for L in range(min(_FM_MAXLEN, n - i), 0, -1):
            key = text[i:i + L]
            if key in _FM:
                kind = _FM_SIGN_KINDS.get(key, "c")
                val = _FM[key]
                if key in ("e", "E") and units and units[-1] == ("c", "ර"):
                    val = "\u0dd4" if key == "e" else "\u0dd6"  # "re" = රු, "rE" = රූ
                units.append((kind, val))
                i += L
                break
        else:
            units.append(("c", text[i]))
            i += 1
    out: list[str] = []
    i, n = 0, len(units)
    while i < n:
        kind, u = units[i]
        if kind == "pre" and i + 1 < n and units[i + 1][0] == "c" and (
                units[i + 1][1][-1:] in _SI_CONS or units[i + 1][1][-2:-1] in _SI_CONS and units[i + 1][1][-1] == _AL):
            cluster = units[i + 1][1]
            j = i + 2
            if cluster[-1] == _AL:  # a consonant+hal glyph ("õ" = ව්) after ෙ makes ේ
                cluster = cluster[:-1]
                units.insert(j, ("al", _AL))
                n += 1
            while j < n and units[j][1] in (_RAKAR, _YANS):
                cluster += units[j][1]
                j += 1
            k1 = units[j][0] if j < n else ""
            k2 = units[j + 1][0] if j + 1 < n else ""
            if u == "\u0ddb":
                out.append(cluster + u)
            elif k1 == "aa" and k2 == "al":
                out.append(cluster + "\u0ddd")
                j += 2
            elif k1 == "aa":
                out.append(cluster + "\u0ddc")
                j += 1
            elif k1 == "al":
                out.append(cluster + "\u0dda")
                j += 1
            elif k1 == "au":
                out.append(cluster + "\u0dde")
                j += 1
            else:
                out.append(cluster + u)
            i = j
            continue
        out.append(u)
        i += 1
    return "".join(out)


_FM_REV = {}
for _k, _v in _FM.items():
    if _v not in _FM_REV and _k not in ("=", "+", "A", "`.", "`v", "`o", "®", "Ë", "½", "×", "Ø", "¦", "Z", "z"):
        _FM_REV[_v] = _k
_FM_REV.update({"රු": "re", "රූ": "rE"})
_FM_REV_MAX = max(map(len, _FM_REV))


def unicode_to_fm(text: str) -> str:
    """Encode Unicode Sinhala as FM Abhaya keystrokes (inverse of :func:`fm_to_unicode`)."""
    out: list[str] = []
    i, n = 0, len(text)
    pre_signs = {"\u0dd9": ("f", ""), "\u0dda": ("f", "a"), "\u0ddc": ("f", "d"), "\u0ddd": ("f", "da"),
                 "\u0dde": ("f", "!"), "\u0ddb": ("ff", "")}
    while i < n:
        ch = text[i]
        if ch in _SI_CONS:
            # consonant cluster: C (්‍ර|්‍ය)*
            j = i + 1
            while text.startswith(_RAKAR, j) or text.startswith(_YANS, j):
                j += 3
            cluster = text[i:j]
            sign = text[j] if j < n and "\u0dca" <= text[j] <= "\u0df3" else ""
            if sign in pre_signs:
                a, b = pre_signs[sign]
                out.append(a + _fm_encode_run(cluster) + b)
                i = j + 1
                continue
            # ligature glyph for consonant+sign when the font has one
            if sign and len(cluster) == 1 and cluster + sign in _FM_REV:
                out.append(_FM_REV[cluster + sign])
                i = j + 1
                continue
            out.append(_fm_encode_run(cluster))
            i = j
            continue
        out.append(_FM_REV.get(ch, ch))
        i += 1
    return "".join(out)


def _fm_encode_run(s: str) -> str:
    if len(s) > 1 and (s[1:].startswith(_RAKAR) or s[1:].startswith(_YANS)):
        return _FM_REV.get(s[0], s[0]) + s[1:].replace(_RAKAR, "%").replace(_YANS, "H")
    out = []
    i = 0
    while i < len(s):
        for L in range(min(_FM_REV_MAX, len(s) - i), 0, -1):
            if s[i:i + L] in _FM_REV:
                out.append(_FM_REV[s[i:i + L]])
                i += L
                break
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


_CONVERTERS = {"bamini": bamini_to_unicode, "tscii": tscii_to_unicode, "fm-abhaya": fm_to_unicode}


def to_unicode(text: str, encoding: str) -> str:
    """Convert ``text`` from ``encoding`` ("bamini", "tscii", "fm-abhaya") to Unicode."""
    return _CONVERTERS[encoding](text)
