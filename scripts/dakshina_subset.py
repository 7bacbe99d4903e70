#!/usr/bin/env python
"""Cut the Dakshina v1.0 rows that scripts/train_langid.py trains on into the repository.

    AGGREGATOR_DAKSHINA=/path/to/dakshina_dataset_v1.0 .venv/bin/python scripts/dakshina_subset.py

Reads {hi,ml,te,kn,bn,ta,si}/romanized/<lang>.romanized.rejoined.tsv of the Dakshina v1.0 folder
(google-research-datasets/dakshina, CC BY-SA 4.0; each file checked against its SHA-256 below) and
the shared evaluation rows (../shared/data/langid, AGGREGATOR_SHARED_DATA), and writes
scripts/langid_data/dakshina.tsv.gz: for each language, the first ROWS romanized sentences of its
file that are in no shared evaluation set (neither their native text nor their romanization), as
``lang <TAB> line number in the file (1-based) <TAB> romanized sentence``.  Same files in, same
bytes out.  The training never needs the full dataset: this file is what it reads.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "scripts" / "langid_data" / "dakshina.tsv.gz"
# Dakshina v1.0 as copied in mathml42/dakshina-seq2seq-transliteration@73ef9b2
# (dakshina_dataset_v1.0/<lang>/romanized/<lang>.romanized.rejoined.tsv)
FILES = {
    "hi": "b76ed65680986c8f93552a5946c97f02b1c48a2ed9491fa42cea64f094c12894",
    "ml": "2461b2ddf6bd9cd58e934a8dd0aeb1088fb6a1543727000ecb5d5d5e8bd68137",
    "te": "607103909b0164cae1281d6e5a1b9525babe49e3e526f0b34e0f5737702da1de",
    "kn": "05fd77b1405484a6c81165d52d7e6828dcf967504aa631c401c30f97166cc1ff",
    "bn": "8a43f6db029991bb7788e4a25da78169d24368b2ea53aa72107d3a5a1cd126ea",
    "ta": "fd98cc4e967651bb2f826daeecc5d71bf18d1f6451df4c6402e1a2a30d2f6213",
    "si": "c45fe5ad308d3d852bc0a57aa482ace8cd871f61a25649db4b152f9fb6e0e096",
}
ROWS = 2000  # sentences per language


def _train_module():
    spec = importlib.util.spec_from_file_location("train_langid", ROOT / "scripts" / "train_langid.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def file_rows(folder: Path, lang: str) -> list[tuple[int, str, str]]:
    """(line number, native, romanized) of one language's rejoined file, checked by SHA-256."""
    from aggregator.language.normalize import normalize

    path = folder / lang / "romanized" / f"{lang}.romanized.rejoined.tsv"
    if not path.is_file():
        raise SystemExit(f"dakshina_subset: {path} not found (set AGGREGATOR_DAKSHINA to the "
                         "dakshina_dataset_v1.0 folder)")
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != FILES[lang]:
        raise SystemExit(f"dakshina_subset: {path} is not the Dakshina v1.0 file (SHA-256 differs)")
    out = []
    for i, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        native, _, roman = line.partition("\t")
        if roman.strip():
            out.append((i, normalize(native), normalize(roman)))
    return out


def subset(folder: Path, seen: set[str]) -> list[tuple[str, int, str]]:
    out = []
    for lang in FILES:
        rows = [(i, r) for i, n, r in file_rows(folder, lang) if n not in seen and r not in seen]
        out += [(lang, i, r) for i, r in rows[:ROWS]]
    return out


def write(rows: list[tuple[str, int, str]], path: Path = OUT) -> None:
    raw = "".join(f"{lang}\t{i}\t{text}\n" for lang, i, text in rows).encode("utf-8")
    with open(path, "wb") as out, gzip.GzipFile(filename="", fileobj=out, mode="wb", mtime=0) as f:
        f.write(raw)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    folder = os.environ.get("AGGREGATOR_DAKSHINA")
    if not folder:
        print("dakshina_subset: set AGGREGATOR_DAKSHINA to the dakshina_dataset_v1.0 folder", file=sys.stderr)
        return 2
    train = _train_module()
    if not (train.SHARED / "langid").is_dir():
        print(f"dakshina_subset: evaluation rows not found at {train.SHARED / 'langid'} "
              "(set AGGREGATOR_SHARED_DATA)", file=sys.stderr)
        return 2
    rows = subset(Path(folder), train.evaluation_texts())
    write(rows)
    print(f"wrote {OUT}: {len(rows)} rows, {OUT.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
