"""The built-in topic classifier: multinomial naive Bayes per language (en, ta, si), pure Python.

The model is trained by ``scripts/train_topics.py`` and shipped as ``data/model.json.gz``
(provenance in ``README.md`` next to this file). It is loaded lazily, once, on first use.

Features (the same function is used to train and to predict): words, word bigrams and word
prefixes of 4-6 letters (Tamil and Sinhala are suffixing languages, so a prefix is a cheap stem:
தேர்தலில் and தேர்தல் share "தேர்த"). Each document's term weights are log(1 + tf) and
L1-normalised, so a 600-word article and a headline weigh the same in training.

Scores are naive-Bayes log-likelihoods, which are badly over-confident; the shipped model has a
temperature fitted on training rows so that ``softmax(score / T)`` is a usable confidence.
"""

from __future__ import annotations

import gzip
import json
import math
import threading
from collections import Counter
from pathlib import Path

import regex

from .keywords import normalize

MODEL_PATH = Path(__file__).with_name("data") / "model.json.gz"
MAX_WORDS = 400  # of the body; the title is always used in full
TITLE_WEIGHT = 2  # title words count twice: headlines say what an article is about
_WORD = regex.compile(r"\w+")
_DIGITS = regex.compile(r"^\d[\d\W]*$")
_SCRIPTS = {"ta": regex.compile(r"[\u0B80-\u0BFF]"), "si": regex.compile(r"[\u0D80-\u0DFF]"),
            "en": regex.compile(r"[A-Za-z]")}
_EN_STOP = frozenset(
    "a an the of to in on at for by with from and or but is are was were be been has have had it "
    "its this that these those as after over into than then said says will would can could he she "
    "they we you i his her their our not no".split())


def features(title: str, text: str) -> dict[str, float]:
    """Weighted features of one document (log(1+tf), L1-normalised)."""
    tf: Counter[str] = Counter()
    body = _WORD.findall(normalize(text))[:MAX_WORDS]
    head = _WORD.findall(normalize(title))
    for seq, weight in ((head, TITLE_WEIGHT), (body, 1)):
        prev = None
        for w in seq:
            if _DIGITS.match(w):
                prev = None
                continue
            if w in _EN_STOP:
                prev = None
                continue
            tf["w:" + w] += weight
            if prev is not None:
                tf["b:" + prev + " " + w] += weight
            n = len(w)
            for k in (4, 5, 6):
                if n > k:
                    tf["p:" + w[:k]] += weight
            prev = w
    if not tf:
        return {}
    weights = {f: math.log1p(c) for f, c in tf.items()}
    total = sum(weights.values())
    return {f: v / total for f, v in weights.items()}


def model_language(text: str, lang: str) -> str | None:
    """Which per-language model reads ``text``: the detected language, else the dominant script."""
    if lang in ("en", "ta", "si"):
        return lang
    counts = {k: len(p.findall(text)) for k, p in _SCRIPTS.items()}
    best = max(counts, key=counts.get)
    return best if counts[best] >= 3 else None


class NaiveBayes:
    """One language's model: sparse log-count ratios plus a per-class baseline."""

    def __init__(self, d: dict):
        self.classes: list[str] = d["classes"]
        self.temperature: float = d["temperature"]
        alpha: float = d["alpha"]
        vocab = d["vocab_size"]
        self.log_prior = [math.log(p) for p in d["prior"]]
        # score_c = prior_c + sum_f w_f * log((n_fc + a) / (N_c + a V))
        #         = prior_c + W * log(a / (N_c + a V)) + sum_f w_f * log(1 + n_fc / a)
        self.base = [math.log(alpha / (n + alpha * vocab)) for n in d["class_mass"]]
        self.feats: dict[str, tuple[tuple[int, float], ...]] = {
            f: tuple((ci, math.log1p(c / alpha)) for ci, c in pairs)
            for f, pairs in d["features"].items()}

    def scores(self, feats: dict[str, float]) -> list[float]:
        total = 0.0
        s = list(self.log_prior)
        for f, w in feats.items():
            pairs = self.feats.get(f)
            if pairs is None:
                continue
            total += w
            for ci, v in pairs:
                s[ci] += w * v
        return [x + total * b for x, b in zip(s, self.base)]

    def proba(self, feats: dict[str, float]) -> dict[str, float]:
        """Class probabilities (temperature-scaled softmax of the NB scores)."""
        if not any(f in self.feats for f in feats):
            return {}
        s = [x / self.temperature for x in self.scores(feats)]
        m = max(s)
        e = [math.exp(x - m) for x in s]
        z = sum(e)
        return {c: v / z for c, v in zip(self.classes, e)}


_models: dict[str, NaiveBayes] | None = None
_lock = threading.Lock()


def load_models(path: Path = MODEL_PATH) -> dict[str, NaiveBayes]:
    """The shipped per-language models, loaded once."""
    global _models
    if _models is None or path != MODEL_PATH:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            raw = json.load(f)
        models = {lang: NaiveBayes(d) for lang, d in raw["languages"].items()}
        if path != MODEL_PATH:
            return models
        with _lock:
            _models = models
    return _models


def proba(title: str, text: str, lang: str, models: dict[str, NaiveBayes] | None = None) -> dict[str, float]:
    """Probability per default topic id ({} when no model reads this language)."""
    ml = model_language(f"{title} {text[:500]}", lang)
    if ml is None:
        return {}
    models = models if models is not None else load_models()
    model = models.get(ml)
    if model is None:
        return {}
    return model.proba(features(title, text))


def classify(title: str, text: str, lang: str) -> tuple[str, float]:
    """(topic id from the default taxonomy, probability); ("other", 0.0) when it cannot tell."""
    p = proba(title, text, lang)
    if not p:
        return "other", 0.0
    best = max(p, key=p.get)
    return best, p[best]
