"""Hostile feeds: every XSS payload in every field a feed can carry never yields executable markup."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from render_data import NOW, site_config, site_data
from xss_check import executable_markup, payloads

from aggregator.language.blocklang import annotate_blocks
from aggregator.markup.sanitize import excerpt_html, sanitize_html
from aggregator.models import Entry, FeedSource, FeedState, FeedView, Segment, TopicDef
from aggregator.render import build_site


def hostile_site():
    ps = payloads()
    feeds, entries = [], []
    for i, p in enumerate(ps):
        fid = f"feed-{i}"
        feeds.append(FeedView(
            FeedSource(id=fid, url=p if i % 2 else f"https://x.example/{i}", name=p,
                       language="ta" if i % 3 == 0 else None),
            FeedState(feed_id=fid, url=p, final_url=p, moved_to=p, title=p, site_link=p,
                      language=p if i % 5 == 0 else "en", last_error=p, failures=i % 3,
                      last_attempt=NOW, last_success=NOW - timedelta(days=1), gone=i % 7 == 0)))
        body = sanitize_html(f"<p>{p}</p>{p}", p if i % 2 else "https://x.example/a/")
        summary = annotate_blocks(excerpt_html(body, 80), lambda t: "si", "en")
        entries.append(Entry(
            feed_id=fid, guid=p, title=p, link=p, summary_html=summary, content_html=body,
            author=p, published=NOW - timedelta(minutes=i * 37), lang="en" if i % 4 else p,
            lang_confidence=0.5, topic="politics" if i % 2 else p, topic_why=p,
            categories=(p, "x"), original_title=p, legacy_encoding=p if i % 6 == 0 else None,
            segments=(Segment(0, 3, p), Segment(3, len(p), "ta")), story=p if i % 3 else None))
    topics = (TopicDef(id="politics", names={"en": ps[0], "ta": ps[1], "si": ps[2]}),)
    return site_data(entries=tuple(entries), feeds=tuple(feeds), topics=topics)


@pytest.fixture(scope="module", params=[False, True], ids=["excerpts", "full-content"])
def hostile(tmp_path_factory, request):
    out = tmp_path_factory.mktemp("xss") / "site"
    build_site(hostile_site(), site_config(out, title="</title><script>alert(1)</script>",
                                          per_page=10, full_content=request.param), now=NOW)
    return out


class _Head(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_no_executable_markup_in_any_page(hostile):
    pages = sorted(hostile.rglob("*.html"))
    assert len(pages) > 50
    for page in pages:
        html = page.read_text(encoding="utf-8")
        if page.name == "search.html":
            html = _our_search_page(html)
        head, body = html.split("<body>", 1)
        head = head.replace('<link rel="icon" href="data:,">', "", 1)  # ours: no favicon request
        assert executable_markup(body) == [], page
        # the head holds only our own meta/link elements
        assert executable_markup(head, allow={"meta", "link"}) == [], page
        h = _Head()
        h.feed(head)
        metas = [a for t, a in h.tags if t == "meta"]
        assert len(metas) == 6
        assert all(a.get("http-equiv") in (None, "Content-Security-Policy") for a in metas)
        for t, a in h.tags:
            if t == "link" and a.get("rel") != "icon":
                assert not a["href"].startswith(("http", "//", "javascript", "data")), a
        assert head.count("<script") == 0 and body.count("<script") == 0


def _our_search_page(html: str) -> str:
    """The search page carries our own script, form and the script's words (JSON, escaped for
    a <script> element): checked here, then taken out for the checks every page gets."""
    import re

    head_script = re.search(r'<script type="module" src="(?:\.\./)*search\.js"></script>\n', html)
    assert head_script and html.count("<script") == 2, html
    html = html.replace(head_script.group(0), "")
    form = re.search(r'<form class="search-form".*?</form>\n', html, re.DOTALL)
    assert form and executable_markup(form.group(0), allow={"form", "input", "select",
                                                           "button"}) == []
    assert form.group(0).count("<form") == 1 and form.group(0).count("<input") == 1
    html = html.replace(form.group(0), "")
    words = re.search(r'<script type="application/json" id="search-words">(.*?)</script>', html,
                      re.DOTALL)
    assert words and "<" not in words.group(1)  # tojson escapes <, > and & as \u003c...
    json.loads(words.group(1))
    return html.replace(words.group(0), "")


def test_titles_escaped(hostile):
    html = (hostile / "index.html").read_text(encoding="utf-8")
    assert "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x onerror" not in html


def test_feeds_out_stay_valid(hostile):
    for rel in ("atom.xml", "en/atom.xml", "ta/atom.xml", "si/atom.xml"):
        ET.parse(hostile / rel)
    doc = json.loads((hostile / "feed.json").read_text(encoding="utf-8"))
    assert doc["items"]
    for item in doc["items"]:
        assert executable_markup(item["content_html"]) == []
        assert item.get("url", "https:").startswith(("http:", "https:"))
