"""A small fixed SiteData for render tests (golden pages, XSS, publishing)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aggregator.config import SiteConfig
from aggregator.models import Entry, FeedSource, FeedState, FeedView, Segment, SiteData, TopicDef

NOW = datetime(2024, 6, 3, 12, 0, tzinfo=timezone.utc)

TOPICS = (
    TopicDef(id="politics", names={"en": "Politics", "ta": "அரசியல்", "si": "දේශපාලනය"}),
    TopicDef(id="sports", names={"en": "Sports", "ta": "விளையாட்டு", "si": "ක්‍රීඩා"}),
)

FEEDS = (
    FeedView(FeedSource(id="daily-news", url="https://news.example/feed.xml", name="Daily News",
                        language="en"),
             FeedState(feed_id="daily-news", url="https://news.example/feed.xml",
                       site_link="https://news.example/", language="en", last_status=200,
                       last_attempt=NOW - timedelta(hours=1), last_success=NOW - timedelta(hours=1),
                       entry_count=3)),
    FeedView(FeedSource(id="virakesari", url="https://ta.example/rss", name="வீரகேசரி",
                        language="ta"),
             FeedState(feed_id="virakesari", url="https://ta.example/rss", language="ta",
                       last_error="HTTP 500 Internal Server Error", error_kind="http",
                       last_status=500, failures=3, last_attempt=NOW - timedelta(hours=1),
                       last_success=NOW - timedelta(days=1, hours=2))),
    FeedView(FeedSource(id="adaderana", url="https://si.example/rss", name="අද දෙරණ",
                        language="si"),
             FeedState(feed_id="adaderana", url="https://si.example/rss", language="si",
                       moved_to="https://si.example/new-rss", last_attempt=NOW,
                       last_success=NOW)),
    FeedView(FeedSource(id="old-blog", url="https://old.example/feed", name="Old Blog"),
             FeedState(feed_id="old-blog", url="https://old.example/feed", gone=True,
                       last_attempt=NOW, last_status=410, last_error="HTTP 410 Gone",
                       failures=1)),
    FeedView(FeedSource(id="new-feed", url="https://new.example/feed", name="New Feed")),
)


def _segments(title: str, other: str, lang: str, other_lang: str) -> tuple[Segment, ...]:
    i = title.index(other)
    j = i + len(other)
    return (Segment(0, i, lang), Segment(i, j, other_lang), Segment(j, len(title), lang))


def entry(n: int, **kw) -> Entry:
    base = dict(feed_id="daily-news", guid=f"g{n}", title=f"Entry {n}",
                link=f"https://news.example/{n}", summary_html=f"<p>Summary {n}.</p>",
                content_html="", author=None, published=NOW - timedelta(hours=n),
                lang="en", lang_confidence=0.99, topic="other")
    base.update(kw)
    return Entry(**base)


ENTRIES = (
    entry(1, title="Parliament passes the budget", topic="politics", author="A. Writer",
          summary_html='<p>The budget passed <a href="https://news.example/b" '
                       'rel="noopener noreferrer nofollow">after a long debate</a>.</p>',
          story="s1"),
    entry(2, feed_id="virakesari", title="வரவு செலவுத் திட்டம் நிறைவேற்றம்", lang="ta",
          topic="politics", link="https://ta.example/2", story="s1",
          summary_html="<p>நாடாளுமன்றத்தில் வரவு செலவுத் திட்டம் நிறைவேற்றப்பட்டது.</p>"),
    entry(3, feed_id="adaderana", title="අයවැය සම්මත විය", lang="si", topic="politics",
          link="https://si.example/3", story="s1",
          summary_html="<p>පාර්ලිමේන්තුවේ අයවැය සම්මත විය.</p>"),
    entry(4, feed_id="virakesari", title="பொதுமக்களுக்கு SLAF அறிவுறுத்தல்", lang="ta",
          topic="other", link="https://ta.example/4",
          segments=_segments("பொதுமக்களுக்கு SLAF அறிவுறுத்தல்", "SLAF", "ta", "en"),
          summary_html='<p>விமானப்படை அறிவிப்பு.</p><p lang="en">The Air Force said so.</p>'),
    entry(5, title="Cricket: Sri Lanka win", topic="sports",
          summary_html='<p>A video:</p><iframe src="https://www.youtube.com/embed/xyz" '
                       'sandbox="allow-scripts allow-same-origin allow-presentation allow-popups" '
                       'loading="lazy" referrerpolicy="strict-origin-when-cross-origin" '
                       'title="Embedded video"></iframe>'),
    entry(30, feed_id="adaderana", title="ක්‍රිකට් තරගය", lang="si", topic="sports",
          link="https://si.example/30", summary_html="<p>ශ්‍රී ලංකාව ජය ගත්තේය.</p>",
          image="https://si.example/30.jpg"),
    entry(50, title="No link entry", link=None, topic="sports"),
    entry(80, title="javascript link", link="javascript:alert(1)", topic="other"),
)


def site_data(entries=ENTRIES, feeds=FEEDS, topics=TOPICS) -> SiteData:
    return SiteData(entries=tuple(sorted(entries, key=lambda e: e.published, reverse=True)),
                    feeds=feeds, topics=topics, generated_at=NOW)


def site_config(output: Path, **kw) -> SiteConfig:
    return replace(SiteConfig(title="Lanka Digest", output=output, per_page=5, days=2), **kw)
