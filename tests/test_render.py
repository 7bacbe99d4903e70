"""render: the pages, their links, languages, pagination, feeds out and publishing."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from aggregator.errors import RenderError
from aggregator.render import RenderResult, build_site, default_templates_dir
from render_data import ENTRIES, FEEDS, NOW, entry, site_config, site_data

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class _Doc(HTMLParser):
    """Collects what the tests look at: html lang, links, elements with their attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.html_lang = None
        self.links: list[str] = []
        self.elements: list[tuple[str, dict]] = []
        self.headings: list[int] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag in ("a", "link") and a.get("href"):
            self.links.append(a["href"])
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))


def parse(path: Path) -> _Doc:
    d = _Doc()
    d.feed(path.read_text(encoding="utf-8"))
    return d


@pytest.fixture()
def built(tmp_path):
    out = tmp_path / "site"
    result = build_site(site_data(), site_config(out), now=NOW,
                        extra_files={"opml.xml": "<opml version='2.0'/>"})
    return out, result


def html_pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def test_pages_exist(built):
    out, result = built
    assert isinstance(result, RenderResult) and result.output == out
    for rel in ["index.html", "en/index.html", "ta/index.html", "si/index.html",
                "topics/index.html", "topics/politics/index.html", "topics/sports/index.html",
                "topics/other/index.html", "archive/index.html", "archive/2024-06-03.html",
                "feeds.html", "feeds/daily-news.html", "feeds/virakesari.html",
                "feeds/new-feed.html", "atom.xml", "en/atom.xml", "ta/atom.xml", "si/atom.xml",
                "feed.json", "style.css", "opml.xml", "ui/ta/index.html", "ui/si/index.html",
                "ui/si/feeds/adaderana.html", "ui/ta/archive/2024-06-03.html"]:
        assert (out / rel).is_file(), rel
    assert result.pages_written == len([p for p in out.rglob("*") if p.is_file()]) - 1


def test_every_internal_link_resolves(built):
    out, _ = built
    for page in html_pages(out):
        for href in parse(page).links:
            if re.match(r"^[a-z]+:", href) or href.startswith("#"):
                continue
            target = (page.parent / href.split("#")[0]).resolve()
            assert target.is_file(), f"{page.relative_to(out)} links to missing {href}"


def test_html_lang_is_ui_language_and_entries_carry_lang(built):
    out, _ = built
    for page in html_pages(out):
        rel = page.relative_to(out).as_posix()
        expected = rel.split("/")[1] if rel.startswith("ui/") else "en"
        doc = parse(page)
        assert doc.html_lang == expected, rel
        for tag, a in doc.elements:
            if "entry" in (a.get("class") or "").split():
                assert a.get("lang") in ("en", "ta", "si"), (rel, a)


def test_headings_in_order(built):
    out, _ = built
    for page in html_pages(out):
        levels = parse(page).headings
        assert levels and levels[0] == 1, page
        for a, b in zip(levels, levels[1:]):
            assert b <= a + 1, (page, levels)


def test_front_page_is_a_digest_of_every_language(built):
    out, _ = built
    html = (out / "index.html").read_text()
    # the top stories first: the budget, told in three languages, once, with its versions
    top = html[html.index('id="top-stories"'):html.index('id="latest-en"')]
    assert "Parliament passes the budget" in top and top.count('<article class="entry') == 1
    assert "අයවැය සම්මත විය" in top and "வரவு செலவுத் திட்டம் நிறைவேற்றம்" in top
    # then each configured language's latest entries, in config order, even those older than
    # site.days (2 days: entry 80 is 80 hours old) and not those already among the top stories
    en, ta, si = (html.index(f'id="latest-{code}"') for code in ("en", "ta", "si"))
    assert en < ta < si
    # in the Tamil and Sinhala interfaces, their own language's section comes first
    for ui, first in (("ta", "ta"), ("si", "si")):
        page = (out / f"ui/{ui}/index.html").read_text()
        order = sorted(("en", "ta", "si"), key=lambda c: page.index(f'id="latest-{c}"'))
        assert order[0] == first and order[1:] == [c for c in ("en", "ta", "si") if c != first]
    assert "Cricket: Sri Lanka win" in html[en:ta] and "javascript link" in html[en:ta]
    assert "SLAF" in html[ta:si] and "ක්‍රිකට් තරගය" in html[si:]
    assert html.count("Parliament passes the budget</a></h3>") == 1
    # one h1: the site's title, in the header (not twice)
    assert html.count("<h1") == 1 and '<h1 class="site-title">' in html
    # a thumbnail where the feed gave one: lazy, sized, sending no referrer
    thumb = html[html.index('<img class="thumb"'):]
    thumb = thumb[:thumb.index(">") + 1]
    assert 'src="https://si.example/30.jpg"' in thumb and 'alt=""' in thumb
    assert 'loading="lazy"' in thumb and 'referrerpolicy="no-referrer"' in thumb
    assert 'width="112"' in thumb and 'height="84"' in thumb


def test_day_page_groups_by_topic_then_language(built):
    out, _ = built
    html = (out / "archive/2024-06-03.html").read_text()
    assert html.index(">Politics<") < html.index(">Sports<") < html.index(">Other<")


def test_story_shown_once_with_versions(built):
    out, _ = built
    html = (out / "index.html").read_text()
    assert html.count("வரவு செலவுத் திட்டம் நிறைவேற்றம்") == 1
    versions = html[html.index('class="versions"'):]
    assert "அයவැය" not in versions  # sanity of the check below
    assert "அද දෙරණ" not in versions
    assert "අයවැය සම්මත විය" in versions and "வீரகேசரி" in versions


def test_mixed_title_segments_carry_lang(built):
    out, _ = built
    html = (out / "index.html").read_text()
    assert 'பொதுமக்களுக்கு <span lang="en">SLAF</span> அறிவுறுத்தல்' in html
    assert '<p lang="en">The Air Force said so.</p>' in html


def test_interface_translated(built):
    out, _ = built
    ta = (out / "ui/ta/index.html").read_text()
    si = (out / "ui/si/index.html").read_text()
    assert "மேலும் படிக்க" in ta and "அரசியல்" in ta and "முக்கியச் செய்திகள்" in ta
    assert "තවත් කියවන්න" in si and "දේශපාලනය" in si and "ප්‍රධාන පුවත්" in si
    en = (out / "index.html").read_text()
    assert "Read more" in en and "Top stories" in en
    assert "திங்கள், 3 ஜூன், 2024" in (out / "ui/ta/en/index.html").read_text()
    assert "2024 ජූනි 3, සඳුදා" in (out / "ui/si/en/index.html").read_text()
    assert "Monday, June 3, 2024" in (out / "en/index.html").read_text()
    # the switcher links the same page in every interface language
    assert 'href="../../ui/si/index.html" lang="si"' in ta
    assert 'href="../../index.html" lang="en"' in ta


def test_links_only_http(built):
    out, _ = built
    for page in html_pages(out):
        for href in parse(page).links:
            if href == "data:,":  # our own empty favicon, so browsers do not request one
                continue
            assert not href.lower().startswith(("javascript:", "data:", "vbscript:")), page
    html = (out / "topics/other/index.html").read_text()
    assert "javascript link" in html  # shown, not linked


def test_feeds_page_health(built):
    out, _ = built
    html = (out / "feeds.html").read_text()
    assert "health-ok" in html and "health-failing" in html and "HTTP 500" in html
    assert "health-gone" in html and "health-moved" in html and "health-new" in html
    assert "https://si.example/new-rss" in html


def test_feed_json_valid(built):
    out, _ = built
    doc = json.loads((out / "feed.json").read_text())
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["title"] == "Lanka Digest" and doc["items"]
    for item in doc["items"]:
        for key in ("id", "title", "date_published", "language", "tags", "authors",
                    "content_html", "_aggregator"):
            assert key in item, key
        assert set(item["_aggregator"]) >= {"feed", "topic", "language", "story", "segments"}
        assert item["tags"] == [item["_aggregator"]["topic"]]
        assert item.get("url", "https://").startswith(("http://", "https://"))
    ids = [i["id"] for i in doc["items"]]
    assert len(ids) == len(set(ids))
    by_title = {i["title"]: i for i in doc["items"]}
    assert by_title["Parliament passes the budget"]["_aggregator"]["story"] == "s1"
    segs = by_title["பொதுமக்களுக்கு SLAF அறிவுறுத்தல்"]["_aggregator"]["segments"]
    assert [s["lang"] for s in segs] == ["ta", "en", "ta"]


def test_atom_well_formed(built):
    out, _ = built
    for rel, lang in (("atom.xml", "en"), ("ta/atom.xml", "ta"), ("si/atom.xml", "si")):
        root = ET.parse(out / rel).getroot()
        assert root.tag == f"{ATOM}feed"
        for tag in ("id", "title", "updated"):
            assert root.find(f"{ATOM}{tag}") is not None
        entries = root.findall(f"{ATOM}entry")
        assert entries
        for e in entries:
            for tag in ("id", "title", "updated", "author"):
                assert e.find(f"{ATOM}{tag}") is not None, tag
            assert e.get(XML_LANG) in ("en", "ta", "si")
            if rel != "atom.xml":
                assert e.get(XML_LANG) == lang
    langs = {e.get(XML_LANG) for e in ET.parse(out / "atom.xml").getroot().iter(f"{ATOM}entry")}
    assert langs == {"en", "ta", "si"}


def test_full_content(tmp_path):
    data = site_data(entries=(entry(1, summary_html="<p>short</p>",
                                    content_html="<p>the whole article</p>"),))
    out = tmp_path / "s"
    build_site(data, site_config(out, full_content=True), now=NOW)
    html = (out / "index.html").read_text()
    assert "the whole article" in html and "Read more" not in html


def test_read_more_only_where_there_is_more(tmp_path):
    # headline-only feeds (the Tamil and Sinhala papers): the title links out, no empty "read more"
    data = site_data(entries=(entry(1, title="Headline only", summary_html=""),
                              entry(2, title="With a summary", summary_html="<p>Some text.</p>")))
    out = tmp_path / "s"
    build_site(data, site_config(out), now=NOW)
    html = (out / "index.html").read_text()
    assert html.count('class="more"') == 1
    assert "https://news.example/1" in html and "https://news.example/2" in html


def test_pagination_is_stable(tmp_path):
    out = tmp_path / "s"
    many = tuple(entry(100 + i, guid=f"p{i}", title=f"Paged {i}", topic="sports",
                       published=NOW - timedelta(hours=i)) for i in range(23))
    cfg = site_config(out, per_page=5, days=30)
    build_site(site_data(entries=many), cfg, now=NOW)
    # 23 items, pages of 5 from the oldest: en/page/1..3 hold 15, the first page 8
    assert sorted(p.name for p in (out / "en/page").iterdir()) == ["1.html", "2.html", "3.html"]
    front = (out / "en/index.html").read_text()
    assert front.count('class="entry"') == 8 and 'href="../en/page/3.html"' in front
    oldest = (out / "en/page/1.html").read_text()
    assert "Paged 22<" in oldest and 'rel="prev" href="../../en/page/2.html"' in oldest
    # a feed's and a day's older pages sit beside their first page, not in folders of their own
    assert sorted(p.name for p in (out / "feeds").glob("daily-news*")) == [
        "daily-news.html", "daily-news.page-1.html", "daily-news.page-2.html",
        "daily-news.page-3.html"]
    assert [p for p in (out / "feeds").iterdir() if p.is_dir()] == []
    feed_front = (out / "feeds" / "daily-news.html").read_text()
    assert 'rel="next" href="../feeds/daily-news.page-3.html"' in feed_front
    assert ('rel="prev" href="../feeds/daily-news.page-2.html"'
            in (out / "feeds" / "daily-news.page-1.html").read_text())
    day = sorted((out / "archive").glob("2024-06-0*.page-1.html"))
    assert day and [p for p in (out / "archive").iterdir() if p.is_dir()] == []
    before = {p: p.stat().st_mtime_ns for p in (out / "en/page").iterdir()}
    new = entry(99, guid="new", title="Brand new", topic="sports", published=NOW)
    result = build_site(site_data(entries=many + (new,)), cfg, now=NOW)
    assert {p: p.stat().st_mtime_ns for p in (out / "en/page").iterdir()} == before
    assert "Brand new" in (out / "index.html").read_text()
    assert "Brand new" in (out / "en/index.html").read_text()
    # per interface language: the 6 listings holding it, topics/index, feeds.html (counts)
    assert result.pages_rendered <= 8 * 3


def test_unchanged_pages_not_rewritten(tmp_path):
    out = tmp_path / "s"
    cfg = site_config(out)
    build_site(site_data(), cfg, now=NOW, extra_files={"opml.xml": "<opml/>"})
    # the search index is left out of the last check: Pagefind's files are not byte-for-byte the
    # same when it indexes the same entries again
    stamps = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in out.rglob("*") if p.is_file()
              and p.name != ".aggregator-manifest.json"}
    index_files = {p for p in stamps if "pagefind" in p.relative_to(out).parts}
    assert index_files
    os.utime(out / "index.html", ns=(1, 1))
    stamps[out / "index.html"] = (1, stamps[out / "index.html"][1])
    result = build_site(site_data(), cfg, now=NOW, extra_files={"opml.xml": "<opml/>"})
    assert result.pages_written == 0 and result.pages_rendered == 0
    after = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in stamps}
    assert after == stamps
    # without the manifest every page is rendered again, but equal bytes are still not written
    (out / ".aggregator-manifest.json").unlink()
    result = build_site(site_data(), cfg, now=NOW, extra_files={"opml.xml": "<opml/>"})
    assert result.pages_rendered > 0 and result.pages_written <= len(index_files)
    assert ({p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in stamps if p not in index_files}
            == {p: v for p, v in stamps.items() if p not in index_files})


def test_new_entry_rewrites_only_affected_pages(tmp_path):
    out = tmp_path / "s"
    cfg = site_config(out)
    build_site(site_data(), cfg, now=NOW)
    new = entry(0, guid="new", title="Fresh news", topic="sports", published=NOW)
    result = build_site(site_data(entries=ENTRIES + (new,)), cfg, now=NOW)
    assert 0 < result.pages_written < result.pages_unchanged
    assert "Fresh news" in (out / "ui/si/topics/sports/index.html").read_text()
    assert "Fresh news" not in (out / "topics/politics/index.html").read_text()


def test_crash_mid_render_keeps_old_site(tmp_path, monkeypatch):
    out = tmp_path / "s"
    cfg = site_config(out)
    build_site(site_data(), cfg, now=NOW)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    import aggregator.render as render
    calls = {"n": 0}
    real = render._Context.render

    def dying(self, page):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt("killed mid-render")
        return real(self, page)

    monkeypatch.setattr(render._Context, "render", dying)
    new = entry(0, guid="new", title="Fresh news", topic="sports", published=NOW)
    with pytest.raises(KeyboardInterrupt):
        build_site(site_data(entries=ENTRIES + (new,)), cfg, now=NOW)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    # no temp folder left behind; the build lock stays beside the output folder
    assert sorted(p.name for p in tmp_path.iterdir()) == [".s.lock", "s"]


def test_foreign_files_kept_stale_pages_dropped(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    (out / "CNAME").write_text("digest.example")
    build_site(site_data(), site_config(out), now=NOW)
    assert (out / "feeds/old-blog.html").exists()
    feeds = tuple(f for f in FEEDS if f.source.id != "old-blog")
    build_site(site_data(feeds=feeds), site_config(out), now=NOW)
    assert (out / "CNAME").read_text() == "digest.example"
    assert not (out / "feeds/old-blog.html").exists()


def test_ui_language_main_is_configurable(tmp_path):
    out = tmp_path / "s"
    build_site(site_data(), site_config(out, ui_language="si", ui_languages=("si", "en")),
               now=NOW)
    assert parse(out / "index.html").html_lang == "si"
    assert parse(out / "ui/en/index.html").html_lang == "en"
    assert not (out / "ui/ta").exists()


def test_output_must_be_a_folder(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(RenderError):
        build_site(site_data(), site_config(f), now=NOW)


def test_default_templates_dir():
    assert (default_templates_dir() / "base.html").is_file()


def test_templates_dir_argument(tmp_path):
    tdir = tmp_path / "t"
    import shutil
    shutil.copytree(default_templates_dir(), tdir)
    (tdir / "index.html").write_text((tdir / "index.html").read_text().replace(
        "{% block content %}", '{% block content %}<p class="custom"></p>'))
    out = tmp_path / "s"
    build_site(site_data(), site_config(out), now=NOW, templates_dir=tdir)
    assert 'class="custom"' in (out / "index.html").read_text()


def test_empty_site(tmp_path):
    out = tmp_path / "s"
    build_site(site_data(entries=(), feeds=(), topics=()), site_config(out), now=NOW)
    assert "Nothing here yet." in (out / "index.html").read_text()
    assert json.loads((out / "feed.json").read_text())["items"] == []
    ET.parse(out / "atom.xml")


def test_window_falls_back_to_latest_days(tmp_path):
    out = tmp_path / "s"
    build_site(site_data(), site_config(out), now=NOW + timedelta(days=365))
    assert "Parliament passes the budget" in (out / "index.html").read_text()


def test_sigkill_mid_render_keeps_old_site(tmp_path):
    """A real kill (no cleanup code runs): the old site stays whole; the next build tidies up."""
    import signal
    import subprocess
    import sys
    import time
    out = tmp_path / "s"
    script = f"""
import sys
sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1] / 'benchmarks')!r}]
from render import synthetic, NOW
from aggregator.render import build_site
from render_data import site_config
build_site(synthetic(int(sys.argv[1]), 30, 30), site_config(__import__('pathlib').Path({str(out)!r})), now=NOW)
"""
    subprocess.run([sys.executable, "-c", script, "300"], check=True)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    proc = subprocess.Popen([sys.executable, "-c", script, "3000"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tmps = list(tmp_path.glob(".s.tmp-*"))
        if tmps and sum(1 for _ in tmps[0].rglob("*.html")) > 30:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(tmp_path.glob(".s.tmp-*")), "the build finished before it could be killed"
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    build_site(site_data(), site_config(out), now=NOW)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".s.lock", "s"]


def test_cached_date_and_time_strings_match_babel():
    # Translator caches by local day and local minute: the strings must be Babel's own
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from babel.dates import format_date, format_time

    from aggregator import i18n

    tz = ZoneInfo("Asia/Colombo")
    for ui in ("en", "ta", "si"):
        tr = i18n.Translator(ui, tz)
        pattern = "B h:mm" if ui == "ta" else "short"
        t = datetime(2026, 3, 1, 0, 3, 17, tzinfo=timezone.utc)
        for _ in range(700):  # every 53 minutes over about 26 days, twice each
            for _twice in range(2):
                want_time = format_time(t, pattern, tzinfo=tz, locale=ui)
                want_day = format_date(t.astimezone(tz).date(), "medium", locale=ui)
                if ui == "si":
                    want_day = i18n._si_months(want_day)
                assert tr.time(t) == want_time
                assert tr.date(t, "medium") == want_day
            t += timedelta(minutes=53, seconds=11)


def test_an_entry_dated_without_a_time_shows_its_day_not_a_made_up_time(tmp_path):
    # feeds that give "2024-06-03" are stored at midnight UTC: in Colombo that would read 5:30 AM
    from datetime import datetime, timezone

    day_only = entry(90, title="Dated by day", published=datetime(2024, 6, 3, tzinfo=timezone.utc))
    timed = entry(91, title="Dated to the minute",
                  published=datetime(2024, 6, 3, 0, 1, tzinfo=timezone.utc))
    out = tmp_path / "site"
    build_site(site_data(entries=(day_only, timed)), site_config(out, timezone="Asia/Colombo"),
               now=NOW)
    html = (out / "archive/2024-06-03.html").read_text(encoding="utf-8")
    assert '<time datetime="2024-06-03" title="Monday, June 3, 2024">Jun 3, 2024</time>' in html
    assert '<time datetime="2024-06-03T00:01:00+00:00" title="Jun 3, 2024, 5:31\u202fAM">5:31\u202fAM</time>' in html
    assert "5:30" not in html


def test_feeds_page_last_update_is_the_newest_entry(tmp_path):
    # "Last update" is the feed's news (its newest entry), not our last fetch; a feed that gives
    # dates without a time shows the date alone, not a made-up 5:30 AM in Colombo
    from datetime import datetime, timezone

    day_only = entry(95, feed_id="virakesari", title="Dated by day", lang="ta",
                     published=datetime(2024, 5, 30, tzinfo=timezone.utc))
    timed = entry(96, title="Timed", published=datetime(2024, 6, 2, 8, 15, tzinfo=timezone.utc))
    older = entry(97, guid="g97", title="Older", published=datetime(2024, 6, 1, tzinfo=timezone.utc))
    out = tmp_path / "site"
    build_site(site_data(entries=(day_only, timed, older)),
               site_config(out, timezone="Asia/Colombo"), now=NOW)
    html = (out / "feeds.html").read_text(encoding="utf-8")
    daily = html[html.index("feeds/daily-news.html"):html.index("feeds/virakesari.html")]
    assert '<time datetime="2024-06-02T08:15:00+00:00">Jun 2, 2024, 1:45\u202fPM</time>' in daily
    tamil = html[html.index("feeds/virakesari.html"):html.index("feeds/adaderana.html")]
    assert '<time datetime="2024-05-30">May 30, 2024</time>' in tamil and "5:30" not in tamil
    # the feed's last fetch (NOW - 1 h for daily-news) is not what it shows
    assert "Jun 3, 2024" not in daily
