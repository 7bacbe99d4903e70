"""Frozen dataclasses exchanged at every stage boundary.

The stages (fetch, parse, language, topics, store, render) never import one
another; they only exchange these values. Times are timezone-aware UTC
``datetime`` objects; languages are ISO 639-1 codes (``und`` when unknown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping, Sequence


@dataclass(frozen=True)
class FeedSource:
    """One feed as configured in config.yaml."""

    id: str  # stable slug, unique in the config; names the feed in the store and on the site
    url: str  # http(s) URL, file:// URL or absolute local path (relative paths resolved by config)
    name: str  # display name
    language: str | None = None  # the config's language hint (a prior, not the answer)
    topics: tuple[str, ...] = ()  # topic ids the config assigns to every entry of this feed


@dataclass(frozen=True)
class FetchRequest:
    """One download to make: the feed, the URL to ask and the validators to send back."""

    source: FeedSource
    url: str  # the configured URL, or the last permanent redirect target
    etag: str | None = None  # sent as If-None-Match
    last_modified: str | None = None  # sent as If-Modified-Since


# Kinds of failure a feed can have: the public pages say these in words (the error's text, which
# may name local paths or addresses, goes to the log and ``aggregator status`` only).
ERROR_KINDS = ("timeout", "dns", "refused", "connect", "tls", "http", "gone", "too-large",
               "redirect", "blocked", "not-a-feed", "file", "store", "other")


@dataclass(frozen=True)
class FetchResult:
    """What one download attempt of one feed gave."""

    feed_id: str  # FeedSource.id
    url: str  # the URL that was requested
    fetched_at: datetime  # when the attempt started
    status: int | None = None  # final HTTP status (200 for a local file), None when no answer
    content: bytes | None = None  # the body, None on 304 or failure
    headers: Mapping[str, str] = field(default_factory=dict)  # response headers, lower-case names
    final_url: str | None = None  # URL after redirects
    permanent_url: str | None = None  # new URL announced by a 301/308 chain, None otherwise
    etag: str | None = None  # ETag to send back next time
    last_modified: str | None = None  # Last-Modified to send back next time
    not_modified: bool = False  # the server answered 304
    gone: bool = False  # the server answered 410
    retry_after: float | None = None  # seconds the server asked us to wait (429/503), clamped
    error: str | None = None  # human-readable failure, None on success or 304
    error_kind: str | None = None  # what kind of failure (ERROR_KINDS), for the public pages
    elapsed: float = 0.0  # seconds spent

    @property
    def ok(self) -> bool:
        """True when the feed answered with content or 304."""
        return self.error is None and (self.not_modified or self.content is not None)


@dataclass(frozen=True)
class ParsedEntry:
    """One entry as the feed gave it, before any enrichment."""

    guid: str  # the entry's id (guid/id), falling back to link, then a content hash
    title: str  # plain text
    link: str | None = None  # absolute URL of the original
    summary: str = ""  # HTML (untrusted) or text
    content: str = ""  # full HTML content (untrusted), "" when the feed has none
    author: str | None = None
    published: datetime | None = None  # published, else updated, UTC
    updated: datetime | None = None
    categories: tuple[str, ...] = ()  # the feed's own tags/categories
    language: str | None = None  # declared language (xml:lang / feed <language>), raw
    base: str | None = None  # base URL for resolving relative links in the HTML
    image: str | None = None  # the picture the feed names (media:thumbnail, image enclosure...)


@dataclass(frozen=True)
class ParsedFeed:
    """A whole feed document, parsed."""

    title: str
    link: str | None = None  # the site's home page
    language: str | None = None  # declared feed language, raw
    entries: tuple[ParsedEntry, ...] = ()
    warning: str | None = None  # set when the document was malformed but partly readable


@dataclass(frozen=True)
class Segment:
    """A run of text in one language, as offsets into ``Detection.text``."""

    start: int
    end: int
    lang: str


@dataclass(frozen=True)
class Detection:
    """The language of a text."""

    lang: str  # ISO 639-1 (en, ta, si, de...), "und" when there is too little signal
    confidence: float  # 0..1
    script: str = "Zyyy"  # ISO 15924 of the dominant script: Latn, Taml, Sinh, Deva... Zyyy = none
    romanized: bool = False  # Tamil or Sinhala written in Latin letters
    segments: tuple[Segment, ...] = ()  # runs of different languages, empty for one-language text
    legacy_encoding: str | None = None  # bamini, tscii, fm-abhaya... when the text was one
    text: str = ""  # the normalised text (converted to Unicode for legacy encodings); offsets refer here


@dataclass(frozen=True)
class TopicDef:
    """A configured topic."""

    id: str  # slug used in URLs and feed.json tags
    names: Mapping[str, str]  # display name per UI language (en, ta, si)
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # per language


@dataclass(frozen=True)
class TopicAssignment:
    """The topic chosen for an entry and why."""

    topic: str  # a TopicDef.id or "other"
    confidence: float  # 0..1
    why: str  # the rule or keywords that decided, for users tuning their config


@dataclass(frozen=True)
class Entry:
    """An entry ready to store and render: parsed, detected, classified, sanitised."""

    feed_id: str
    guid: str
    title: str  # plain text, converted to Unicode when it was in a legacy font encoding
    link: str | None
    summary_html: str  # sanitised HTML excerpt, safe to mark |safe
    content_html: str  # sanitised full HTML, "" when none
    author: str | None
    published: datetime  # falls back to the first time we saw it
    lang: str
    lang_confidence: float
    topic: str
    topic_confidence: float = 0.0
    topic_why: str = ""
    categories: tuple[str, ...] = ()
    romanized: bool = False
    legacy_encoding: str | None = None
    original_title: str | None = None  # the title as the feed gave it, when it was converted
    segments: tuple[Segment, ...] = ()  # language runs of title + text, when mixed
    story: str | None = None  # story id shared by entries about the same event
    image: str | None = None  # absolute http(s) URL of a picture for the thumbnail, or None
    id: int | None = None  # row id once stored


@dataclass(frozen=True)
class FeedState:
    """What the store remembers about one feed between runs."""

    feed_id: str
    url: str  # URL as configured
    final_url: str | None = None  # URL after the last redirects
    moved_to: str | None = None  # permanent redirect target not yet applied to the config
    title: str | None = None  # the feed's own title
    site_link: str | None = None  # the feed's home page
    language: str | None = None  # the language most of its entries are in
    etag: str | None = None
    last_modified: str | None = None
    last_status: int | None = None
    last_error: str | None = None  # the last failure in full (log and `aggregator status` only)
    error_kind: str | None = None  # its kind (ERROR_KINDS): what the public pages say
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    next_due: datetime | None = None
    hold_until: datetime | None = None  # the server asked us not to come back before (Retry-After)
    failures: int = 0  # consecutive failures, drives back-off
    gone: bool = False  # the server said 410
    entry_count: int = 0


@dataclass(frozen=True)
class RunSummary:
    """What one update run did, for the CLI's summary line."""

    feeds_ok: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    feeds_skipped: int = 0  # not due yet, or gone
    feeds_elsewhere: int = 0  # due, but fetched by another run sharing the store
    new_entries: int = 0
    pages_written: int = 0
    failures: tuple[tuple[str, str], ...] = ()  # (feed id, error)
    pruned_entries: int = 0  # entries deleted by retention (storage.keep_days)


@dataclass(frozen=True)
class FeedView:
    """A feed as the site shows it: its configuration and its stored state."""

    source: FeedSource
    state: FeedState | None = None


@dataclass(frozen=True)
class SiteData:
    """Everything the renderer needs, read from the store by the pipeline."""

    entries: tuple[Entry, ...]  # newest first
    feeds: tuple[FeedView, ...]
    topics: tuple[TopicDef, ...]  # configured topics, in config order ("other" is implicit)
    generated_at: datetime
    # When set, entries were read without their full HTML (content_html ""): this loads it,
    # entry id -> content_html, for the few entries that need it (Atom, JSON Feed)
    load_content: Callable[[Sequence[int]], Mapping[int, str]] | None = None


# -- what the store gives back (aggregator.store.Store) --------------------------------------
# An entry's ``id`` is its key in the store that gave it: opaque, for handing back to that
# store (set_topics, set_stories...), never ordered or compared across stores (``migrate``
# does not keep it).


@dataclass(frozen=True)
class TopicRow:
    """A stored entry as re-filing reads it (what decides its topic, and the topic it has)."""

    id: int  # the entry's key in its store
    feed_id: str
    title: str
    content_html: str  # "" when none
    lang: str
    categories: tuple[str, ...]
    features: bytes | None  # the entry's features (story signature and embeddings), as stored
    topic: str
    topic_confidence: float
    topic_why: str


@dataclass(frozen=True)
class StoryRow:
    """A stored entry as story grouping reads it."""

    id: int  # the entry's key in its store
    feed_id: str
    guid: str
    lang: str
    link: str | None
    published: datetime
    features: bytes | None  # as stored; None when unknown
    story: str | None  # its story id, None when it has none
    grouped: bool  # story grouping has seen it (False: stored since, or by a run killed before)


@dataclass(frozen=True)
class EntryText:
    """A stored entry's text and features (for embedding it again)."""

    title: str
    content_html: str
    features: bytes | None


@dataclass(frozen=True)
class StoredEntry:
    """An entry with everything its store keeps about it (what ``migrate`` copies)."""

    entry: Entry  # its ``id`` is the source store's key
    content_hash: str  # tells a changed entry from an unchanged one
    features: bytes | None
    first_seen: datetime  # when a run first stored it
    grouped: bool  # story grouping has seen it


@dataclass(frozen=True)
class Claim:
    """The feeds one worker may fetch now (``Store.claim_feeds``)."""

    feeds: Mapping[str, FeedState | None]  # claimed: feed id -> its state now (None: never fetched)
    settled: tuple[str, ...] = ()  # looked at and no longer due (another worker fetched them)
    waiting: int = 0  # due, but another worker's lease holds them


@dataclass(frozen=True)
class StoreCounts:
    """What a store holds, counted (``migrate`` checks the copy by them)."""

    entries: int
    feeds: int  # feed states
    stories: int  # distinct story ids
    features: int  # entries with stored features
    meta: int  # meta keys
