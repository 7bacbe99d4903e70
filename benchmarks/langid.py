#!/usr/bin/env python
"""Language-identification benchmark: our detector vs langdetect vs lingua, in one run.

    .venv/bin/python benchmarks/langid.py          # detect() in this process, against langdetect/lingua
    .venv/bin/python benchmarks/langid.py --cli    # the rows through `aggregator detect --jsonl`

Reads the labelled rows of ../shared/data/langid (override with AGGREGATOR_SHARED_DATA) and
prints, per set: accuracy of each detector, a confusion matrix for ours, and texts/s; then
speed on native-script text and on all rows mixed, and the import time of aggregator.language.
Accuracy is printed twice for ours: on the held-out half (rows scripts/train_langid.py never
trained on) and on all rows (labelled as such).  Scoring rules (issues 3 and 18): ``lang=other``
rows (romanized Hindi, Malayalam, Telugu... in the code-mixed set) count as right for any answer
but ``ta`` and ``si``; legacy rows also check the Unicode conversion.

``--cli`` pipes every row through one ``aggregator detect --jsonl`` process, as a user would, and
prints accuracy per group (clean = titles, sentences and paragraphs; legacy; romanized;
code-mixed) on the held-out half and on all rows, and texts/s of the whole process (start-up and
model load included; best of 3 runs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("AGGREGATOR_SHARED_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data")
SETS = ["titles", "sentences", "paragraphs", "romanized", "codemixed", "legacyfont", "si_en_social_gold"]


def right(row: dict, lang: str) -> bool:
    if row["lang"] == "other":
        return lang not in ("ta", "si")
    return lang == row["lang"]


GROUPS = {"titles": "clean", "sentences": "clean", "paragraphs": "clean", "legacyfont": "legacy",
          "romanized": "romanized", "codemixed": "code-mixed", "si_en_social_gold": "si-en social"}


def load_sets() -> dict[str, list[dict]]:
    data = {}
    for name in SETS:
        p = SHARED / "langid" / f"{name}.jsonl"
        if p.exists():
            data[name] = [json.loads(line) for line in p.open(encoding="utf-8")]
    return data


def cli_main() -> int:
    """Every row through one `aggregator detect --jsonl` process: accuracy per group and texts/s."""
    from aggregator.language.romanized import is_training_row

    data = load_sets()
    rows = [(name, r) for name, rs in data.items() for r in rs]
    stdin = "".join(json.dumps({"text": r["text"]}, ensure_ascii=False) + "\n" for _, r in rows).encode("utf-8")
    exe = Path(sys.executable).with_name("aggregator")
    cmd = [str(exe) if exe.exists() else "aggregator", "detect", "--jsonl"]
    best, out = None, b""
    for _ in range(3):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, input=stdin, capture_output=True, cwd=ROOT, check=True)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
        out = proc.stdout
    answers = [json.loads(line)["lang"] for line in out.decode("utf-8").splitlines()]
    assert len(answers) == len(rows), (len(answers), len(rows))
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # held ok, held n, all ok, all n
    for (name, r), lang in zip(rows, answers):
        a = acc[GROUPS[name]]
        ok = right(r, lang)
        if not is_training_row(r["text"]):
            a[0] += ok
            a[1] += 1
        a[2] += ok
        a[3] += 1
    print(f"{' '.join(cmd[-2:])}: {len(rows)} rows of {SHARED / 'langid'}")
    print(f"{'group':14s} {'held-out':>18s} {'all rows':>18s}")
    for g in dict.fromkeys(GROUPS.values()):
        if g in acc:
            h, hn, a, an = acc[g]
            print(f"{g:14s} {h:>5d}/{hn:<5d} {h / hn:6.2%} {a:>5d}/{an:<5d} {a / an:6.2%}")
    print(f"speed: {len(rows)} texts in {best:.3f} s (one process, start-up and model load included, "
          f"best of 3) = {len(rows) / best:,.0f} texts/s")
    return 0


def import_time() -> float:
    code = "import time; t=time.perf_counter(); import aggregator.language; print(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> int:
    if not (SHARED / "langid").is_dir():
        print(f"SKIPPED: evaluation data not found at {SHARED / 'langid'} (set AGGREGATOR_SHARED_DATA)")
        return 0
    if "--cli" in sys.argv[1:]:
        return cli_main()
    imp = import_time()
    from aggregator.language import detect, normalize
    from aggregator.language.romanized import is_training_row, model

    t0 = time.perf_counter()
    model()
    load = time.perf_counter() - t0
    from langdetect import DetectorFactory
    from langdetect import detect as ld_detect

    DetectorFactory.seed = 0

    def ld(text: str) -> str:
        try:
            return ld_detect(text).split("-")[0]
        except Exception:
            return "und"

    try:
        from lingua import LanguageDetectorBuilder

        lingua_det = LanguageDetectorBuilder.from_all_languages().build()

        def lg(text: str) -> str:
            r = lingua_det.detect_language_of(text)
            return r.iso_code_639_1.name.lower() if r is not None else "und"
    except ImportError:
        lg = None
        print("lingua: SKIPPED (pip install lingua-language-detector to compare)")

    data = load_sets()
    detectors = [("ours", lambda t: detect(t).lang), ("langdetect", ld)] + ([("lingua", lg)] if lg else [])
    # warm lingua's lazy model loading outside the timings, like our own model load
    if lg:
        lg("warm up the models")
    all_texts = [r["text"] for rows in data.values() for r in rows]

    print(f"import aggregator.language: {imp:.3f} s (model load on first use: {load:.3f} s)")
    print(f"data: {SHARED / 'langid'} ({len(all_texts)} rows)\n")
    hdr = f"{'set':20s} {'rows':>5s} {'ours held-out':>14s} {'ours all rows':>14s}"
    hdr += "".join(f" {n + ' acc':>15s} {n + ' t/s':>15s}" for n, _ in detectors)
    print(hdr)
    conf = {}
    totals = defaultdict(lambda: [0, 0])
    legacy_conv = [0, 0]
    for name, rows in data.items():
        accs, speeds = {}, {}
        preds = {}
        for dn, fn in detectors:
            t0 = time.perf_counter()
            preds[dn] = [fn(r["text"]) for r in rows]
            speeds[dn] = len(rows) / (time.perf_counter() - t0)
            accs[dn] = sum(right(r, p) for r, p in zip(rows, preds[dn])) / len(rows)
        held = [(r, p) for r, p in zip(rows, preds["ours"]) if not is_training_row(r["text"])]
        held_acc = sum(right(r, p) for r, p in held) / len(held) if held else float("nan")
        for r, p in zip(rows, preds["ours"]):
            key = "native" if name in ("titles", "sentences", "paragraphs") else name
            totals[key][0] += right(r, p)
            totals[key][1] += 1
        line = f"{name:20s} {len(rows):5d} {held_acc:14.4f} {accs['ours']:14.4f}"
        line += "".join(f" {accs[dn]:15.4f} {speeds[dn]:15.0f}" for dn, _ in detectors)
        print(line)
        conf[name] = Counter((r["lang"], p) for r, p in zip(rows, preds["ours"]))
        if name == "legacyfont":
            for r in rows:
                ref = r.get("unicode")
                if ref:
                    legacy_conv[1] += 1
                    legacy_conv[0] += normalize(detect(r["text"]).text) == normalize(ref)
    print()
    for key, (ok, n) in totals.items():
        print(f"ours, {key:12s}: {ok}/{n} = {ok / n:.4f}")
    if legacy_conv[1]:
        print(f"legacy Unicode conversion equal to the reference ('unicode' field): {legacy_conv[0]}/{legacy_conv[1]}"
              " ('unicode_retyped' is a re-typing, not a decoding: not scored)")
    print("\nconfusion matrices of ours (rows: label, columns: answer)")
    for name, c in conf.items():
        labels = sorted({a for a, _ in c})
        answers = sorted({b for _, b in c})
        print(f"  {name}:")
        print("    " + f"{'':8s}" + "".join(f"{a:>7s}" for a in answers))
        for a in labels:
            print("    " + f"{a:8s}" + "".join(f"{c.get((a, b), 0):7d}" for b in answers))

    native = [r["text"] for n in ("titles", "sentences", "paragraphs") for r in data.get(n, [])
              if r.get("scripts") in ("Taml", "Sinh")]
    from aggregator.language import romanized

    print("\nspeed, texts/s on one core, all detectors in this run on the same rows, models already loaded;")
    print("  each pass repeated 3 times, interleaved across detectors, best pass kept (the machine is shared):")
    print("  ours cold = our per-text word cache emptied before the pass (each word scored from its n-grams,")
    print("              or from the model's shipped table of frequent training words);")
    print("  ours warm = the same rows again with the word cache filled (a long-running aggregator);")
    print("  langdetect and lingua keep no cache between texts.  The ratio to report: ours cold / langdetect.")
    for label, texts in (("native-script text", native), ("all rows mixed", all_texts)):
        res: dict[str, float] = {}
        for _ in range(3):
            for dn, fn in detectors:
                if dn == "ours":
                    _clear_word_cache(romanized)
                t0 = time.perf_counter()
                for t in texts:
                    fn(t)
                key = dn if dn != "ours" else "ours cold"
                res[key] = max(res.get(key, 0.0), len(texts) / (time.perf_counter() - t0))
                if dn == "ours":
                    t0 = time.perf_counter()
                    for t in texts:
                        fn(t)
                    res["ours warm"] = max(res.get("ours warm", 0.0), len(texts) / (time.perf_counter() - t0))
        line = f"  {label:20s} ({len(texts)} texts): " + ", ".join(f"{k} {v:,.0f}" for k, v in res.items())
        line += (f"\n  {'':20s} => ours cold / langdetect = {res['ours cold'] / res['langdetect']:.0f}x,"
                 f" ours warm / langdetect = {res['ours warm'] / res['langdetect']:.0f}x")
        print(line)
    per_call(data, detect, romanized)
    return 0


def _clear_word_cache(romanized) -> None:
    m = romanized.model()
    if hasattr(m, "clear_cache"):
        m.clear_cache()
    else:  # older commits of the model (so that this benchmark can measure them too)
        m._cache.clear()


def per_call(data: dict, detect, romanized) -> None:
    """Per-call cost of detect() the way the pipeline calls it: title + blank line + 3000 chars of
    text (paragraphs of one language from the evaluation rows, joined by blank lines)."""
    import timeit

    print("\nper call, a headline + 3000 characters as the pipeline passes them (best of 5; first call"
          " with an empty word cache, then repeated):")
    for lang, script in (("en", "Latn"), ("ta", "Taml"), ("si", "Sinh")):
        paras = [r["text"] for n in ("paragraphs", "sentences") for r in data.get(n, [])
                 if r["lang"] == lang and r.get("scripts") == script]
        if not paras:
            continue
        title = next(r["text"] for r in data.get("titles", []) if r["lang"] == lang and r.get("scripts") == script)
        text = f"{title}\n\n" + "\n\n".join(paras)[:3000]
        firsts = []
        for _ in range(5):
            _clear_word_cache(romanized)
            t0 = time.perf_counter()
            detect(text)
            firsts.append(time.perf_counter() - t0)
        n = 50
        rep = min(timeit.repeat(lambda: detect(text), number=n, repeat=5)) / n
        print(f"  {lang} ({len(text)} chars): first {min(firsts) * 1e6:,.0f} us, repeated {rep * 1e6:,.0f} us"
              f" -> {detect(text).lang}")


if __name__ == "__main__":
    raise SystemExit(main())
