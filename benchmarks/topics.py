#!/usr/bin/env python3
"""Topic accuracy and story grouping, measured on real data (issue 6).

    .venv/bin/python benchmarks/topics.py            # everything
    .venv/bin/python benchmarks/topics.py --topics   # accuracy only
    .venv/bin/python benchmarks/topics.py --stories  # stories only

Reads ``../shared/data`` (or $AGGREGATOR_SHARED_DATA); skips with a message when it is absent.
Accuracy is on HELD-OUT rows only (the deterministic split of scripts/train_topics.py), except
AG News, which the model never trains on: all of its rows are used. Each set is scored twice:
``classify`` (the bare classifier, arg-max, no threshold) and ``assign_topic`` with the default
taxonomy (keywords first, then the classifier with DEFAULT_THRESHOLD; "other" counts as wrong).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aggregator import topics  # noqa: E402

_spec = importlib.util.spec_from_file_location("train_topics", ROOT / "scripts" / "train_topics.py")
train = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train)

AG = {"World": "world", "Sports": "sports", "Business": "business", "Sci/Tech": "science-tech"}
LOCAL_OK = {"local", "politics", "crime", "education", "health"}
TAMIL_SUBJECTS = {"cinema", "crime", "finance", "politics", "science-technology", "sports", "world",
                  "education-employement"}


def correct(label_topic: str, predicted: str) -> bool:
    if label_topic == "local":
        return predicted in LOCAL_OK
    return predicted == label_topic


def confusion(pairs: list[tuple[str, str]], title: str) -> None:
    labels = sorted({t for t, _ in pairs})
    preds = sorted({p for _, p in pairs} | set(labels))
    m = Counter(pairs)
    w = max(len(p) for p in preds)
    short = {p: p[:6] for p in preds}
    print(f"    confusion ({title}; rows = truth, columns = predicted)")
    print("    " + " " * w + " " + " ".join(f"{short[p]:>6}" for p in preds))
    for t in labels:
        print(f"    {t:>{w}} " + " ".join(f"{m[(t, p)]:>6}" for p in preds))


def evaluate(name: str, rows: list[tuple[str, dict, str]], defaults) -> dict[str, float]:
    """rows: (lang, row, expected topic). Prints accuracy of classify and assign_topic."""
    out = {}
    if not rows:
        print(f"{name}: no rows")
        return out
    t0 = time.perf_counter()
    bare, full = [], []
    covered = covered_ok = 0
    for lang, row, want in rows:
        title, text = row.get("title", ""), row.get("text", "")
        got, _p = topics.classify(title, text, lang)
        bare.append((want, got))
        a = topics.assign_topic(title, text, lang, topics=defaults)
        full.append((want, a.topic))
        if a.topic != "other":
            covered += 1
            covered_ok += correct(want, a.topic)
    dt = time.perf_counter() - t0
    n = len(rows)
    acc_bare = sum(correct(w, g) for w, g in bare) / n
    acc_full = sum(correct(w, g) for w, g in full) / n
    print(f"{name}: {n} rows ({n / dt:,.0f} rows/s for both passes)")
    print(f"  classify (bare classifier, arg-max): accuracy {acc_bare:.1%}")
    print(f"  assign_topic (default keywords + classifier, threshold {topics.DEFAULT_THRESHOLD}): "
          f"accuracy {acc_full:.1%}; {covered / n:.1%} not 'other', of which {covered_ok / max(covered, 1):.1%} right")
    confusion(bare, "classify")
    confusion(full, "assign_topic")
    out["classify"], out["assign_topic"] = acc_bare, acc_full
    return out


def topic_benchmark() -> dict[str, dict[str, float]]:
    folder = train.shared_data() / "topics"
    if not folder.is_dir():
        print(f"topics: {folder} not found, skipped (set AGGREGATOR_SHARED_DATA)")
        return {}
    rows = train.load_rows(folder)
    defaults = topics.load_default_topics()
    sets: dict[str, list] = defaultdict(list)
    for lang, row in rows:
        src = row.get("source", "")
        if train.is_ag_news(row):
            sets["AG News (en; World/Sports/Business/Sci-Tech; never trained on; all rows)"].append(
                (lang, row, AG[row["label"]]))
            continue
        if not train.is_test(row):
            continue
        if src.startswith("rksk/"):
            sets[f"Newsfirst {lang} (5 classes; held-out rows)"].append((lang, row, row["label"]))
            sets["Newsfirst en+si (5 classes; held-out rows)"].append((lang, row, row["label"]))
        elif src.startswith("chamodlw/"):
            sets["Sinhala chamodlw set (6 classes; held-out rows)"].append(
                (lang, row, train.LABELS[row["label"]]))
        elif lang == "ta" and row["label"] in TAMIL_SUBJECTS:
            sets["Tamil headlines (8 subject classes; held-out rows)"].append(
                (lang, row, train.LABELS[row["label"]]))
    results = {}
    for name in sorted(sets):
        results[name] = evaluate(name, sets[name], defaults)
        print()
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topics", action="store_true", help="topic accuracy only")
    ap.add_argument("--stories", action="store_true", help="story grouping only")
    args = ap.parse_args()
    both = not (args.topics or args.stories)
    if args.topics or both:
        topic_benchmark()
    if args.stories or both:
        from importlib import import_module
        try:
            stories_bench = import_module("stories_bench")
        except ImportError:
            stories_bench = None
        if stories_bench is None:
            story_benchmark()
    return 0


def story_benchmark() -> None:
    print("stories: not measured yet")


if __name__ == "__main__":
    sys.exit(main())
