#!/usr/bin/env python3
"""Train the built-in topic classifier: one command, deterministic, pure Python.

    .venv/bin/python scripts/train_topics.py            # writes aggregator/topics/data/model.json.gz

Reads the labelled rows in ``../shared/data/topics/*.jsonl`` (override the folder with the
environment variable AGGREGATOR_SHARED_DATA, which points at the ``data`` folder), maps their
labels onto the default taxonomy, keeps ~30 % of the rows out (a hash of the row's text decides,
so the split is the same on every machine and duplicates fall on the same side), and trains a
multinomial naive Bayes per language (en, ta, si) on the rest plus our own seed sentences and the
default taxonomy's keywords (``aggregator/topics/data/seeds.yaml``,
``aggregator/topics/default_topics.yaml``).

AG News rows (source mentions ag_news / TransformerClassification) are NEVER used here: they are
for evaluation only (research licence, and a check that the model generalises).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aggregator.topics.classifier import MODEL_PATH, NaiveBayes, features  # noqa: E402

SEEDS = ROOT / "aggregator" / "topics" / "data" / "seeds.yaml"
TAXONOMY = ROOT / "aggregator" / "topics" / "default_topics.yaml"
TEST_PERCENT = 30
ALPHA = 0.001
SEED_WEIGHT = 1.0  # one seed sentence weighs as much as one labelled article
KEYWORD_WEIGHT = 0.5  # each taxonomy keyword is a tiny document of its topic
MIN_DOCS = 2  # a feature seen in fewer labelled documents is dropped (seeds/keywords always kept)

# Dataset labels -> default taxonomy ids. None: the row is not used for training.
LABELS = {
    # Newsfirst (rksk), English and Sinhala
    "local": "local", "business": "business", "entertainment": "entertainment",
    "sports": "sports", "world": "world",
    # chamodlw Sinhala set
    "politics": "politics", "health": "health", "education": "education", "crime": "crime",
    # Tamil headlines (puthiyathalaimurai)
    "cinema": "entertainment", "finance": "business", "science-technology": "science-tech",
    "education-employement": "education",
    # Geographic / generic desks: Tamil Nadu and India desk headlines are domestic news of every
    # subject, "special-news" is features of any kind. As training rows they would only teach
    # the model that "Chennai" means a topic; they are left out (see README.md).
    "tamilnadu": None, "india": None, "special-news": None,
}


def shared_data() -> Path:
    env = os.environ.get("AGGREGATOR_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def is_ag_news(row: dict) -> bool:
    src = row.get("source", "")
    return "ag_news" in src.lower() or "TransformerClassification" in src


def row_lang(path: Path) -> str:
    return path.stem  # en.jsonl, ta.jsonl, si.jsonl


def is_test(row: dict) -> bool:
    """The deterministic held-out split: ~30 % of rows, by a hash of their text."""
    key = (row.get("title", "") + "\x1f" + row.get("text", "")[:300]).encode("utf-8")
    return int(hashlib.sha1(key).hexdigest()[:8], 16) % 100 < TEST_PERCENT


def load_rows(folder: Path | None = None) -> list[tuple[str, dict]]:
    """(lang, row) for every labelled row, AG News included (callers filter)."""
    folder = folder or shared_data() / "topics"
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    out.append((row_lang(path), json.loads(line)))
    return out


def training_docs(rows, seeds: dict, taxonomy: list) -> dict[str, list[tuple[str, dict, float, bool]]]:
    """Per language: (topic, features, weight, counts_for_pruning)."""
    docs: dict[str, list] = defaultdict(list)
    for lang, row in rows:
        if is_ag_news(row) or is_test(row):
            continue
        topic = LABELS.get(row["label"])
        if topic is None:
            continue
        docs[lang].append((topic, features(row.get("title", ""), row.get("text", "")), 1.0, True))
    for lang, by_topic in seeds.items():
        for topic, sentences in by_topic.items():
            for s in sentences:
                docs[lang].append((topic, features(s, ""), SEED_WEIGHT, False))
    for t in taxonomy:
        for lang, kws in (t.get("keywords") or {}).items():
            for kw in kws:
                docs[lang].append((t["id"], features(kw, ""), KEYWORD_WEIGHT, False))
    return docs


def fit(docs: list[tuple[str, dict, float, bool]]) -> dict:
    classes = sorted({t for t, *_ in docs})
    ci = {c: i for i, c in enumerate(classes)}
    df: Counter[str] = Counter()
    for _t, feats, _w, real in docs:
        if real:
            df.update(feats.keys())
    seeded = {f for _t, feats, _w, real in docs if not real for f in feats}
    keep = {f for f, n in df.items() if n >= MIN_DOCS} | seeded
    counts: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    mass = [0.0] * len(classes)
    ndocs = [0.0] * len(classes)
    for t, feats, w, _real in docs:
        i = ci[t]
        ndocs[i] += w
        for f, v in feats.items():
            if f in keep:
                counts[f][i] += v * w
                mass[i] += v * w
    total = sum(ndocs)
    # A flat-ish prior: the data sets' class balance says nothing about a reader's feeds.
    prior = [(n / total) ** 0.3 for n in ndocs]
    z = sum(prior)
    return {
        "classes": classes, "alpha": ALPHA, "vocab_size": len(counts), "temperature": 1.0,
        "prior": [round(p / z, 6) for p in prior], "class_mass": [round(m, 4) for m in mass],
        "features": {f: [[i, round(c, 4)] for i, c in sorted(d.items())]
                     for f, d in sorted(counts.items())},
    }


def fit_temperature(model: dict, docs) -> float:
    """T minimising the log loss of softmax(score/T) over 5 folds of the labelled rows."""
    real = [d for d in docs if d[3]]
    if not real:
        return 1.0
    pairs = []  # (scores, true class index)
    for k in range(5):
        train = [d for j, d in enumerate(docs) if not (d[3] and j % 5 == k)]
        held = [d for j, d in enumerate(docs) if d[3] and j % 5 == k]
        nb = NaiveBayes(fit(train))
        for t, feats, _w, _r in held:
            if t in nb.classes:
                pairs.append((nb.scores(feats), nb.classes.index(t)))

    def loss(temp: float) -> float:
        tot = 0.0
        for s, y in pairs:
            m = max(s)
            z = sum(math.exp((x - m) / temp) for x in s)
            tot -= (s[y] - m) / temp - math.log(z)
        return tot / len(pairs)

    grid = [0.002 * 1.25 ** i for i in range(40)]
    return round(min(grid, key=loss), 5)


def main() -> int:
    from ruamel.yaml import YAML

    folder = shared_data() / "topics"
    if not folder.is_dir():
        print(f"train_topics: {folder} not found (set AGGREGATOR_SHARED_DATA)", file=sys.stderr)
        return 2
    yaml = YAML(typ="safe")
    seeds = yaml.load(SEEDS.read_text(encoding="utf-8")) or {}
    taxonomy = yaml.load(TAXONOMY.read_text(encoding="utf-8"))
    rows = load_rows(folder)
    docs = training_docs(rows, seeds, taxonomy)
    out = {"version": 1, "languages": {}}
    for lang in sorted(docs):
        model = fit(docs[lang])
        model["temperature"] = fit_temperature(model, docs[lang])
        out["languages"][lang] = model
        n_real = sum(1 for d in docs[lang] if d[3])
        print(f"{lang}: {n_real} labelled rows + {len(docs[lang]) - n_real} seeds/keywords, "
              f"{len(model['classes'])} classes, {model['vocab_size']} features, "
              f"T={model['temperature']}")
    MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(out, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    # mtime=0: the same input gives byte-identical output.
    with open(MODEL_PATH, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(data)
    print(f"wrote {MODEL_PATH.relative_to(ROOT)} ({MODEL_PATH.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
