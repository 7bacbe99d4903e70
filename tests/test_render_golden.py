"""Golden-output test: the whole site built from tests/render_data.py, file by file.

When a change to the templates or the renderer is intended, regenerate and review the diff:

    AGGREGATOR_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_render_golden.py
    git diff tests/golden/
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

from aggregator.render import build_site
from aggregator.render.publish import MANIFEST
from render_data import NOW, site_config, site_data

GOLDEN = Path(__file__).resolve().parent / "golden" / "site"
EXTRA = {"opml.xml": '<?xml version="1.0"?>\n<opml version="2.0"/>\n'}


def _files(root: Path) -> dict[str, bytes]:
    # the search index (pagefind/) is Pagefind's output, not byte-for-byte the same from one
    # build to the next; tests/test_browser.py searches it
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != MANIFEST
            and not p.relative_to(root).as_posix().startswith("pagefind/")}


def test_site_matches_golden(tmp_path):
    out = tmp_path / "site"
    build_site(site_data(), site_config(out), now=NOW, extra_files=EXTRA)
    got = _files(out)
    if os.environ.get("AGGREGATOR_REGEN_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, blob in got.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_bytes(blob)
    want = _files(GOLDEN)
    assert sorted(got) == sorted(want), "pages added or removed; regenerate (see module doc)"
    for rel in want:
        if got[rel] != want[rel]:
            diff = "\n".join(difflib.unified_diff(
                want[rel].decode().splitlines(), got[rel].decode().splitlines(),
                f"golden/{rel}", f"built/{rel}", lineterm="", n=2))
            raise AssertionError(f"{rel} differs from the golden copy "
                                 f"(regenerate if intended, see module doc):\n{diff[:4000]}")
