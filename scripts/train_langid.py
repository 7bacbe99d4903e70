#!/usr/bin/env python
"""Train the Latin-script character n-gram model of aggregator.language, reproducibly.

    .venv/bin/python scripts/train_langid.py            # writes aggregator/language/data/latin_ngram.json.gz
    .venv/bin/python scripts/train_langid.py --output /tmp/m.json.gz   # elsewhere (to compare bytes)

Reads ../shared/data (override with AGGREGATOR_SHARED_DATA) and the training text kept in this
repository, scripts/langid_data/: dakshina.tsv.gz (the Dakshina v1.0 rows used, cut from the
dataset by scripts/dakshina_subset.py) and written/<class>.txt (lines written for this project).
Same data in, same model out, byte for byte (a test rebuilds the shipped model).

Training text (all of it data we may ship a model of; see aggregator/language/README.md):
  * en  - English rows of ../shared/data/langid {titles,sentences,paragraphs} (nuuuwan/lk_news, MIT),
          training half only, plus Latin-script headlines of the English papers in
          ../shared/data/feeds/derived (lk_news, MIT; held-out rows left out) and titles/summaries of
          ../shared/data/feeds/en (fastfeedparser, MIT)
  * ta, si - romanized: Dakshina romanized rows (CC BY-SA 4.0), training half only, plus our own
          rule-based romanization (several spelling styles, incl. vowel-dropped "ad-hoc" typing) of
          native Tamil/Sinhala text: lk_news rows (training half), lk_news headlines in
          ../shared/data/feeds/derived, Dakshina native sentences (training half)
  * bamini, fm - the same native text encoded with our own Unicode->Bamini / Unicode->FM Abhaya encoders
  * hi, ml, te, kn, bn - Dakshina v1.0 romanized Wikipedia sentences (CC BY-SA 4.0; the first
          2,000 rows of each language's rejoined file that are in no shared evaluation set: ta and
          si get as many), plus colloquial lines written for this project (langid_data/written/)
  * xx  - other Latin-script languages: the German WordPress feed in ../shared/data/feeds/other
          plus a few sentences written for this project (langid_data/written/xx.txt)
Rows of the DravidianCodeMix, IndoNLP/Singlish and si_en_social_gold sets are never used (their
licences are unclear); they stay evaluation-only.  The random generator is seeded: same data in,
same model out.
"""

from __future__ import annotations

import functools
import gzip
import html
import json
import os
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aggregator.language.legacy import unicode_to_bamini, unicode_to_fm  # noqa: E402
from aggregator.language.normalize import normalize  # noqa: E402
from aggregator.language.script import counts  # noqa: E402
from aggregator.language.romanized import (  # noqa: E402
    FIELD, MODEL_PATH, ORDERS, SCALE, NgramModel, is_training_row, token_grams, tokens,
)

SHARED = Path(os.environ.get("AGGREGATOR_SHARED_DATA") or ROOT.parent / "shared" / "data")
RNG = random.Random(20251215)
DATA = ROOT / "scripts" / "langid_data"
CLASSES = ["en", "ta", "si", "hi", "ml", "te", "kn", "bn", "xx", "bamini", "fm"]
# Per known n-gram, in nats, for English, Tamil and Sinhala: the Dakshina sentences of the other
# languages are Wikipedia prose while Tamil comments are colloquial ("enna", "pannalam" are
# frequent in Malayalam Wikipedia text too), so a near tie goes to the languages the
# aggregator is for. 0.1, like the weights of the written lines (WRITTEN), was chosen on Dakshina
# rows 9001-9600 of each file (never trained on) and the training half of the shared rows, never
# on the held-out half.
GRAM_BIAS = {"en": 0.1, "ta": 0.1, "si": 0.1}
# Add-ALPHA smoothing; the "another Latin language" class, trained on a few thousand n-grams
# against half a million for English, gets a pseudo-count in proportion (ALPHA * its n-grams /
# English n-grams), so that an n-gram no class has seen is not likelier in it than in English:
# with ALPHA for all, any English word missing from the news text ("Oxygen") read as xx.
ALPHA = 0.3
UNSHIPPABLE = ("DravidianCodeMix", "IndoNLP", "ruwini01")

# --------------------------------------------------------------------- romanization rules
_TA_CONS = {
    "க": ["k", "g", "k"], "ங": ["ng"], "ச": ["s", "ch", "c"], "ஞ": ["nj", "gn", "ny"],
    "ட": ["d", "t", "d"], "ண": ["n", "n", "nn"], "த": ["th", "t", "d", "th"], "ந": ["n"],
    "ப": ["p", "b", "p"], "ம": ["m"], "ய": ["y"], "ர": ["r"], "ல": ["l"], "வ": ["v", "v", "w"],
    "ழ": ["zh", "l", "z", "zh"], "ள": ["l", "l", "ll"], "ற": ["r", "r", "tr"], "ன": ["n"],
    "ஜ": ["j"], "ஷ": ["sh"], "ஸ": ["s"], "ஹ": ["h"],
}
_TA_VOW = {
    "அ": ["a"], "ஆ": ["aa", "a"], "இ": ["i"], "ஈ": ["ee", "i", "ii"], "உ": ["u"], "ஊ": ["oo", "u", "uu"],
    "எ": ["e"], "ஏ": ["e", "ae", "ee"], "ஐ": ["ai", "ei", "ai"], "ஒ": ["o"], "ஓ": ["o", "oo"],
    "ஔ": ["au", "ow"], "ஃ": ["h", ""],
}
_TA_SIGN = {
    "\u0bbe": ["aa", "a"], "\u0bbf": ["i"], "\u0bc0": ["ee", "i", "ii"], "\u0bc1": ["u"],
    "\u0bc2": ["oo", "u", "uu"], "\u0bc6": ["e"], "\u0bc7": ["e", "ae", "ee"], "\u0bc8": ["ai", "ei", "a"],
    "\u0bca": ["o"], "\u0bcb": ["o", "oo"], "\u0bcc": ["au", "ow"], "\u0bcd": [""],
}
_SI_CONS = {
    "ක": ["k"], "ඛ": ["kh", "k"], "ග": ["g"], "ඝ": ["gh", "g"], "ඞ": ["ng"], "ඟ": ["ng", "n"],
    "ච": ["ch", "c"], "ඡ": ["ch", "chh"], "ජ": ["j"], "ඣ": ["jh", "j"], "ඤ": ["gn", "ny", "n"],
    "ඥ": ["gn", "dny"], "ට": ["t"], "ඨ": ["t", "th"], "ඩ": ["d"], "ඪ": ["d", "dh"], "ණ": ["n"],
    "ඬ": ["nd", "d"], "ත": ["th", "t"], "ථ": ["th"], "ද": ["d"], "ධ": ["dh", "d"], "න": ["n"],
    "ඳ": ["nd", "d"], "ප": ["p"], "ඵ": ["p", "ph"], "බ": ["b"], "භ": ["bh", "b"], "ම": ["m"],
    "ඹ": ["mb", "b"], "ය": ["y"], "ර": ["r"], "ල": ["l"], "ව": ["w", "v", "w"], "ශ": ["sh", "s"],
    "ෂ": ["sh", "s"], "ස": ["s"], "හ": ["h"], "ළ": ["l"], "ෆ": ["f"],
}
_SI_VOW = {
    "අ": ["a"], "ආ": ["aa", "a"], "ඇ": ["ae", "a", "e"], "ඈ": ["aa", "ae"], "ඉ": ["i"], "ඊ": ["ee", "i"],
    "උ": ["u"], "ඌ": ["oo", "u"], "ඍ": ["ru", "ri"], "එ": ["e"], "ඒ": ["ee", "e"], "ඓ": ["ai"],
    "ඔ": ["o"], "ඕ": ["o", "oo"], "ඖ": ["au"],
}
_SI_SIGN = {
    "\u0dcf": ["aa", "a"], "\u0dd0": ["ae", "a", "e"], "\u0dd1": ["ae", "aa"], "\u0dd2": ["i"],
    "\u0dd3": ["ee", "i"], "\u0dd4": ["u"], "\u0dd6": ["oo", "u"], "\u0dd8": ["ru", "ri"],
    "\u0dd9": ["e"], "\u0dda": ["e", "ee"], "\u0ddb": ["ai"], "\u0ddc": ["o"], "\u0ddd": ["o", "oo"],
    "\u0dde": ["au"], "\u0dca": [""], "\u0df2": ["ru"],
}
_SI_MOD = {"\u0d82": ["n", "m", "ng"], "\u0d83": ["h"]}


def _pick(options: list[str], style: dict) -> str:
    if len(options) == 1:
        return options[0]
    return options[0] if RNG.random() < style["first"] else RNG.choice(options)


def romanize(text: str, lang: str, style: dict) -> str:
    """Our own rule-based romanization of native Tamil/Sinhala text, in a given typing style."""
    cons, vow, sign = (_TA_CONS, _TA_VOW, _TA_SIGN) if lang == "ta" else (_SI_CONS, _SI_VOW, _SI_SIGN)
    out: list[str] = []
    for word in text.split(" "):
        syl: list[list[str]] = []  # [consonant part, vowel part, is_inherent]
        i, n = 0, len(word)
        while i < n:
            ch = word[i]
            if ch in cons:
                c = _pick(cons[ch], style)
                nxt = word[i + 1] if i + 1 < n else ""
                if nxt in sign:
                    v = _pick(sign[nxt], style)
                    syl.append([c, v, "long" if nxt in "\u0dcf\u0bbe\u0bc0\u0dd3\u0bc2\u0dd6" else ""])
                    i += 2
                elif nxt == "\u200d":
                    syl.append([c, "", ""])
                    i += 2
                else:
                    syl.append([c, "a", "inh"])
                    i += 1
            elif ch in vow:
                syl.append(["", _pick(vow[ch], style), "vow"])
                i += 1
            elif lang == "si" and ch in _SI_MOD:
                syl.append([_pick(_SI_MOD[ch], style), "", ""])
                i += 1
            else:
                syl.append([ch.lower(), "", ""])
                i += 1
        drop = style.get("drop", 0.0)
        parts = []
        for k, (c, v, kind) in enumerate(syl):
            last = k == len(syl) - 1
            if drop and kind in ("inh", "long") and len(syl) > 1:
                p = drop * (0.25 if last else 1.0) * (0.7 if kind == "long" else 1.0)
                if RNG.random() < p:
                    v = ""
            if style.get("short") and len(v) == 2 and v[0] == v[1]:
                v = v[0]
            parts.append(c + v)
        w = "".join(parts)
        if lang == "ta" and style.get("final_u") and w.endswith(("k", "p", "t", "th", "d", "r", "l")) \
                and RNG.random() < 0.3:
            w += "u"
        out.append(w)
    res = " ".join(out)
    if style.get("cap"):
        res = res[:1].upper() + res[1:]
    return res


STYLES = {
    "ta": [{"first": 0.8}, {"first": 0.5, "short": True, "final_u": True},
           {"first": 0.6, "drop": 0.15, "short": True}],
    "si": [{"first": 0.8}, {"first": 0.5, "short": True}, {"first": 0.6, "drop": 0.75, "short": True},
           {"first": 0.7, "drop": 0.45}],
}

def rows(name: str) -> list[dict]:
    p = SHARED / "langid" / f"{name}.jsonl"
    return [json.loads(line) for line in p.open(encoding="utf-8")]


_TAG = re.compile(r"<[^>]+>")


def feed_texts(folder: Path) -> list[str]:
    import feedparser

    out = []
    for p in sorted(folder.glob("*")):
        if p.suffix not in (".xml", ".json"):
            continue
        if p.suffix == ".json":
            try:
                items = json.loads(p.read_text(encoding="utf-8")).get("items", [])
                out += [normalize(html.unescape(_TAG.sub(" ", i.get("title", "") + " \n\n " +
                        (i.get("content_text") or i.get("content_html") or "")))) for i in items]
            except Exception:
                pass
            continue
        d = feedparser.parse(str(p))
        for e in d.entries:
            for t in (e.get("title", ""), e.get("summary", "")):
                t = normalize(html.unescape(_TAG.sub(" ", t)))
                if t:
                    out.append(t)
    return out


def native_texts(lang: str) -> list[str]:
    texts = []
    for name in ("titles", "sentences", "paragraphs"):
        for r in rows(name):
            if r["lang"] == lang and not any(u in r.get("source", "") for u in UNSHIPPABLE) \
                    and is_training_row(r["text"]):
                texts.append(r["text"])
    for r in rows("romanized"):
        if r["lang"] == lang and "Dakshina" in r.get("source", "") and is_training_row(r["text"]) and r.get("native"):
            texts.append(r["native"])
    held_out = {r["text"] for name in ("titles",) for r in rows(name) if not is_training_row(r["text"])}
    for p in sorted((SHARED / "feeds" / "derived").glob(f"{lang}-*.xml")):
        import feedparser

        for e in feedparser.parse(str(p)).entries:
            t = normalize(e.get("title", ""))
            if t and t not in held_out:
                texts.append(t)
    return [normalize(t) for t in texts]


def english_headlines() -> list[str]:
    """Latin-script headlines of the English papers in ../shared/data/feeds/derived (lk_news, MIT):
    Sri Lankan English with the Tamil and Sinhala names it is full of.  Rows of the evaluation
    sets' held-out half are left out."""
    import feedparser

    held_out = {normalize(r["text"]) for name in ("titles", "sentences", "paragraphs") for r in rows(name)
                if not is_training_row(r["text"])}
    out = []
    for p in sorted((SHARED / "feeds" / "derived").glob("en-*.xml")):
        for e in feedparser.parse(str(p)).entries:
            t = normalize(e.get("title", ""))
            if t and t not in held_out and set(counts(t)) == {"Latn"}:
                out.append(t)
    return out


class MissingData(Exception):
    """Training data that is not where the script looks for it."""


def evaluation_texts() -> set[str]:
    """Every text (and native original) of the shared evaluation sets."""
    out = set()
    for p in sorted((SHARED / "langid").glob("*.jsonl")):
        for line in p.open(encoding="utf-8"):
            r = json.loads(line)
            for k in ("text", "native", "unicode"):
                if isinstance(r.get(k), str):
                    out.add(normalize(r[k]))
    return out


@functools.lru_cache(maxsize=None)
def dakshina_corpus() -> dict[str, list[str]]:
    """The Dakshina v1.0 romanized sentences of each language kept in langid_data/dakshina.tsv.gz
    (made by scripts/dakshina_subset.py: the first rows of each file that are in no shared
    evaluation set), in file order."""
    path = DATA / "dakshina.tsv.gz"
    if not path.is_file():
        raise MissingData(f"{path} not found")
    out: dict[str, list[str]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            lang, _row, text = line.rstrip("\n").split("\t")
            out.setdefault(lang, []).append(text)
    return out


# lines written for this project (langid_data/written/<class>.txt) and how many times each
# counts: colloquial romanized text that the Dakshina sentences (formal Wikipedia prose) lack
WRITTEN = {"ta": 10, "si": 3, "hi": 3, "ml": 4, "te": 4, "kn": 4, "xx": 2}


@functools.lru_cache(maxsize=None)
def written(cls: str) -> list[str]:
    path = DATA / "written" / f"{cls}.txt"
    if not path.is_file():
        raise MissingData(f"{path} not found")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_corpus() -> dict[str, list[str]]:
    corpus: dict[str, list[str]] = defaultdict(list)
    for name in ("titles", "sentences", "paragraphs"):
        for r in rows(name):
            if r["lang"] == "en" and r.get("scripts", "Latn") == "Latn" and is_training_row(r["text"]) \
                    and not any(u in r.get("source", "") for u in UNSHIPPABLE):
                corpus["en"].append(r["text"])
    corpus["en"] += feed_texts(SHARED / "feeds" / "en")
    corpus["en"] += english_headlines()
    for r in rows("romanized"):
        if "Dakshina" in r.get("source", "") and is_training_row(r["text"]):
            corpus[r["lang"]].append(r["text"])
    for lang in ("ta", "si"):
        for t in native_texts(lang):
            # only the native letters: romanize/encode the non-Latin words, keep Latin as is
            for style in STYLES[lang]:
                corpus[lang].append(romanize(t, lang, style))
            corpus["bamini" if lang == "ta" else "fm"].append(
                unicode_to_bamini(t) if lang == "ta" else unicode_to_fm(t))
    for lang, texts in dakshina_corpus().items():
        corpus[lang] += texts
    for cls, times in WRITTEN.items():
        corpus[cls] += written(cls) * times
    corpus["xx"] += feed_texts(SHARED / "feeds" / "other")
    return corpus


_WORD = re.compile(r"[a-z]{2,}")
COMMON_MIN_TEXTS = 3  # a word in fewer texts of a language is not one of its common words
COMMON_PER_LANG = 1500


def common_words(corpus: dict[str, list[str]]) -> dict[str, list[str]]:
    """The common words of each romanized language, to tell a headline of names in capitals
    ("JEEVAN WEDS SEETHAI") from text in that language: the COMMON_PER_LANG words found
    lower-cased in the most Dakshina sentences and colloquial lines of the language (Dakshina
    writes names capitalized, so they are not counted), leaving out words of the English
    training text."""
    english = Counter()
    for t in corpus["en"]:
        english.update(set(_WORD.findall(t.lower())))
    out = {}
    for lang, texts in dakshina_corpus().items():
        df = Counter()
        for t in list(texts) + (written(lang) if lang in WRITTEN else []):
            df.update({w for w in t.split() if _WORD.fullmatch(w)})
        ranked = sorted((w for w, n in df.items() if n >= COMMON_MIN_TEXTS and english[w] < 2),
                        key=lambda w: (-df[w], w))
        out[lang] = sorted(ranked[:COMMON_PER_LANG])
    return out


def train(corpus: dict[str, list[str]], keep: int = 40000, words: int = 6000) -> dict:
    counts: dict[str, Counter] = {c: Counter() for c in CLASSES}
    freq: Counter = Counter()
    for c in CLASSES:
        for t in corpus[c]:
            toks = tokens(t)
            freq.update(toks)
            for tok in toks:
                counts[c].update(token_grams(tok))
    total = Counter()
    for c in CLASSES:
        total.update(counts[c])
    grams = [g for g, n in total.most_common() if n >= 2][:keep]
    totals = {c: sum(counts[c].values()) for c in CLASSES}
    model = {
        "classes": CLASSES,
        "orders": list(ORDERS),
        "alpha": [round(ALPHA * totals[c] / totals["en"], 6) if c == "xx" else ALPHA for c in CLASSES],
        "gram_bias": [GRAM_BIAS.get(c, 0.0) for c in CLASSES],
        "totals": [totals[c] for c in CLASSES],
        "grams": {g: [counts[c][g] for c in CLASSES] for g in sorted(grams)},
        "trained_on": {c: len(corpus[c]) for c in CLASSES},
        "common": common_words(corpus),
    }
    # The scores of the most frequent training tokens, precomputed from the n-grams above (the
    # exact fixed-point sums NgramModel.token_score would compute): a frequent word then costs one
    # lookup instead of one per n-gram.
    m = NgramModel(model)
    model["scale"] = [SCALE, FIELD]
    model["words"] = {w: m.fields(m.token_score(w))
                      for w in sorted(w for w, n in freq.most_common(words) if n >= 2)}
    return model


def write(model: dict, path: Path) -> None:
    """The model as gzipped JSON; the same model always gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(model, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    with open(path, "wb") as out, gzip.GzipFile(filename="", fileobj=out, mode="wb", mtime=0) as f:
        f.write(raw)


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", type=Path, default=MODEL_PATH, help="where to write the model")
    ap.add_argument("--show", action="store_true", help="print a few training texts of each class")
    args = ap.parse_args(argv)
    if not (SHARED / "langid").is_dir():
        print(f"training data not found at {SHARED} (set AGGREGATOR_SHARED_DATA)")
        return 1
    try:
        corpus = build_corpus()
    except MissingData as e:
        print(f"training data: {e}")
        return 1
    for c in CLASSES:
        print(f"{c:7s} {len(corpus[c]):6d} texts")
    model = train(corpus)
    write(model, args.output)
    print(f"wrote {args.output}: {len(model['grams'])} n-grams, {len(model['words'])} words, "
          f"{args.output.stat().st_size / 1e6:.2f} MB")
    if args.show:
        for c in ("ta", "si", "bamini", "fm"):
            for t in corpus[c][-4:]:
                print(c, "|", t[:100])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
