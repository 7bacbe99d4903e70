"""Character n-gram naive Bayes for Latin-script (and legacy-font ASCII) text.

Classes: ``en`` (English), ``ta`` / ``si`` (romanized Tamil / Sinhala), ``hi`` (romanized
Hindi), ``xx`` (another Latin-script language; langdetect names it), ``bamini`` / ``fm``
(Tamil / Sinhala typed in the Bamini / FM Abhaya legacy fonts).  The model file is made by
``scripts/train_langid.py`` and loaded on first use.

Scoring is built for speed: each n-gram's per-class log-probabilities are packed, as fixed-point
numbers, into the fields of one Python integer (plus a field that counts known n-grams), so that
scoring a word is one C-level ``sum(map(dict.get, grams))`` and scoring a text is a sum of its
words' integers (cached per word).  The fields are unpacked once per text.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import struct
from itertools import chain, repeat
from operator import add, getitem
from pathlib import Path

MODEL_PATH = Path(__file__).resolve().parent / "data" / "latin_ngram.json.gz"
ORDERS = (2, 3, 4)  # character n-gram orders (unigrams told nothing: dropping them lost no accuracy)
MAX_TOKENS = 60  # enough to decide; keeps long paragraphs cheap
MAX_TOKEN_CHARS = 64  # n-grams of a longer token (a URL, a run of symbols) are taken from its start

_DIGITS = re.compile(r"\d")
_PUNCT_RUN = re.compile("[.!?,]{2,}|\u2026")
_STRIP = ".,!?:\"'()[]"

# fixed-point packing: FIELD bits per class, SCALE units per nat.  A field never overflows: one
# n-gram adds at most log1p(max count / alpha) * SCALE < 2**16, and a text has at most
# MAX_TOKENS * (3 * MAX_TOKEN_CHARS + 7) < 2**14 n-grams.
FIELD = 32
SCALE = 1 << 12
MASK = (1 << FIELD) - 1


def token_grams(tok: str, orders: tuple[int, ...] = ORDERS) -> list[str]:
    """Character n-grams (of the given orders) of one whitespace token padded with spaces (the
    padding space is never a unigram), and the whole word (stripped of punctuation) as one more
    feature.  ``NgramModel.token_score`` computes the same features inline."""
    tok = tok[:MAX_TOKEN_CHARS]
    s = " " + tok + " "
    out = list(tok) if 1 in orders else []
    prev = s
    for n in range(2, max(orders) + 1):
        prev = list(map(add, prev, s[n - 1:]))
        if n in orders:
            out += prev
    w = tok.strip(_STRIP)
    if len(w) > 1:
        out.append("\x01" + w)
    return out


def tokens(text: str) -> list[str]:
    """The first MAX_TOKENS tokens, lower-cased, digits as 0.  Tokens are split at whitespace and
    at runs of sentence punctuation ("fight..semme", "trailer.....appo", "super!!mass"): informal
    text often leaves out the space after an ellipsis."""
    toks = text.split()
    if len(toks) > MAX_TOKENS:
        del toks[MAX_TOKENS:]
    s = " ".join(toks).lower()
    if _PUNCT_RUN.search(s):
        s = _PUNCT_RUN.sub(" ", s)
    if _DIGITS.search(s):
        s = _DIGITS.sub("0", s)
    toks = s.split()
    if len(toks) > MAX_TOKENS:
        del toks[MAX_TOKENS:]
    return toks


class NgramModel:
    def __init__(self, data: dict):
        self.classes: list[str] = data["classes"]
        self.orders: tuple[int, ...] = tuple(sorted(data.get("orders", (1, 2, 3, 4))))
        k = self.k = len(self.classes)
        totals = data["totals"]
        alpha = data.get("alpha", 0.3)
        # one pseudo-count per class, or (a list) one for each
        alphas = list(alpha) if isinstance(alpha, list) else [alpha] * k
        vocab = len(data["grams"]) + 1
        denom = [math.log(totals[c] + alphas[c] * vocab) for c in range(k)]
        # log P(gram|c) = unk[c] + log(1 + count/alpha[c]): the second term is >= 0 and packed
        # (plus a per-class bias per known n-gram, in nats: see scripts/train_langid.py)
        bias = data.get("gram_bias") or [0.0] * k
        self.unk = [math.log(alphas[c]) - denom[c] + bias[c] for c in range(k)]
        one = 1 << (FIELD * k)  # the last field counts known n-grams
        self._nbytes = FIELD // 8 * (k + 1)
        self._unpack_fields = struct.Struct(f"<{k + 1}I").unpack
        # counts repeat a lot (a few hundred distinct values): one table per class of the shifted
        # fixed-point term, then each n-gram is one C-level sum
        distinct = set()
        for cnt in data["grams"].values():
            distinct.update(cnt)
        tables = [{x: int(round(math.log1p(x / alphas[c]) * SCALE)) << (FIELD * c) for x in distinct}
                  for c in range(k)]
        self.packed: dict[str, int] = {g: sum(map(getitem, tables, cnt), one) for g, cnt in data["grams"].items()}
        # precomputed scores of frequent training tokens (see scripts/train_langid.py), valid only
        # for the fixed-point layout they were made with
        self.words: dict[str, int] = {}
        if data.get("scale") == [SCALE, FIELD]:
            pack = struct.Struct(f"<{k + 1}I").pack
            self.words = {w: int.from_bytes(pack(*fs), "little") for w, fs in data.get("words", {}).items()}
        self._cache: dict[str, int] = dict(self.words)
        self._labels: dict[str, int | None] = {}
        # common lower-case words of each romanized language (names left out): see names_only
        self.common: frozenset[str] = frozenset(w for ws in data.get("common", {}).values() for w in ws)

    def fields(self, v: int) -> list[int]:
        """The raw fixed-point fields of a packed score (one per class, then the n-gram count)."""
        return [(v >> (FIELD * i)) & MASK for i in range(self.k + 1)]

    def clear_cache(self) -> None:
        """Forget the scores of the words seen so far (the shipped table of frequent words stays)."""
        self._cache = dict(self.words)
        self._labels = {}

    def token_score(self, tok: str) -> int:
        """The packed score of one (lower-cased) token, cached."""
        v = self._cache.get(tok)
        if v is None:
            get = self.packed.get
            t = tok[:MAX_TOKEN_CHARS]
            s = " " + t + " "
            zero = repeat(0)
            orders = self.orders
            if orders == (2, 3, 4):  # the shipped model: one C-level pass over the n-grams
                bi = list(map(add, s, s[1:]))
                tri = list(map(add, bi, s[2:]))
                v = sum(map(get, chain(bi, tri, map(add, tri, s[3:])), zero))
            else:
                v = sum(map(get, t, zero)) if 1 in orders else 0
                prev = s
                for n in range(2, orders[-1] + 1):
                    prev = list(map(add, prev, s[n - 1:]))
                    if n in orders:
                        v += sum(map(get, prev, zero))
            w = t.strip(_STRIP)
            if len(w) > 1:
                v += get("\x01" + w, 0)
            if len(self._cache) > 200_000:
                self.clear_cache()
            self._cache[tok] = v
        return v

    def word_score(self, word: str) -> int:
        """The packed score of one whitespace-separated word as ``scores`` reads it (a word may
        be several tokens: "fight..semme")."""
        if word.isalpha():  # one token, nothing to split or map: what tokens() would give
            return self.token_score(word.lower())
        return sum(map(self.token_score, tokens(word)))

    def word_label(self, word: str) -> int | None:
        """The index of the class that reads ``word`` best on its own (None: no known n-gram), cached."""
        lab = self._labels.get(word, -1)
        if lab == -1:
            acc, n = self.unpack(self.word_score(word))
            lab = acc.index(max(acc)) if n else None
            if len(self._labels) > 200_000:
                self._labels.clear()
            self._labels[word] = lab
        return lab

    def unpack(self, v: int) -> tuple[list[float], int]:
        """Summed log-likelihood per class and the number of known n-grams, from a packed sum."""
        *fs, n = self._unpack_fields(v.to_bytes(self._nbytes, "little"))
        return [n * u + f / SCALE for f, u in zip(fs, self.unk)], n

    def scores(self, text: str) -> tuple[list[float], int]:
        """Summed log-likelihood per class and the number of known n-grams."""
        toks = tokens(text)
        vals = list(map(self._cache.get, toks))
        if None in vals:
            vals = [self.token_score(t) if v is None else v for t, v in zip(toks, vals)]
        return self.unpack(sum(vals))

    def best(self, text: str) -> str:
        """The most likely class alone ("und" when no n-gram is known): no posterior computed."""
        acc, n = self.scores(text)
        if n == 0:
            return "und"
        return self.classes[acc.index(max(acc))]

    def posterior(self, acc: list[float], n: int) -> tuple[str, float, dict[str, float]]:
        if n == 0:
            return "und", 0.0, {}
        # naive Bayes is over-confident: temper the summed scores before the softmax
        t = max(1.0, n ** 0.5)
        best = max(acc)
        ex = [math.exp((a - best) / t) for a in acc]
        z = sum(ex)
        post = dict(zip(self.classes, [e / z for e in ex]))
        top = self.classes[acc.index(best)]
        return top, post[top], post

    def classify(self, text: str) -> tuple[str, float, dict[str, float]]:
        """Best class, its confidence (0..1) and the per-class posterior."""
        return self.posterior(*self.scores(text))


_MODEL: NgramModel | None = None


def model() -> NgramModel:
    """The trained model, loaded on first use."""
    global _MODEL
    if _MODEL is None:
        with gzip.open(MODEL_PATH, "rt", encoding="utf-8") as f:
            _MODEL = NgramModel(json.load(f))
    return _MODEL


def is_training_row(text: str) -> bool:
    """The deterministic half of the shared evaluation rows that training may use; the
    benchmark reports accuracy on the other half (and, labelled as such, on all rows)."""
    import hashlib

    return int(hashlib.md5(text.encode("utf-8")).hexdigest()[:8], 16) % 2 == 0
