"""update() parses and stores feeds as they download, in this process or in worker processes."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from aggregator import enrich, pipeline, refile
from aggregator.config import load_config
from aggregator.models import Detection, Segment
from aggregator.markup.sanitize import html_to_text
from aggregator.store import open_store
from test_pipeline_e2e import serve_all, make_config

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


def _run(tmp_path, server, refused_url, workers):
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = load_config(make_config(tmp_path, serve_all(server, refused_url)))
    outcomes = []
    with open_store(config.storage) as store:
        summary, changed = pipeline.update(config, store, now=NOW, workers=workers,
                                           on_feed=outcomes.append)
        rows = sorted((s.entry.feed_id, s.entry.guid, s.entry.title, s.entry.lang, s.entry.segments,
                       s.entry.topic, s.entry.summary_html, s.entry.content_html, s.entry.link,
                       s.content_hash) for s in store.stored_entries())
        states = sorted((f, s.last_status, s.last_error is None, s.failures, s.title, s.language)
                        for f, s in store.feed_states().items())
    return summary, changed, rows, states, outcomes


@pytest.mark.parametrize("workers", [0, 2])
def test_summary_counts_what_was_stored(tmp_path, server, refused_url, workers):
    summary, changed, rows, states, outcomes = _run(tmp_path, server, refused_url, workers)
    assert changed and rows
    assert summary.new_entries == len(rows)
    assert sum(o.new_entries for o in outcomes) == len(rows)
    assert summary.feeds_ok == 4 and summary.feeds_failed == 2
    assert {o.source.id for o in outcomes} == {s[0] for s in states}


def test_worker_processes_store_what_this_process_stores(tmp_path, server, refused_url):
    here = _run(tmp_path / "here", server, refused_url, 0)
    pool = _run(tmp_path / "pool", server, refused_url, 2)
    assert pool[2] == here[2]  # every entry, its languages, topic and HTML
    assert pool[3] == here[3]  # every feed's state


def test_second_run_is_all_not_modified_or_unchanged(tmp_path, server, refused_url):
    config = load_config(make_config(tmp_path, serve_all(server, refused_url)))
    with open_store(config.storage) as store:
        first, _ = pipeline.update(config, store, now=NOW, workers=2)
        again, _ = pipeline.update(config, store, now=NOW, workers=2, force=True)
    assert first.new_entries > 0 and again.new_entries == 0


def test_an_article_three_feeds_carry_is_kept_for_each_and_shown_once(tmp_path, server):
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
            b'<item><title>Same story</title><link>https://news.example/a?utm_source=x</link>'
            b'<guid>%s</guid><description>Text of the story.</description></item>'
            b'</channel></rss>')
    feeds = [(f"Feed{i}", server.serve_bytes(f"/{i}.xml", body % f"g{i}".encode()))
             for i in range(3)]
    config = load_config(make_config(tmp_path, feeds))
    with open_store(config.storage) as store:
        summary, _ = pipeline.update(config, store, now=NOW, workers=0)
        # every feed keeps its entry (its page, its count, its status)...
        assert summary.new_entries == 3 and store.entry_count() == 3
        stories = {e.story for e in store.entries()}
        assert len(stories) == 1 and None not in stories  # ...in one story
        for i in range(3):
            assert store.feed_entry_count(f"feed{i}") == 1
        pipeline.build_site(config, store)
    site = config.site.output
    front = (site / "index.html").read_text(encoding="utf-8")
    # shown once, the other two feeds listed as its versions
    assert front.count('class="entry-title"') == 1
    versions = front.split('class="versions"', 1)[1]
    assert sum(f"feeds/feed{i}.html" in versions for i in range(3)) == 2
    for i in range(3):
        assert "Same story" in (site / "feeds" / f"feed{i}.html").read_text(encoding="utf-8")
    # the site's own feeds carry the article once too
    items = json.loads((site / "feed.json").read_text(encoding="utf-8"))["items"]
    assert len(items) == 1 and items[0]["_aggregator"]["story"]
    assert (site / "atom.xml").read_text(encoding="utf-8").count("<entry") == 1


def test_blocks_are_looked_at_only_when_they_can_differ():
    one = Detection(lang="en", confidence=0.9, script="Latn")
    mixed = Detection(lang="en", confidence=0.9, script="Latn", segments=(Segment(0, 3, "en"),
                                                                          Segment(4, 9, "ta")))
    tamil = "இலங்கை அணி வெற்றி. கிரிக்கெட் ரசிகர்கள் கொண்டாட்டம்."
    assert not enrich.may_mix(tamil, None, "ta", whole=False)  # the script decides
    assert enrich.may_mix(tamil, None, "en", whole=False)
    assert enrich.may_mix(tamil + " The fans celebrated.", None, "ta", whole=True)
    english = "The fans celebrated the win late into the night."
    assert not enrich.may_mix(english, one, "en", whole=True)
    assert enrich.may_mix(english, one, "en", whole=False)  # detect saw only the start
    assert enrich.may_mix(english, mixed, "en", whole=True)
    assert enrich.may_mix(english, one, "ta", whole=True)
    assert not enrich.may_mix("2024 — 15:30", one, "en", whole=True)  # no letters


def test_mixed_entry_still_marks_its_blocks(tmp_path, server, refused_url):
    # the English-declared blog's trilingual post keeps lang on its Tamil and Sinhala paragraphs
    _, _, rows, _, _ = _run(tmp_path, server, refused_url, 0)
    html = " ".join(r[7] for r in rows if r[0] == "colombo-notes")
    assert 'lang="ta"' in html and 'lang="si"' in html


def test_default_workers_grow_with_feeds_and_cores():
    from aggregator.pipeline import POOL_MIN_FEEDS, POOL_TWO_FEEDS, default_workers

    assert default_workers(POOL_MIN_FEEDS - 1, cpus=8) == 0  # a small config parses in-process
    assert default_workers(POOL_MIN_FEEDS, cpus=8) == 1
    assert default_workers(POOL_TWO_FEEDS, cpus=1) == 1  # one core: a second worker only competes
    assert default_workers(POOL_TWO_FEEDS, cpus=2) == 2
    assert default_workers(5000, cpus=64) == 2  # each worker holds its own models: capped


def test_a_post_typed_in_a_legacy_font_is_stored_and_shown_in_unicode(tmp_path, server):
    from xml.sax.saxutils import escape

    from aggregator.language import normalize

    sample = Path(__file__).resolve().parent / "data" / "langid" / "sample.jsonl"
    rows = [json.loads(x) for x in sample.open(encoding="utf-8") if '"unicode"' in x]
    tscii = [r for r in rows if r["encoding"] == "tscii"]
    fm = [r for r in rows if r["encoding"] == "fm-abhaya"]
    english = "An English paragraph about the book release in Chennai yesterday evening."

    def item(guid: str, title: str, paragraphs: list[str]) -> str:
        html = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)  # "<" is a letter in FM Abhaya
        return (f"<item><title>{escape(title)}</title><guid>{guid}</guid>"
                f"<link>https://blog.example/{guid}</link>"
                f"<description>{escape(html)}</description></item>")

    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            + item("ta1", tscii[1]["text"], [tscii[0]["text"], tscii[2]["text"], english])
            + item("si1", fm[2]["text"], [fm[0]["text"], fm[1]["text"]])
            + "</channel></rss>").encode("utf-8")
    config = load_config(make_config(tmp_path, [("Legacy", server.serve_bytes("/l.xml", body))]))
    with open_store(config.storage) as store:
        pipeline.update(config, store, now=NOW, workers=0)
        got = {e.guid.rsplit("/", 1)[-1]: e for e in store.entries()}
        assert set(got) == {"ta1", "si1"}
        pipeline.build_site(config, store)
    ta, si = got["ta1"], got["si1"]
    assert (ta.lang, ta.legacy_encoding, si.lang, si.legacy_encoding) == ("ta", "tscii", "si", "fm-abhaya")
    for e, refs in ((ta, [tscii[0], tscii[2]]), (si, [fm[0], fm[1]])):
        full = normalize(html_to_text(e.content_html or e.summary_html))
        assert all(normalize(r["unicode"]) in full for r in refs), full
        start = " ".join(normalize(refs[0]["unicode"]).split()[:6])  # the excerpt's first words
        assert normalize(html_to_text(e.summary_html)).startswith(start)
    # the English paragraph of the Tamil post is left as it was, and marked as English
    assert f'<p lang="en">{english}</p>' in (ta.content_html or ta.summary_html)
    # the titles too (the original kept), and the page readers open shows Unicode text
    assert ta.original_title == tscii[1]["text"] and normalize(ta.title) == normalize(tscii[1]["unicode"])
    page = (config.site.output / "feeds" / "legacy.html").read_text(encoding="utf-8")
    assert normalize(fm[0]["unicode"]).split()[0] in page and fm[0]["text"] not in page


def test_the_site_files_a_story_under_one_topic(tmp_path):
    # versions of one story filed under crime, crime and local: the site lists the story once,
    # under crime, and feed.json says so for each version; the store keeps each entry's own topic
    from aggregator.models import Entry

    config_path = make_config(tmp_path, [("A", "http://127.0.0.1:9/a.xml"), ("B", "http://127.0.0.1:9/b.xml")])
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(text.replace("topics:\n", "topics:\n  - id: crime\n    names: {en: Crime, ta: குற்றம், si: අපරාධ}\n"
                                        "  - id: local\n    names: {en: Local, ta: உள்நாட்டு, si: දේශීය}\n", 1),
                           encoding="utf-8")
    config = load_config(config_path)
    now = datetime(2025, 12, 1, tzinfo=timezone.utc)

    def entry(n, feed, topic, conf, why):
        return Entry(feed_id=feed, guid=f"g{n}", title=f"Shooting near the council {n}", link=f"https://x.lk/{n}",
                     summary_html="<p>x</p>", content_html="<p>x</p>", author=None, published=now,
                     lang="en", lang_confidence=1.0, topic=topic, topic_confidence=conf, topic_why=why)

    with open_store(config.storage) as store:
        ids, _ = store.upsert_entries([(entry(1, "a", "crime", 0.7, "classifier 0.70"), "h1", None),
                                       (entry(2, "b", "crime", 0.6, "classifier 0.60"), "h2", None),
                                       (entry(3, "b", "local", 0.8, "keywords: council"), "h3", None)], now)
        store.set_stories({i: "s1" for i in ids})
        store.set_meta(refile.TOPIC_INPUTS, refile.topic_inputs(config))
        data = pipeline.site_data(config, store, now)
        assert {e.guid: e.topic for e in data.entries} == {"g1": "crime", "g2": "crime", "g3": "crime"}
        assert sorted(e.topic for e in store.entries()) == ["crime", "crime", "local"]
        pipeline.build_site(config, store, now=now)
    out = config.site.output
    crime = (out / "topics" / "crime" / "index.html").read_text(encoding="utf-8")
    local = (out / "topics" / "local" / "index.html").read_text(encoding="utf-8")
    assert "Shooting near the council 3" in crime and "Shooting near the council" not in local
    items = json.loads((out / "feed.json").read_text(encoding="utf-8"))["items"]
    assert {i["_aggregator"]["topic"] for i in items} == {"crime"}
