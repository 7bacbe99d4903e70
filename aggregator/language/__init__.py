"""Language identification for English, Tamil and Sinhala feed text (and naming the others).

    detect(text, hint=None) -> Detection

How it decides, cheapest signal first:
1. TSCII (Tamil in a legacy 8-bit encoding, seen as Latin-1 mojibake) by its share of
   TSCII letter bytes; converted to Unicode before anything else.
2. Unicode scripts (Tamil U+0B80–0BFF, Sinhala U+0D80–0DFF, Devanagari, ...): decides nearly all
   news text.  Mixed-script text counts by meaning: a Tamil headline with a Latin acronym is
   Tamil (a native-script word weighs three Latin words); an English paragraph followed by a
   Tamil one gets ``segments``.
3. Latin-script text goes to a small character n-gram model (``romanized.py``, trained by
   ``scripts/train_langid.py``) that tells English, romanized Tamil/Sinhala, romanized Hindi,
   Bamini / FM Abhaya legacy-font text and "another Latin language"; only that last case asks
   ``langdetect`` for a name (de, fr, ...).
4. The declared language (``hint``) is a prior: it decides only when the text has too little
   signal of its own.

Nothing heavy is imported here: the model and langdetect load on first need.
"""

from __future__ import annotations

import os
import re

from aggregator.models import Detection, Segment

from .normalize import normalize, normalize_tag
from .script import SCRIPT_LANG, counts, run_counts

__all__ = ["detect", "normalize", "normalize_tag", "detection_to_dict", "split_blocks_langs", "word_spans",
           "Detection", "Segment", "from_legacy"]

# the South Asian languages the n-gram model knows in Latin letters ("romanized": Tanglish,
# Singlish, Hinglish, Manglish...); "en" and these are the model's natural-language classes
ROMANIZED = ("ta", "si", "hi", "ml", "te", "kn", "bn")
NATURAL = ("en",) + ROMANIZED
# romanized languages the aggregator does not serve: named only on enough words (one or two
# words - "Attitude", "Islam" - look like transliterated loanwords in their Wikipedia text)
OTHER_INDIC = ("hi", "ml", "te", "kn", "bn")
OTHER_INDIC_MIN_WORDS = 3
NATIVE_WEIGHT = 3  # one Tamil/Sinhala word outweighs three Latin ones (acronyms, names, code-mixing)
_INDIC = re.compile(r"[\u0900-\u0dff]")
_HIGH = re.compile(r"[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u2122]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_LETTER = re.compile(r"[^\W\d_]")


def _und(text: str = "") -> Detection:
    return Detection(lang="und", confidence=0.0, script="Zyyy", text=text)


# langdetect names the languages of the scripts that several languages share, each from the
# profiles of that script's languages only: Latin (other than English, which our model knows),
# Arabic (Arabic, Persian, Urdu), Cyrillic (Russian, Ukrainian, Bulgarian, Macedonian) and
# Devanagari (Hindi, Marathi, Nepali). Loading all 55 took ~40 MB more in every process that met
# such a text (the CJK profiles are most of it), and a language written in another script cannot
# win: with the Latin profiles alone, Russian came out Estonian and Arabic Somali.
LATIN_PROFILES = ("af", "ca", "cs", "cy", "da", "de", "en", "es", "et", "fi", "fr", "hr", "hu", "id",
                  "it", "lt", "lv", "nl", "no", "pl", "pt", "ro", "sk", "sl", "so", "sq", "sv", "sw",
                  "tl", "tr", "vi")
SCRIPT_PROFILES = {"Latn": LATIN_PROFILES, "Arab": ("ar", "fa", "ur"), "Cyrl": ("bg", "mk", "ru", "uk"),
                   "Deva": ("hi", "mr", "ne")}
_FACTORIES: dict = {}
LANGDETECT_CHARS = 600


def _langdetect_factory(script: str = "Latn"):
    factory = _FACTORIES.get(script)
    if factory is None:
        from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

        factory = DetectorFactory()
        factory.seed = 0  # the same answer every run
        profiles = []
        for name in SCRIPT_PROFILES[script]:
            with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as f:
                profiles.append(f.read())
        factory.load_json_profile(profiles)
        _FACTORIES[script] = factory
    return factory


def _langdetect_name(text: str, script: str = "Latn") -> tuple[str, float]:
    """Name the language of ``text`` among the langdetect profiles of ``script`` (imported lazily)."""
    factory = _langdetect_factory(script)  # a broken install fails loudly, not as "und"
    try:
        detector = factory.create()
        # its cost grows with the text; a few hundred letters are as telling as an article
        detector.append(text[:LANGDETECT_CHARS])
        best = detector.get_probabilities()[0]
        lang = best.lang.split("-")[0]
        return lang, float(best.prob)
    except Exception:  # langdetect raises on featureless text
        return "und", 0.0


_MODEL = None


def _model():
    """The n-gram model of romanized.py, loaded on first use."""
    global _MODEL
    if _MODEL is None:
        from .romanized import model

        _MODEL = model()
    return _MODEL


def _latin(text: str, hint: str | None, source: str | None = None) -> Detection:
    cls, conf, post = _model().classify(text)
    if cls == "und":
        return Detection(lang=hint or "und", confidence=0.1 if hint else 0.0, script="Latn", text=text)
    # a legacy-font guess rewrites the text: not on a word of two or three letters ("OK", "ok")
    if cls in ("bamini", "fm") and conf >= 0.9 and len(text) - text.count(" ") >= 4:
        from .legacy import bamini_to_unicode, fm_to_unicode

        # convert the text as typed: a joiner between two ASCII keys is stray in Latin text but
        # may sit between two letters once converted
        src = " ".join((source or text).split())
        conv = normalize(bamini_to_unicode(src) if cls == "bamini" else fm_to_unicode(src))
        c = counts(conv)
        native = c.get("Taml" if cls == "bamini" else "Sinh", 0)
        if native and native >= c.get("Latn", 0):
            return Detection(lang="ta" if cls == "bamini" else "si", confidence=round(conf * 0.98, 3),
                             script="Taml" if cls == "bamini" else "Sinh",
                             legacy_encoding="bamini" if cls == "bamini" else "fm-abhaya", text=conv)
    words = _LATIN_WORD.findall(text)
    if cls in ROMANIZED and names_only(words, _model().common):
        # a headline of names in capitals ("JEEVAN WEDS SEETHAI"), a capitalized word or an
        # acronym ("Village", "NGO") read as a romanized language: English, or the declared one
        if hint and hint != "en" and len(words) <= 2:
            return Detection(lang=hint, confidence=0.3, script="Latn", romanized=hint in ROMANIZED, text=text)
        return Detection(lang="en", confidence=round(max(post.get("en", 0.0), 0.5), 3), script="Latn", text=text)
    short_indic = cls in OTHER_INDIC and len(words) < OTHER_INDIC_MIN_WORDS
    if cls in ("bamini", "fm") or short_indic:
        # not convincing as legacy text, or too short to name a language we do not serve: fall
        # back to the best of the rest
        drop = ("bamini", "fm") + (OTHER_INDIC if short_indic else ())
        post = {k: v for k, v in post.items() if k not in drop}
        z = sum(post.values()) or 1.0
        post = {k: v / z for k, v in post.items()}
        cls = max(post, key=post.get)
        conf = post[cls]
        if short_indic and cls in ("ta", "si"):
            # it read as another South Asian language first: not Tamil or Sinhala on so little
            return Detection(lang=hint or "und", confidence=0.1 if hint else 0.0, script="Latn",
                             romanized=True, text=text)
    # the hint is a prior for weak evidence only: very short texts or a near tie
    if hint and hint != cls:
        letters = len(_LATIN_WORD.findall(text))
        if letters <= 2 or conf < 0.6:
            p_hint = post.get(hint if hint in post else "xx", 0.0)
            if p_hint >= 0.15 or letters <= 1:
                return Detection(lang=hint, confidence=round(max(p_hint, 0.3), 3), script="Latn",
                                 romanized=hint in ROMANIZED, text=text)
    if cls in NATURAL and _maybe_other(text, cls):
        name, p = _langdetect_name(text)
        if name not in ("en", "und", cls) and p >= OTHER_MIN_PROB:
            return Detection(lang=name, confidence=round(p * 0.95, 3), script="Latn", text=text)
    if cls == "xx":
        name, p = _langdetect_name(text)
        if name in ("en", "ta", "si", "und"):
            # langdetect disagrees that it is another language: take the best of our own classes
            rest = {k: v for k, v in post.items() if k not in ("xx", "bamini", "fm")}
            cls = max(rest, key=rest.get) if name == "und" else name
            return Detection(lang=cls, confidence=round(min(conf, 0.6), 3), script="Latn",
                             romanized=cls in ROMANIZED, text=text)
        return Detection(lang=name, confidence=round(min(conf, p), 3), script="Latn", text=text)
    return Detection(lang=cls, confidence=round(conf, 3), script="Latn", romanized=cls in ROMANIZED, text=text)


NAMES_MAX_WORDS = 12


def names_only(words: list[str], common: frozenset[str]) -> bool:
    """Whether Latin ``words`` read as names in an English headline: every word capitalized
    ("Jeevan Weds Seethai", "JEEVAN WEDS SEETHAI"), none of them a common word of a romanized
    language, and at most NAMES_MAX_WORDS of them. Romanized comments are typed in lower case
    or with the words that give them away ("SEMMA PADAM DA")."""
    if not words or len(words) > NAMES_MAX_WORDS:
        return False
    if not all(w[0].isupper() for w in words):
        return False
    return not any(w.lower() in common for w in words)


# Our n-gram model knows English, romanized Tamil/Sinhala/Hindi/Malayalam and only a little of
# the other Latin-script languages: French or Spanish prose reads to it as English, Turkish or
# Polish as romanized Sinhala. A text of OTHER_MIN_WORDS words or more that shows it is named by
# langdetect instead, when langdetect is sure: "English" with almost none of the English function
# words and with function words of other languages or accented letters in several words;
# "romanized" text with accented letters in several words (romanized Tamil and Sinhala are typed
# in ASCII). The cheap checks come first, so English headlines rarely reach langdetect.
OTHER_MIN_WORDS = 7
OTHER_MIN_PROB = 0.95
_EN_FUNCTION = frozenset("""
an the of to in on at for by with from and or but is are was were be been has have had it its this
that these those as not no you he she we they his her their our my your me him them us will would
can could should do does did so if than then there what which who when where why how all about
after into over up out just more also only
""".split())
# frequent function words of French, German, Spanish, Italian, Portuguese, Dutch, the Scandinavian
# languages and Malay/Indonesian that are not English words
_OTHER_FUNCTION = frozenset("""
le la les des du une et est dans pour sur avec qui que pas au aux ce cette sont
der das und ist nicht mit dem ein eine auf für von zu sich auch wird
el los las del y con por para una es se lo su al como
il della di che e per non sono gli nel alla dei delle
os dos não com uma em ao é na da
het een van niet voor zijn ook
och att det som är og er ikke til af
yang dan untuk dengan ini itu dari akan tidak
""".split())
_ACCENTED = re.compile(r"[\u00c0-\u024f]")


def _maybe_other(text: str, cls: str) -> bool:
    words = _LATIN_WORD.findall(text)
    if len(words) < OTHER_MIN_WORDS:
        return False
    accented = sum(1 for w in words if _ACCENTED.search(w))
    if cls != "en":
        return accented >= 2
    lower = [w.lower() for w in words]
    if sum(w in _EN_FUNCTION for w in lower) >= 0.1 * len(words):
        return False
    return accented >= 2 or sum(w in _OTHER_FUNCTION for w in lower) >= 2


def _native_vote(c: dict[str, int], text: str, words: dict[str, int] | None = None) -> tuple[str, str, float]:
    """(lang, script, confidence) for text with non-Latin letters, by script weights."""
    if len(c) == 1:
        script = next(iter(c))
        return SCRIPT_LANG.get(script) or "und", script, 1.0
    if words is None:
        words = {}
    words.update(run_counts(text, c))
    # (in the order of ``c``: on a tie Tamil/Sinhala win over Latin, whatever the word order)
    weights = {script: n * (1 if script == "Latn" else NATIVE_WEIGHT) for script, n in words.items()}
    if not weights:
        script = max(c, key=c.get)
        return SCRIPT_LANG.get(script) or "und", script, 0.5
    script = max(weights, key=weights.get)
    total = sum(weights.values())
    return SCRIPT_LANG.get(script) or "und", script, weights[script] / total


# the language a shared script stands for when langdetect is unsure (too few letters)
SCRIPT_DEFAULT = {"Arab": "ar", "Cyrl": "ru", "Deva": "hi"}
SCRIPT_MIN_PROB = 0.8


def _script_lang(script: str, text: str) -> str:
    """The language of text written in ``script`` (not Latin: see ``_latin``)."""
    if script in SCRIPT_PROFILES and script != "Latn":
        name, p = _langdetect_name(text, script)
        return name if p >= SCRIPT_MIN_PROB else SCRIPT_DEFAULT[script]
    lang = SCRIPT_LANG.get(script)
    if lang:
        return lang
    if script == "Latn":
        name, _ = _langdetect_name(text)
        return name
    return "und"


def _piece_lang(piece: str, latin_only: bool = False) -> str | None:
    """Language of one sentence/paragraph for segmenting (None: too little signal)."""
    if latin_only:
        script = "Latn"
    else:
        c = counts(piece)
        if not c:
            return None
        script = next(iter(c)) if len(c) == 1 else _native_vote(c, piece)[1]
    if script == "Latn":
        if len(_LATIN_WORD.findall(piece)) < 4:
            return None
        cls = _model().best(piece)
        if cls in NATURAL:
            return cls  # what _latin would say (no hint): skip its posterior
        d = _latin(piece, None)
        return d.lang if d.lang != "und" else None
    return _script_lang(script, piece)


def _segments(text: str, latin_only: bool = False) -> list[Segment]:
    from . import segment

    return segment.pieces(text, lambda piece: _piece_lang(piece, latin_only))


WORD_SEGMENTS_MAX_CHARS = 400  # a title, a comment, a sentence: longer texts are cut into pieces


def _word_lang(piece: str, lang: str) -> str | None:
    """Language of a run of words in another script inside a sentence in ``lang``. A Latin run
    inside Tamil or Sinhala text is English or that language typed in Latin letters: the
    n-gram model chooses between the two."""
    c = counts(piece)
    if not c:
        return None
    script = max(c, key=c.get)
    if script != "Latn":
        return _script_lang(script, piece)
    acc, n = _model().scores(piece)
    if not n:
        return None
    classes = _model().classes
    pick = ("en", lang) if lang in ROMANIZED else NATURAL
    return max(pick, key=lambda k: acc[classes.index(k)])


def _latin_switch(words: list[str], lang: str):
    """Where a Latin-script sentence in ``lang`` switches language for good: (k, left, right)
    when its first k words and the rest are each at least segment.MIN_WORDS words, in two
    different languages of ours (English, romanized Tamil/Sinhala/Hindi...), each read with a
    posterior of segment.MIN_LATIN_CONF or more; the split that explains the words best.
    None otherwise, and at once unless MIN_WORDS - 1 of some MIN_WORDS words in a row read as
    another language on their own (word labels are cached: the check costs a lookup per word)."""
    from .segment import MIN_LATIN_CONF, MIN_WORDS

    m = _model()
    labels = [m.word_label(w) for w in words]
    classes = m.classes
    other = [lab is not None and classes[lab] != lang and classes[lab] in NATURAL for lab in labels]
    # two of MIN_WORDS words in a row (romanized clauses carry English words: "match paathen")
    if not any(sum(other[i:i + MIN_WORDS]) >= MIN_WORDS - 1 for i in range(len(other) - MIN_WORDS + 1)):
        return None
    scores = [m.word_score(w) for w in words]
    lettered = [lab is not None for lab in labels]
    total_acc, total_n = m.unpack(sum(scores))
    n_all = sum(lettered)
    best = None
    left, n_left = 0, 0
    for k in range(1, len(words)):
        left += scores[k - 1]
        n_left += lettered[k - 1]
        if n_left < MIN_WORDS or n_all - n_left < MIN_WORDS or not lettered[k]:
            continue
        a_acc, a_n = m.unpack(left)
        b_acc = [x - y for x, y in zip(total_acc, a_acc)]
        ia, ib = a_acc.index(max(a_acc)), b_acc.index(max(b_acc))
        # English and one romanized language (a switch between two romanized languages inside
        # one sentence is the model hesitating, not the writer)
        if ia == ib or {classes[ia], classes[ib]} - {"en"} - set(ROMANIZED) or "en" not in (classes[ia], classes[ib]):
            continue
        fit = a_acc[ia] + b_acc[ib]
        if best is not None and fit <= best[0]:
            continue
        _, a_conf, _ = m.posterior(a_acc, a_n)
        _, b_conf, _ = m.posterior(b_acc, total_n - a_n)
        if min(a_conf, b_conf) >= MIN_LATIN_CONF:
            best = (fit, k, classes[ia], classes[ib])
    return best[1:] if best else None


def _with_word_segments(d: Detection, latin_only: bool = False, runs: dict[str, int] | None = None) -> Detection:
    """``d`` with word-level segments when its text is one sentence that switches script or
    language for segment.MIN_WORDS words or more (the language of ``d`` stays). ``runs``: words
    per script, when known (no other script with MIN_WORDS words: no script switch to look for)."""
    from . import segment

    text = d.text
    if d.segments or len(text) > WORD_SEGMENTS_MAX_CHARS or d.lang == "und" or d.legacy_encoding:
        return d
    if runs is not None and not any(n >= segment.MIN_WORDS for s, n in runs.items() if s != d.script):
        if d.script != "Latn" or set(runs) != {"Latn"}:
            return d
    segs = segment.words(text, d.lang, d.script, lambda p: _word_lang(p, d.lang), lambda ws: _latin_switch(ws, d.lang),
                         latin_only=latin_only)
    if not segs:
        return d
    return Detection(lang=d.lang, confidence=d.confidence, script=d.script, romanized=d.romanized,
                     segments=tuple(segs), legacy_encoding=d.legacy_encoding, text=text)


def detect(text: str, hint: str | None = None) -> Detection:
    """Detect the language of ``text``; ``hint`` (a declared tag like "en-US") is only a prior."""
    if not text:
        return _und()
    hint_lang = normalize_tag(hint)
    legacy = None
    if not text.isascii() and _HIGH.search(text) and not _INDIC.search(text):
        from .legacy import tscii_share, tscii_to_unicode

        if tscii_share(text) >= 0.5:
            text = tscii_to_unicode(text)
            legacy = "tscii"
    t = normalize(text)
    c = counts(t)
    if not c:
        return _und(t)
    if "Hani" in c and ("Kana" in c or "Hang" in c):
        # Japanese writes kanji among its kana, Korean sometimes hanja among hangul: the kana
        # or hangul name the language, the Han characters count with them
        c = dict(c)
        to = "Kana" if c.get("Kana", 0) >= c.get("Hang", 0) else "Hang"
        c[to] += c.pop("Hani")
    if set(c) == {"Latn"}:
        d = _latin(t, hint_lang, source=text if "\u200d" in text or "\u200c" in text else None)
        if "\n" in t:
            segs = _segments(d.text, latin_only=d.script == "Latn")
            if segs:
                d = Detection(lang=d.lang, confidence=d.confidence, script=d.script, romanized=d.romanized,
                              segments=tuple(segs), legacy_encoding=d.legacy_encoding, text=d.text)
        return _with_word_segments(d, latin_only=d.script == "Latn")
    words: dict[str, int] = {}
    lang, script, conf = _native_vote(c, t, words)
    romanized = False
    if script == "Latn":
        # mostly Latin with a few native words (code-mixed comments): the Latin part decides,
        # but a short text that also has Tamil/Sinhala words is that language, not English
        d = _latin(t, hint_lang)
        lang, conf, romanized = d.lang, d.confidence, d.romanized
        native = {s: n for s, n in words.items() if s != "Latn" and SCRIPT_LANG.get(s)}
        if native and words.get("Latn", 0) <= 30:
            nat_script = max(native, key=native.get)
            nat_lang = SCRIPT_LANG[nat_script]
            if lang != nat_lang:
                lang, script, conf, romanized = nat_lang, nat_script, 0.6, False
    else:
        lang = _script_lang(script, t)
        conf = 0.5 + 0.49 * conf
    segs: list[Segment] = []
    # one native script throughout: every piece would say the same language
    if ("\n" in t and not (len(c) == 1 and SCRIPT_LANG.get(script))) \
            or (len(words) > 1 and sum(1 for n in words.values() if n >= 4) > 1):
        segs = _segments(t)
        if segs:
            # the language covering most of the text (native letters weighted) leads
            cover: dict[str, int] = {}
            for s in segs:
                w = (s.end - s.start) * (1 if s.lang in ("en", "de", "fr") else 2)
                cover[s.lang] = cover.get(s.lang, 0) + w
            lead = max(cover, key=cover.get)
            if lead != lang and lead != "und":
                lang = lead
                lead_text = "".join(t[s.start:s.end] for s in segs if s.lang == lead)
                lead_scripts = counts(lead_text)
                script = max(lead_scripts, key=lead_scripts.get) if lead_scripts else script
                romanized = script == "Latn" and lead in ROMANIZED
    return _with_word_segments(Detection(lang=lang, confidence=round(min(conf, 0.99), 3), script=script,
                                         romanized=romanized, segments=tuple(segs), legacy_encoding=legacy,
                                         text=t), runs=words)


_NONSPACE = re.compile(r"\S+")
_SPACE = re.compile(r"\s")


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """The word-level segments of each sentence of ``text`` (a paragraph as it stands in a
    page, whitespace and all): (start, end, lang) with offsets into ``text`` itself. A sentence
    gets them as ``detect`` gives them (a run of segment.MIN_WORDS words or more in another
    script or language); a sentence whose words normalising would change in number is skipped."""
    from .segment import sentences

    out: list[tuple[int, int, str]] = []
    flat = _SPACE.sub(" ", text)  # a line break inside a paragraph is a space (same offsets)
    for s, e in sentences(flat):
        piece = flat[s:e]
        if len(piece) > WORD_SEGMENTS_MAX_CHARS * 2 or not _LETTER.search(piece):
            continue
        d = detect(piece)
        if not d.segments or d.legacy_encoding:
            continue
        raw = [m.span() for m in _NONSPACE.finditer(piece)]
        norm = [m.span() for m in _NONSPACE.finditer(d.text)]
        if len(raw) != len(norm):
            continue
        for seg in d.segments:
            idx = [i for i, (a, b) in enumerate(norm) if a >= seg.start and b <= seg.end]
            if idx:
                out.append((s + raw[idx[0]][0], s + raw[idx[-1]][1], seg.lang))
    return out


def from_legacy(text: str, encoding: str) -> str:
    """``text`` typed in a legacy font (``Detection.legacy_encoding``: "bamini", "tscii",
    "fm-abhaya") as the Unicode Tamil or Sinhala it stands for, NFC-normalised."""
    import unicodedata

    from .legacy import to_unicode

    return unicodedata.normalize("NFC", to_unicode(text, encoding))


def detection_to_dict(d: Detection) -> dict:
    """The JSON shape ``aggregator detect --jsonl`` prints."""
    return {
        "lang": d.lang,
        "confidence": d.confidence,
        "script": d.script,
        "romanized": d.romanized,
        "legacy_encoding": d.legacy_encoding,
        "segments": [{"start": s.start, "end": s.end, "lang": s.lang} for s in d.segments],
    }


def split_blocks_langs(blocks: list[str], default: str = "und") -> list[str]:
    """Language of each HTML block (paragraph) of an entry; blocks with too little signal
    (images, a lone link, "...") take the previous block's language, or ``default``."""
    out: list[str] = []
    prev = normalize_tag(default) or default
    for b in blocks:
        d = detect(b, hint=prev)
        lang = d.lang if d.lang != "und" else prev
        out.append(lang)
        prev = lang
    return out
