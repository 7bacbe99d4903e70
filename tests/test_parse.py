"""The feedparser adapter on real feeds: every format, malformed input, JSON Feed."""

import html
from datetime import datetime, timezone
from pathlib import Path

import pytest

from aggregator.errors import ParseError
from aggregator.sources.parse import parse_feed

ROOT = Path(__file__).resolve().parents[1]
FEEDS = ROOT / "examples" / "feeds"


@pytest.mark.parametrize("name, count, first_title", [
    ("npr-world.xml", 10, "U.S. releases new details"),
    ("kottke-atom.xml", 60, "Reimagining the Origins of Winter Sports"),
    ("davidbau-rdf.xml", 15, "The Art of Wanting"),
    ("jsonfeed-humanwhocodes.json", 10, "Using your own Supabase signing keys"),
    ("ta-virakesarilk.xml", 93, "தங்காலை"),
])
def test_real_feeds(name, count, first_title):
    parsed = parse_feed((FEEDS / name).read_bytes(), {}, (FEEDS / name).as_uri())
    assert len(parsed.entries) == count
    assert parsed.entries[0].title.startswith(first_title)
    assert all(e.guid for e in parsed.entries)
    assert len({e.guid for e in parsed.entries}) == count
    assert all(e.published is not None and e.published.tzinfo for e in parsed.entries)


def test_json_feed_fields():
    parsed = parse_feed((FEEDS / "jsonfeed-humanwhocodes.json").read_bytes(), {})
    e = parsed.entries[0]
    assert e.link.startswith("https://")
    assert "Supabase" in e.categories
    assert e.content.startswith("<") and len(e.content) > 1000


def test_malformed_keeps_what_can_be_read():
    text = (FEEDS / "npr-world.xml").read_bytes()
    truncated = text[: len(text) * 2 // 3]
    parsed = parse_feed(truncated, {"content-type": "application/rss+xml"})
    assert parsed.warning
    assert 1 <= len(parsed.entries) < 10


def test_not_a_feed():
    with pytest.raises(ParseError):
        parse_feed(b"<html><body>hello</body></html>", {"content-type": "text/html"})
    with pytest.raises(ParseError):
        parse_feed(b"{not json", {"content-type": "application/feed+json"})


def test_http_charset_is_used():
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            '<item><title>Café</title><guid>1</guid></item></channel></rss>').encode("iso-8859-1")
    parsed = parse_feed(body, {"content-type": "application/rss+xml; charset=iso-8859-1"})
    assert parsed.entries[0].title == "Café"


def test_author_names_not_addresses():
    # Dawn's RSS <author> is "none@none.com (Reuters)": readers want "Reuters"
    dawn = parse_feed((FEEDS / "dawn-world.xml").read_bytes(), {}, None)
    assert [e.author for e in dawn.entries[:3]] == ["Reuters", "News Desk", "AFP"]
    assert not any("@" in (e.author or "") for e in dawn.entries)
    rss = (b'<rss version="2.0"><channel><title>t</title><item><title>a</title><link>https://x.org/a</link>'
           b'<author>someone@example.org</author></item></channel></rss>')
    assert parse_feed(rss, {}, None).entries[0].author == "someone@example.org"


def test_relative_urls_resolved_against_the_entry_base():
    # feedparser's own URL pass is off; the sanitiser resolves against ParsedEntry.base
    from aggregator.markup.sanitize import sanitize_html

    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/"><title>t</title>'
            b'<entry xml:base="https://blog.example/2026/11/"><id>1</id><title>a</title>'
            b'<content type="html">&lt;p&gt;&lt;a href="post.html"&gt;x&lt;/a&gt;'
            b'&lt;img src="/img/a.png"&gt;&lt;/p&gt;</content></entry></feed>')
    e = parse_feed(atom, {}, "https://feeds.example/atom.xml").entries[0]
    html = sanitize_html(e.content, e.base)
    assert 'href="https://blog.example/2026/11/post.html"' in html
    assert 'src="https://blog.example/img/a.png"' in html
    rss = (b'<rss version="2.0"><channel><title>t</title><link>https://news.example/</link><item>'
           b'<title>a</title><description>&lt;a href="../b/c.html"&gt;c&lt;/a&gt;</description>'
           b'</item></channel></rss>')
    e = parse_feed(rss, {}, "https://news.example/feeds/rss.xml").entries[0]
    assert 'href="https://news.example/b/c.html"' in sanitize_html(e.summary, e.base)


# -- hostile values are clamped here, once ------------------------------------------------------

def _rss(items: str, channel_link: str = "https://news.example/") -> bytes:
    return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
            f"<link>{channel_link}</link>{items}</channel></rss>").encode()


@pytest.mark.parametrize("date,kept", [
    ("Mon, 01 Jan 0001 00:00:00 GMT", False),
    ("Sun, 31 Dec 1989 23:59:59 GMT", False),
    ("Mon, 01 Jan 1990 00:00:00 GMT", True),
    ("Tue, 02 Dec 2025 10:00:00 +0530", True),
    ("Thu, 04 Dec 2025 09:00:00 GMT", True),  # 23 hours ahead of the clock: a time zone slip
    ("Fri, 05 Dec 2025 11:00:00 GMT", False),  # more than a day ahead
    ("Fri, 31 Dec 9999 23:59:59 -1200", False),
])
def test_dates_out_of_range_are_missing(date, kept):
    now = datetime(2025, 12, 3, 10, 0, tzinfo=timezone.utc)
    item = f"<item><title>x</title><guid>g</guid><pubDate>{date}</pubDate></item>"
    e = parse_feed(_rss(item), {}, None, now=now).entries[0]
    assert (e.published is not None) is kept


def test_json_feed_dates_out_of_range_are_missing():
    doc = ('{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ['
           '{"id": "1", "title": "a", "date_published": "0001-01-01T00:00:00+05:00"},'
           '{"id": "2", "title": "b", "date_published": "9999-12-31T23:00:00Z"},'
           '{"id": "3", "title": "c", "date_published": "2025-12-01T00:00:00Z"}]}')
    now = datetime(2025, 12, 3, tzinfo=timezone.utc)
    got = [e.published for e in parse_feed(doc.encode(), {}, None, now=now).entries]
    assert got == [None, None, datetime(2025, 12, 1, tzinfo=timezone.utc)]


def test_long_values_are_capped_and_long_ids_stay_distinct():
    from aggregator.sources.parse import MAX_CATEGORIES, MAX_ID, MAX_TEXT

    cats = "".join(f"<category>c{i} {'x' * 2000}</category>" for i in range(80))
    items = "".join(f"<item><title>{'T' * 50_000}</title><author>{'A' * 5000}</author>"
                    f"<guid isPermaLink='false'>{'g' * 5000}{n}</guid>{cats}</item>" for n in (1, 2))
    a, b = parse_feed(_rss(items), {}, None).entries
    assert len(a.title) == MAX_TEXT and a.title.endswith("…")
    assert len(a.author) == MAX_TEXT
    assert len(a.categories) == MAX_CATEGORIES and all(len(c) == MAX_TEXT for c in a.categories)
    assert len(a.guid) == len(b.guid) == MAX_ID and a.guid != b.guid


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,<b>x</b>",
                                  "vbscript:msgbox", "file:///etc/passwd", "https://" + "x" * 5000])
def test_links_that_are_not_web_addresses_are_dropped(link):
    item = f"<item><title>x</title><guid>g</guid><link>{html.escape(link)}</link></item>"
    parsed = parse_feed(_rss(item, channel_link=html.escape(link)), {}, None)
    assert parsed.entries[0].link is None and parsed.link is None
