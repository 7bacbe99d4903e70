"""FM Abhaya, the legacy (pre-Unicode) Sinhala font encoding: to Unicode and back.

Part of ``legacy`` (which re-exports both functions); the table is our own, written from the
font's published layout and checked against akuruAI/Pandukabhaya's MIT-licensed cases — see
aggregator/language/README.md.
"""

from __future__ import annotations

__all__ = ["fm_to_unicode", "unicode_to_fm"]

_ZWJ = "\u200d"

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
