#!/usr/bin/env python3
"""How often each default topic keyword is right on the labelled training rows; prune the bad ones.

    .venv/bin/python scripts/keyword_precision.py           # the table, worst first
    .venv/bin/python scripts/keyword_precision.py --prune   # also drop them from the taxonomy

Keywords decide an entry's topic before the classifier does, so a keyword that is often found in
other topics' news does more harm than good: "election" is mostly foreign news in the labelled
sets (world, not politics), "school" mostly sports (school cricket). For every keyword of
``aggregator/topics/default_topics.yaml`` this counts the labelled TRAINING rows of
``../shared/data/topics`` (the rows ``scripts/train_topics.py`` trains on: never the held-out rows
the benchmark scores, never AG News) in which it is found, and in how many the row's label is
the keyword's topic (a ``local`` row counts as right for local and the subject topics:
``train_topics.correct``, as in ``benchmarks/topics.py``), and how often the classifier is right on the same rows
when it did not train on them (5-fold cross-validation over the training rows, as
``train_topics.fit_temperature`` folds them). A keyword found in at least MIN_ROWS rows that is
right in fewer than MIN_PRECISION of them, or less often than the cross-validated classifier,
is reported, and with ``--prune`` removed from the taxonomy in
``default_topics.yaml``, ``config.yaml`` and ``examples/offline.yaml`` (which carry the same
taxonomy; a test keeps them equal). The classifier, which reads the whole article, decides those
entries instead; users can add any keyword back in their config.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aggregator.topics import load_default_topics  # noqa: E402
from aggregator.topics.keywords import match_keywords, normalize  # noqa: E402

_spec = importlib.util.spec_from_file_location("train_topics", ROOT / "scripts" / "train_topics.py")
train = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train)

MIN_ROWS = 3
MIN_PRECISION = 0.6
TAXONOMY_FILES = (ROOT / "aggregator" / "topics" / "default_topics.yaml", ROOT / "config.yaml",
                  ROOT / "examples" / "offline.yaml")


def cv_predictions() -> dict[tuple, str]:
    """The classifier's arg-max topic for every labelled training row, from a model trained
    without that row (5 folds per language over train_topics' documents, seeds and keywords
    always in). Keyed like train_topics' duplicate check: (lang, title, text[:300])."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    docs = train.training_docs(train.load_rows(),
                               yaml.load(train.SEEDS.read_text(encoding="utf-8")) or {},
                               yaml.load(train.VOCABULARY.read_text(encoding="utf-8")) or {},
                               yaml.load(train.TAXONOMY.read_text(encoding="utf-8")))
    by_lang: dict[str, list] = defaultdict(list)  # the labelled docs' rows, as training_docs has them
    for lang, row, _topic in train.training_rows(train.load_rows()):
        by_lang[lang].append((lang, row.get("title", ""), row.get("text", "")[:300]))
    out: dict[tuple, str] = {}
    for lang, ds in docs.items():
        n_of = {j: n for n, j in enumerate(j for j, d in enumerate(ds) if d[3])}
        for j, model in train.cross_validated(ds):
            s = model.scores(ds[j][1])
            if s is not None:
                out[by_lang[lang][n_of[j]]] = model.classes[max(range(len(s)), key=s.__getitem__)]
    return out


def keyword_stats(predicted: dict[tuple, str] | None = None) -> dict[tuple[str, str, str], Counter]:
    """(topic id, language, keyword) -> Counter of the training rows it is found in: "right" /
    "wrong" for the keyword, "classifier" for the rows the cross-validated classifier gets right."""
    stats: dict[tuple[str, str, str], Counter] = defaultdict(Counter)
    taxonomy = load_default_topics()
    predicted = predicted or {}
    for lang, row in train.load_rows():
        if train.is_ag_news(row) or train.is_test(row):
            continue
        label = train.LABELS.get(row["label"])
        if label is None:
            continue
        cv = predicted.get((lang, row.get("title", ""), row.get("text", "")[:300]))
        title, text = normalize(row.get("title", "")), normalize(row.get("text", ""))
        for t in taxonomy:
            found = set(match_keywords(t, title)) | set(match_keywords(t, text))
            for kw_lang, words in t.keywords.items():
                for kw in words:
                    if kw in found:
                        c = stats[(t.id, kw_lang, kw)]
                        right = train.correct(label, t.id)
                        c["right" if right else "wrong"] += 1
                        c["classifier"] += train.correct(label, cv)
                        if not right:
                            c["as " + label] += 1
    return stats


def bad_keywords(stats) -> list[tuple[str, str, str]]:
    out = []
    for key, c in stats.items():
        n = c["right"] + c["wrong"]
        if n >= MIN_ROWS and (c["right"] / n < MIN_PRECISION or c["right"] < c["classifier"]):
            out.append(key)
    return sorted(out, key=lambda k: (-stats[k]["wrong"], k))


def _block(text: str, topic_id: str) -> tuple[int, int]:
    """The span of one topic's entry in a YAML file's taxonomy list."""
    m = re.search(rf"^(\s*)- id: {re.escape(topic_id)}\s*$", text, re.M)
    if m is None:
        raise SystemExit(f"topic {topic_id!r} not found")
    indent = m.group(1)
    end = re.compile(rf"^(?:{re.escape(indent)}- id: |\S)", re.M).search(text, m.end())
    return m.end(), end.start() if end else len(text)


def remove_keyword(text: str, topic_id: str, lang: str, kw: str) -> str:
    """``text`` without ``kw`` in the ``lang:`` flow list of topic ``topic_id``."""
    start, end = _block(text, topic_id)
    block = text[start:end]
    lm = re.search(rf"^\s*{re.escape(lang)}: \[", block, re.M)
    if lm is None:
        raise SystemExit(f"{topic_id}.{lang}: no keyword list")
    close = block.index("]", lm.end())
    items = block[lm.end():close]
    # the items are what lies between the commas, stripped of spaces and line breaks
    spans = [(m.start() + len(m.group()) - len(m.group().lstrip()),
              m.end() - len(m.group()) + len(m.group().rstrip()))
             for m in re.finditer(r"[^,]+", items)]
    found = [i for i, (a, b) in enumerate(spans) if items[a:b] == kw]
    if not found:
        raise SystemExit(f"{topic_id}.{lang}: {kw!r} not found")
    i = found[0]
    a, b = spans[i]
    if i + 1 < len(spans):  # not the last item: up to the next one
        items = items[:a] + items[spans[i + 1][0]:]
    elif i > 0:  # the last item: from the end of the one before
        items = items[:spans[i - 1][1]] + items[b:]
    else:
        items = items[:a] + items[b:]
    items = re.sub(r"[ \t]+\n", "\n", items)
    block = block[:lm.end()] + items + block[close:]
    return text[:start] + block + text[end:]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prune", action="store_true",
                    help="remove the reported keywords from the taxonomy files")
    args = ap.parse_args()
    if not (train.shared_data() / "topics").is_dir():
        print("keyword_precision: ../shared/data/topics not found (set AGGREGATOR_SHARED_DATA)",
              file=sys.stderr)
        return 2
    stats = keyword_stats(cv_predictions())
    bad = bad_keywords(stats)
    print(f"{len(stats)} default keywords found in training rows; {len(bad)} found in "
          f">= {MIN_ROWS} rows and right in < {MIN_PRECISION:.0%} of them or less often "
          f"than the cross-validated classifier:")
    for key in bad:
        c = stats[key]
        where = ", ".join(f"{k[3:]} {v}" for k, v in c.most_common() if k.startswith("as "))
        print(f"  {key[0]:>13} {key[1]} {key[2]!r}: right {c['right']}/{c['right'] + c['wrong']}"
              f", classifier {c['classifier']} (wrong: {where})")
    if args.prune and bad:
        for path in TAXONOMY_FILES:
            text = path.read_text(encoding="utf-8")
            for topic_id, lang, kw in bad:
                text = remove_keyword(text, topic_id, lang, kw)
            path.write_text(text, encoding="utf-8")
            print(f"pruned {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
