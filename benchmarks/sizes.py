"""How big the store and the site get, per 1,000 entries, and what the search index costs.

    .venv/bin/python benchmarks/sizes.py [--embeddings] [--synthetic 20000]

1. The offline example (examples/offline.yaml, 17 real feeds, ~800 entries) run once in a fresh
   folder: the store's size, the site's bytes, its disk use (4 KiB blocks: most pages are
   small) and its files, the search index's share; then ``aggregator render`` into a fresh
   folder twice with the search index and twice without (A/B in the same session: the build
   time the index costs).
2. With ``--synthetic N``: the render benchmark's synthetic site of N entries (benchmarks/
   render.py), built once with the index, for the same figures at a larger size.

Embeddings are off unless ``--embeddings`` (the extra ``stories`` adds about 0.8 kB per entry
to the store: two vectors).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def tree(path: Path) -> tuple[int, int, int]:
    """(bytes, bytes on disk, files) under ``path``."""
    size = disk = files = 0
    for p in path.rglob("*"):
        if p.is_file():
            st = p.stat()
            size += st.st_size
            disk += st.st_blocks * 512
            files += 1
    return size, disk, files


def per_k(n: int, entries: int) -> str:
    return f"{n / entries * 1000 / 1e6:6.2f} MB per 1,000 entries"


def report(label: str, site: Path, entries: int, store: Path | None = None) -> None:
    size, disk, files = tree(site)
    isize, idisk, ifiles = tree(site / "pagefind")
    print(f"{label}: {entries} entries")
    if store is not None:
        s = store.stat().st_size
        print(f"  store   {s / 1e6:7.2f} MB   {per_k(s, entries)}")
    print(f"  site    {size / 1e6:7.2f} MB   {per_k(size, entries)}; on disk {disk / 1e6:.2f} MB "
          f"({per_k(disk, entries)}), {files} files")
    print(f"  search  {isize / 1e6:7.2f} MB   {per_k(isize, entries)}; on disk {idisk / 1e6:.2f} MB, "
          f"{ifiles} files (included above)")


def offline(embeddings: bool) -> None:
    env = {**os.environ, "AGGREGATOR_EMBEDDINGS": "1" if embeddings else "0"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "examples"
        shutil.copytree(ROOT / "examples", work, ignore=shutil.ignore_patterns("site", "*.sqlite3*"))
        cfg = work / "offline.yaml"
        subprocess.run([sys.executable, "-m", "aggregator.cli", "run", "--config", str(cfg), "-q"],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        import sqlite3
        n = sqlite3.connect(work / "offline.sqlite3").execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        report("offline example", work / "site", n, work / "offline.sqlite3")
        times: dict[str, list[float]] = {"with search": [], "without search": []}
        for _ in range(2):
            for label in times:
                out = Path(tmp) / "render-site"
                shutil.rmtree(out, ignore_errors=True)
                code = ("import sys; from aggregator.render import search_index as s; "
                        + ("s.available = lambda: False; " if label == "without search" else "")
                        + "from aggregator.cli import main; sys.exit(main())")
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", code, "render", "--config", str(cfg),
                                "--output", str(out), "-q"], check=True, env=env,
                               stderr=subprocess.DEVNULL)
                times[label].append(time.perf_counter() - start)
        for label, ts in times.items():
            print(f"  full build {label:15} " + ", ".join(f"{t:.2f} s" for t in ts))


def synthetic(n: int) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from render import NOW, synthetic as make  # type: ignore[import-not-found]

    from aggregator.config import SiteConfig
    from aggregator.render import build_site

    data = make(n, max(30, n // 100), 30)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        start = time.perf_counter()
        build_site(data, SiteConfig(title="Bench", output=site), now=NOW)
        print(f"synthetic site built in {time.perf_counter() - start:.1f} s")
        report("synthetic", site, n)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embeddings", action="store_true")
    ap.add_argument("--synthetic", type=int, default=0, metavar="N")
    args = ap.parse_args()
    offline(args.embeddings)
    if args.synthetic:
        synthetic(args.synthetic)
    return 0


if __name__ == "__main__":
    sys.exit(main())
