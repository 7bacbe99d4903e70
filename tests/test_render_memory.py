"""render keeps a bounded number of rendered entries and reads full HTML only where needed."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aggregator.render as render
from aggregator.render import build_site, views
from render_data import ENTRIES, NOW, entry, site_config, site_data


def _many():
    extra = [entry(100 + i, guid=f"m{i}", title=f"Entry {100 + i}", link=f"https://news.example/m{i}",
                   published=NOW - timedelta(hours=3 * i), topic=("politics", "sports", "other")[i % 3],
                   story=f"st{i // 3}" if i % 4 else None)
             for i in range(60)]
    return site_data(entries=ENTRIES + tuple(extra))


def _files(out: Path) -> dict[str, bytes]:
    # the search index (pagefind/) is left out: Pagefind's own files differ from one build of
    # the same records to the next
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
            and p.name != ".aggregator-manifest.json"
            and not p.relative_to(out).as_posix().startswith("pagefind/")}


def test_tiny_caches_build_the_same_site(tmp_path, monkeypatch):
    data = _many()
    build_site(data, site_config(tmp_path / "big"), now=NOW)
    monkeypatch.setattr(render, "CACHE_ENTRIES", 1)
    monkeypatch.setattr(views, "CACHE_ENTRIES", 1)
    build_site(data, site_config(tmp_path / "tiny"), now=NOW)
    big, tiny = _files(tmp_path / "big"), _files(tmp_path / "tiny")
    assert big.keys() == tiny.keys() and len(big) > 40
    assert [k for k in big if big[k] != tiny[k]] == []


def test_feeds_out_read_full_content_on_demand(tmp_path):
    full = {e.guid: f"<p>Full text of {e.guid}.</p>" for e in ENTRIES}
    with_ids = tuple(replace(e, id=i + 1) for i, e in enumerate(ENTRIES))
    by_id = {e.id: full[e.guid] for e in with_ids}
    asked = []

    def load(ids):
        asked.append(list(ids))
        return {i: by_id[i] for i in ids}

    data = replace(site_data(entries=with_ids), load_content=load)
    out = tmp_path / "site"
    build_site(data, site_config(out), now=NOW)
    atom = (out / "atom.xml").read_text(encoding="utf-8")
    assert "Full text of g1." in atom and "Full text of g1." in (out / "feed.json").read_text()
    assert asked and all(len(a) <= render.FEED_LIMIT for a in asked)
    # pages show excerpts: the full text is not on them
    assert "Full text of" not in (out / "index.html").read_text(encoding="utf-8")
    # a rebuild with the same inputs reads nothing
    asked.clear()
    build_site(data, site_config(out), now=NOW)
    assert asked == []
