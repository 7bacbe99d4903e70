"""The whole product end to end: config.yaml -> loopback HTTP feeds -> SQLite -> site.

A real HTTP server on 127.0.0.1 serves a good trilingual blog feed, real Tamil
and Sinhala headline feeds, a malformed feed, a 500 and a refused port.
"""

from __future__ import annotations

import html
import json
import logging
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from aggregator.cli import main
from aggregator.store import SQLiteStore

DATA = Path(__file__).resolve().parent / "data" / "feeds"
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def make_config(tmp_path: Path, feeds: list[tuple[str, str]]) -> Path:
    lines = ["site:", "  title: Test digest", "  output: site", "  days: 3650",
             "storage:", "  path: store.sqlite3",
             "fetch:", "  timeout: 5s", "  retries: 0",
             "topics:",
             "  - id: politics",
             "    names: {en: Politics, ta: அரசியல், si: දේශපාලනය}",
             "    keywords: {en: [parliament, budget], ta: [நாடாளுமன்ற], si: [පාර්ලිමේන්තු]}",
             "  - id: sports",
             "    names: {en: Sports, ta: விளையாட்டு, si: ක්‍රීඩා}",
             "    keywords: {en: [cricket], ta: [கிரிக்கெட்], si: [ක්‍රිකට්]}",
             "feeds:"]
    for name, url in feeds:
        lines.append(f"  - {{name: {name}, url: '{url}'}}")
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Collect(HTMLParser):
    """Elements with their attributes, to check lang tags and hostile markup."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements(path: Path) -> list[tuple[str, dict]]:
    c = Collect()
    c.feed(path.read_text(encoding="utf-8"))
    return c.elements


def serve_all(server, refused_url):
    npr = (DATA / "npr-world.xml").read_bytes()
    feeds = [
        ("Colombo Notes", server.serve_bytes("/mixed.xml", (DATA / "mixed-blogger.xml").read_bytes(),
                                             headers=RSS, etag='"v1"')),
        ("Virakesari", server.serve_bytes("/ta.xml", (DATA / "ta-virakesarilk.xml").read_bytes(), headers=RSS)),
        ("Ada", server.serve_bytes("/si.xml", (DATA / "si-adalk.xml").read_bytes(), headers=RSS)),
        ("Broken", server.serve_bytes("/broken.xml", npr[: len(npr) // 2], headers=RSS)),
        ("Down", server.serve_bytes("/500.xml", b"oops", status=500, headers={"Content-Type": "text/plain"})),
        ("Nobody", refused_url),
    ]
    return feeds


def test_full_pipeline_twice(tmp_path, server, refused_url, capsys):
    config = make_config(tmp_path, serve_all(server, refused_url))
    assert main(["run", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "failed" in out and "new entries" in out

    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        entries = store.entries(content=False)
        states = store.feed_states()
    count1 = len(entries)
    per_feed = Counter(e.feed_id for e in entries)
    assert per_feed["virakesari"] == 93 and per_feed["ada"] == 69 and per_feed["colombo-notes"] == 3
    assert per_feed.get("broken", 0) >= 1  # a truncated feed keeps what could be read
    # every entry of the Tamil and Sinhala feeds is tagged with its language
    langs = {f: {e.lang for e in entries if e.feed_id == f} for f in per_feed}
    assert langs["virakesari"] == {"ta"} and langs["ada"] == {"si"}
    # every entry belongs to a story, however old its date (the feeds here are from 2025)
    assert [e for e in entries if e.story is None] == []
    # the English-declared blog's Tamil and Sinhala posts are not forced into English
    by_title = {e.title: e.lang for e in entries if e.feed_id == "colombo-notes"}
    assert by_title["இலங்கை அணி வெற்றி: கிரிக்கெட் ரசிகர்கள் கொண்டாட்டம்"] == "ta"
    assert by_title["ශ්‍රී ලංකා ක්‍රිකට් කණ්ඩායම ජය ගනී"] == "si"
    assert by_title["Budget debate: what it means for the hill country"] == "en"
    states = {f: (s.last_status, s.last_error, s.failures) for f, s in states.items()}
    assert states["down"][0] == 500 and states["down"][2] == 1 and states["down"][1]
    assert states["nobody"][0] is None and states["nobody"][1] and states["nobody"][2] == 1
    assert states["virakesari"][2] == 0 and states["virakesari"][1] is None

    site = tmp_path / "site"
    for page in ("index.html", "en/index.html", "ta/index.html", "si/index.html",
                 "topics/politics/index.html", "topics/sports/index.html", "topics/other/index.html",
                 "atom.xml", "feed.json", "feeds.html", "opml.xml"):
        assert (site / page).is_file(), page

    # <html lang> is the UI language; every element holding an entry carries its language
    index = elements(site / "index.html")
    assert index[0] == ("html", index[0][1]) and index[0][1].get("lang") == "en"
    assert not any(tag == "script" for tag, _ in index)
    assert not any(k.startswith("on") for _, attrs in index for k in attrs)
    ta_page = (site / "ta" / "index.html").read_text(encoding="utf-8")
    assert 'lang="ta"' in ta_page and "தங்காலை" in ta_page
    # the mixed entry's Tamil and Sinhala paragraphs carry their own lang
    mixed = [attrs for tag, attrs in elements(site / "topics/politics/index.html")]
    assert any(a.get("lang") == "ta" for a in mixed) and any(a.get("lang") == "si" for a in mixed)

    feed = json.loads((site / "feed.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    items = feed["items"]
    assert items and all({"id", "title", "date_published", "language", "tags"} <= set(i) for i in items)
    # every entry has its permalink, except where the truncated feed was cut before it
    assert all("url" in i for i in items if i["_aggregator"]["feed"] != "broken")
    assert all({"feed", "topic", "language"} <= set(i["_aggregator"]) for i in items)
    assert {i["language"] for i in items if i["_aggregator"]["feed"] == "virakesari"} == {"ta"}
    cricket = [i for i in items if "கிரிக்கெட்" in i["title"]]
    assert cricket and cricket[0]["_aggregator"]["topic"] == "sports" and "sports" in cricket[0]["tags"]
    atom = ET.parse(site / "atom.xml").getroot()
    assert atom.tag == "{http://www.w3.org/2005/Atom}feed"
    assert atom.findall("{http://www.w3.org/2005/Atom}entry")

    # second run: nothing new, nothing lost; the conditional GET is used
    server.requests.clear()
    assert main(["run", "--config", str(config), "--all"]) == 0
    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        assert store.entry_count() == count1
    mixed_requests = [h for p, h in server.requests if p == "/mixed.xml"]
    assert mixed_requests and mixed_requests[0].get("If-None-Match") == '"v1"'

    # the good feeds break: their entries stay, the failure is recorded, the site still builds
    server.serve_bytes("/ta.xml", b"gone wrong", status=503, headers={"Content-Type": "text/plain"})
    assert main(["run", "--config", str(config), "--all"]) == 0
    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        assert store.feed_entry_count("virakesari") == 93
        state = store.feed_states()["virakesari"]
    assert state.last_status == 503 and state.last_error
    assert "தங்காலை" in (site / "ta" / "index.html").read_text(encoding="utf-8")

    # a run without --all leaves the failing feeds to their back-off and says so
    capsys.readouterr()
    assert main(["run", "--config", str(config)]) == 0
    line = capsys.readouterr().out
    assert "0 failed" in line and "(3 backing off)" in line, line  # down, nobody, and now virakesari


def test_bad_config_exits_2_and_stores_nothing(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text("feeds:\n  - url: 42\n", encoding="utf-8")
    assert main(["run", "--config", str(path)]) == 2
    assert "feeds[0].url" in capsys.readouterr().err
    assert not (tmp_path / "aggregator.sqlite3").exists()


def test_unwritable_output_exits_1(tmp_path, server):
    url = server.serve_bytes("/ta.xml", (DATA / "ta-virakesarilk.xml").read_bytes(), headers=RSS)
    config = make_config(tmp_path, [("Virakesari", url)])
    (tmp_path / "blocker").write_text("a file where the site folder should be")
    assert main(["run", "--config", str(config), "--output", str(tmp_path / "blocker" / "site")]) == 1
    # the entries were stored before rendering failed
    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        assert store.entry_count() == 93


def _story_groups(tmp_path: Path, monkeypatch, slice_size: int) -> set[frozenset]:
    import shutil

    from aggregator import pipeline

    monkeypatch.setattr(pipeline, "STORY_SLICE", slice_size)
    examples = Path(__file__).resolve().parents[1] / "examples"
    shutil.copytree(examples / "feeds", tmp_path / "feeds")
    shutil.copy(examples / "offline.yaml", tmp_path / "offline.yaml")
    assert main(["run", "--config", str(tmp_path / "offline.yaml"), "--no-render", "-q"]) == 0
    groups: dict[str, set] = {}
    with SQLiteStore(tmp_path / "offline.sqlite3") as store:
        for e in store.entries(content=False):
            groups.setdefault(e.story, set()).add((e.feed_id, e.guid))
    return {frozenset(g) for g in groups.values()}


def test_story_grouping_in_slices_matches_one_pass(tmp_path, monkeypatch):
    # a large first run is grouped a slice at a time (bounded memory), like a series of runs
    whole = _story_groups(tmp_path / "whole", monkeypatch, 100_000)
    sliced = _story_groups(tmp_path / "sliced", monkeypatch, 250)
    # the same events told by BBC and Al Jazeera, one article carried by Daily FT and Colombo Telegraph
    assert sum(len(g) > 1 for g in whole) >= 4
    assert sliced == whole


def test_a_run_without_news_renders_when_the_config_changed(tmp_path, capsys):
    # all feeds unchanged: the site is left alone, unless what it is made from changed
    import shutil

    examples = Path(__file__).resolve().parents[1] / "examples"
    shutil.copytree(examples / "feeds", tmp_path / "feeds")
    config = tmp_path / "offline.yaml"
    shutil.copy(examples / "offline.yaml", config)
    assert main(["run", "--config", str(config), "-q"]) == 0
    capsys.readouterr()
    assert main(["run", "--config", str(config), "--all"]) == 0
    assert "nothing changed, site left as it was" in capsys.readouterr().out
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("\n  title: ", "\n  title: Renamed · ", 1), encoding="utf-8")
    assert main(["run", "--config", str(config), "--all"]) == 0
    out = capsys.readouterr().out
    assert "0 new entries" in out and "pages written" in out, out
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "<title>Latest · Renamed · " in index
    assert main(["run", "--config", str(config), "--all"]) == 0
    assert "nothing changed, site left as it was" in capsys.readouterr().out


def _topics_in(store: Path) -> dict[str, tuple[str, str]]:
    with SQLiteStore(store) as s:
        return {e.guid: (e.topic, e.topic_why) for e in s.entries(content=False)}


def test_edited_topics_refile_the_stored_entries(tmp_path, capsys, caplog):
    # a user tunes keywords after reading `aggregator classify`: the entries already stored move
    # too, on the next run even when no feed has news, and on `aggregator render`
    import shutil

    examples = Path(__file__).resolve().parents[1] / "examples"
    shutil.copytree(examples / "feeds", tmp_path / "feeds")
    config = tmp_path / "offline.yaml"
    shutil.copy(examples / "offline.yaml", config)
    store = tmp_path / "offline.sqlite3"
    assert main(["run", "--config", str(config), "-q"]) == 0
    before = _topics_in(store)
    assert not any(t == "weather" for t, _ in before.values())
    original = config.read_text(encoding="utf-8")
    weather = ("  - id: weather\n    names: {en: Weather, ta: வானிலை, si: කාලගුණය}\n"
               "    keywords: {en: [cyclone], ta: [சூறாவளி], si: [සුළි කුණාටු]}\n")
    config.write_text(original.replace("\n  - id: local\n", "\n" + weather + "  - id: local\n", 1),
                      encoding="utf-8")
    capsys.readouterr()
    caplog.set_level(logging.INFO, logger="aggregator")
    assert main(["run", "--config", str(config), "-v"]) == 0
    captured = capsys.readouterr()
    assert "0 new entries" in captured.out and "pages written" in captured.out, captured.out
    after = _topics_in(store)
    moved = {g for g in after if after[g][0] == "weather"}
    assert len(moved) >= 3, after
    assert all(after[g][1].startswith("keywords: ") for g in moved)
    assert f"{len(moved)} of 790 stored entries filed under another topic" in caplog.text
    page = (tmp_path / "site" / "topics" / "weather" / "index.html").read_text(encoding="utf-8")
    with SQLiteStore(store) as s:
        title = next(e.title for e in s.entries(content=False) if e.guid == sorted(moved)[0])
    assert html.escape(title, quote=False) in page or title in page
    # entries the new keywords do not match keep what they had
    assert {g: before[g] for g in before if g not in moved} == {g: after[g] for g in after if g not in moved}
    # nothing changed since: nothing is filed again
    caplog.clear()
    assert main(["run", "--config", str(config), "-v"]) == 0
    assert "filed under another topic" not in caplog.text and "nothing changed" in capsys.readouterr().out
    # the topic removed again, and the site rebuilt by `aggregator render`: back where they were
    config.write_text(original, encoding="utf-8")
    assert main(["render", "--config", str(config), "-q"]) == 0
    assert _topics_in(store) == before


MIXED_TITLES_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Mixed</title><link>https://mixed.example/</link>
<description>Mixed-language headlines</description>
<item><title>இன்று மாலை breaking news from Colombo இடம்பெற்றது</title><link>https://mixed.example/1</link>
<guid>m1</guid><description>{body}</description></item>
<item><title>JEEVAN WEDS SEETHAI</title><link>https://mixed.example/2</link><guid>m2</guid>
<description>A wedding notice.</description></item>
<item><title>Bhai ye video dekh ke maza aa gaya, kya baat hai yaar</title><link>https://mixed.example/3</link>
<guid>m3</guid><description>Comment thread.</description></item>
</channel></rss>
"""


def test_word_level_segments_reach_the_page_as_span_lang(tmp_path, server):
    # a Tamil headline with an English phrase of four words; the body is long enough that the
    # segments come from the headline alone (word-level segments are looked for in short texts)
    body = "கொழும்பில் இன்று மாலை நடைபெற்ற கூட்டத்தில் பல முக்கிய முடிவுகள் எடுக்கப்பட்டன. " * 8
    feed = MIXED_TITLES_FEED.format(body=body).encode("utf-8")
    config = make_config(tmp_path, [("Mixed", server.serve_bytes("/mixed-titles.xml", feed, headers=RSS))])
    assert main(["run", "--config", str(config)]) == 0
    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        langs = {e.link.rsplit("/", 1)[1]: e.lang for e in store.entries(content=False)}
    assert langs == {"1": "ta", "2": "en", "3": "hi"}  # names in capitals are English news
    page = (tmp_path / "site" / "ta" / "index.html").read_text(encoding="utf-8")
    assert 'இன்று மாலை <span lang="en">breaking news from Colombo</span> இடம்பெற்றது' in page


def test_word_level_segments_inside_body_paragraphs_reach_the_page(tmp_path, server):
    # a Tamil paragraph with an English phrase of four words inside a sentence; the second
    # paragraph has no switch
    body = ("<p>அமைச்சர் நேற்று press conference in Colombo ஒன்றை நடத்தினார். "
            "பல முக்கிய முடிவுகள் எடுக்கப்பட்டன.</p><p>கூட்டம் <b>மாலை</b> நிறைவடைந்தது.</p>")
    feed = MIXED_TITLES_FEED.format(body=html.escape(body)).encode("utf-8")
    config = make_config(tmp_path, [("Mixed", server.serve_bytes("/mixed-body.xml", feed, headers=RSS))])
    assert main(["run", "--config", str(config)]) == 0
    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        [content] = [e.content_html for e in store.entries() if e.link.endswith("/1")]
    assert 'நேற்று <span lang="en">press conference in Colombo</span> ஒன்றை' in content
    assert content.count("<span lang=") == 1
    pages = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "site").rglob("*.html"))
    assert '<span lang="en">press conference in Colombo</span>' in pages
