"""Titles are plain text: markup in a title the feed marked as HTML is removed."""

from __future__ import annotations

from aggregator.sources.parse import parse_feed

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:t</id>
<entry><id>urn:1</id><title type="html">&lt;b&gt;Budget&lt;/b&gt; passed &lt;script&gt;alert(1)&lt;/script&gt;&amp;amp; signed</title>
<content type="html">&lt;p&gt;Body&lt;script&gt;alert(2)&lt;/script&gt;&lt;/p&gt;</content></entry>
<entry><id>urn:2</id><title type="text">a &lt;b&gt; is not a tag here</title></entry>
</feed>"""


def test_html_title_loses_its_markup_text_title_keeps_its_text():
    entries = parse_feed(ATOM.encode(), {"content-type": "application/atom+xml"}).entries
    assert entries[0].title == "Budget passed & signed"
    assert entries[1].title == "a <b> is not a tag here"
    # the body is left for sanitize (nh3) to clean: nothing is lost before it
    assert "Body" in entries[0].content
