"""Load and validate config.yaml into one typed, frozen ``Config``.

Every default lives here. A bad file fails at load with the file, the key's
path (``feeds[3].url``), its line, what is wrong and a hint; unknown keys are
errors (typos happen), with a "did you mean" where one is close.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlparse, urlsplit

from .feedurl import feed_url_problem, url_hint
from .models import FeedSource, TopicDef
from .yamlcheck import Checker, kind, read_yaml  # noqa: F401  (read_yaml is re-exported)

from . import __version__

PROJECT_URL = "https://github.com/aggregator-project/aggregator"
DEFAULT_USER_AGENT = f"aggregator/{__version__} (+{PROJECT_URL})"
UI_LANGUAGES = ("en", "ta", "si")


@dataclass(frozen=True)
class SiteConfig:
    """How the static site looks and where it goes."""

    title: str = "Digest"
    base_url: str = ""  # absolute URL the site is published at; "" = relative links only
    output: Path = Path("site")  # output folder (absolute once loaded)
    languages: tuple[str, ...] = ("en", "ta", "si")  # entry languages that get their own page
    ui_language: str = "en"  # language of the interface on the main pages
    ui_languages: tuple[str, ...] = UI_LANGUAGES  # interface translations built (language switcher)
    days: int = 7  # days of entries on the front page
    per_page: int = 50  # entries per page before paginating
    full_content: bool = False  # show full content instead of an excerpt
    excerpt_chars: int = 400  # excerpt length
    timezone: str = "UTC"  # IANA time zone for dates, day headings and archives (e.g. Asia/Colombo)


@dataclass(frozen=True)
class StorageConfig:
    """Where entries are kept."""

    path: Path = Path("aggregator.sqlite3")  # SQLite file (absolute once loaded)
    url: str | None = None  # postgresql://user@host/database: a PostgreSQL store instead of path
    batch: int = 100  # feeds a run claims at a time where several share a PostgreSQL store
    lease: float = 600.0  # seconds a claim lasts unless renewed (a killed run's feeds wait this)
    keep_days: int = 0  # entries published longer ago than this are deleted; 0 = keep them all
    keep_archive: bool = False  # keep the published archive pages of the days pruned (else removed)


@dataclass(frozen=True)
class FetchConfig:
    """How feeds are downloaded."""

    concurrency: int = 20  # downloads at once, over all hosts
    per_host: int = 2  # downloads at once to one host
    timeout: float = 30.0  # seconds for the whole download of one feed
    connect_timeout: float = 10.0  # seconds to connect
    read_timeout: float = 15.0  # seconds of silence while reading
    max_bytes: int = 10_000_000  # body size cap, enforced while streaming (after decompression)
    user_agent: str = DEFAULT_USER_AGENT
    retries: int = 1  # extra attempts on a connection error or timeout within one run
    max_backoff: float = 86_400.0  # longest wait after repeated failures, seconds
    max_retry_after: float = 86_400.0  # clamp for Retry-After / Cache-Control, seconds
    max_redirects: int = 5
    # a redirect or a discovered feed link may lead from a public address into a private one
    allow_private_redirects: bool = False


@dataclass(frozen=True)
class ScheduleConfig:
    """When `aggregator serve` runs the job."""

    interval: float | None = 1800.0  # seconds between runs (used when cron is not set)
    cron: str | None = None  # crontab expression, e.g. "*/30 * * * *"
    jitter: float = 0.1  # at most this share added to a failing feed's back-off (fixed per feed)


@dataclass(frozen=True)
class Config:
    """The whole configuration, passed explicitly to whoever needs a part of it."""

    path: Path  # the config file itself
    site: SiteConfig = field(default_factory=SiteConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    topics: tuple[TopicDef, ...] = ()
    feeds: tuple[FeedSource, ...] = ()

    def with_output(self, output: Path) -> "Config":
        from dataclasses import replace
        return replace(self, site=replace(self.site, output=Path(output).resolve()))


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60] or "feed"


_TOP = {"site": 0, "storage": 0, "fetch": 0, "schedule": 0, "topics": 0, "feeds": 0}
_SITE = {f: 0 for f in SiteConfig.__dataclass_fields__}
_STORAGE = {f: 0 for f in StorageConfig.__dataclass_fields__}
_FETCH = {f: 0 for f in FetchConfig.__dataclass_fields__}
_SCHEDULE = {f: 0 for f in ScheduleConfig.__dataclass_fields__}
_TOPIC = {"id": 0, "names": 0, "keywords": 0}
_FEED = {"url": 0, "name": 0, "id": 0, "language": 0, "topics": 0}


def load_config(path: str | Path) -> Config:
    """Read, validate and resolve ``path``; raises ``ConfigError`` on any problem."""
    path = Path(path).resolve()
    raw = read_yaml(path)
    return parse_config(raw, path)


def parse_config(raw: Any, path: Path) -> Config:
    """Validate an already-parsed YAML tree (see ``load_config``)."""
    c = Checker(path)
    if raw is None:
        raise c.fail("", "the file is empty", "start from the shipped config.yaml")
    # Every problem of the file is reported at once: each section, each topic and each feed
    # is checked even when one before it is wrong (Checker.attempt collects the errors).
    top = c.attempt(c.mapping, raw, "", _TOP, default=None)
    if top is None:
        c.done()
    base = path.parent
    site = c.attempt(_site, c, top.get("site"), base, default=SiteConfig())
    storage = c.attempt(_storage, c, top.get("storage"), base, default=StorageConfig())
    fetch = c.attempt(_fetch, c, top.get("fetch"), default=FetchConfig())
    schedule = c.attempt(_schedule, c, top.get("schedule"), default=ScheduleConfig())
    topics = c.attempt(_topics, c, top.get("topics"), default=())
    feeds = c.attempt(_feeds, c, top.get("feeds"), base, {t.id for t in topics}, default=())
    c.done()
    return Config(path=path, site=site, storage=storage, fetch=fetch, schedule=schedule,
                  topics=topics, feeds=feeds)


def _site(c: Checker, raw: Any, base: Path) -> SiteConfig:
    d = c.mapping(raw, "site", _SITE)
    kw: dict[str, Any] = {}
    for k in ("title", "base_url"):
        if k in d:
            kw[k] = c.string(d[k], f"site.{k}", empty=(k == "base_url"))
    if kw.get("base_url") and urlparse(kw["base_url"]).scheme not in ("http", "https"):
        raise c.fail("site.base_url", f"must be an http(s) URL, got {kw['base_url']!r}",
                     "for example https://example.org/digest/", node=raw, item="base_url")
    kw["output"] = (base / c.string(d.get("output", "site"), "site.output")).resolve()
    for k in ("languages", "ui_languages"):
        if k in d:
            kw[k] = c.langs(d[k], f"site.{k}")
    if "ui_language" in d:
        kw["ui_language"] = c.lang(d["ui_language"], "site.ui_language")
    ui = kw.get("ui_languages", UI_LANGUAGES)
    for i, lang in enumerate(ui):
        if lang not in UI_LANGUAGES:
            raise c.fail(f"site.ui_languages[{i}]", f"no interface translation for {lang!r}",
                         f"choose among {', '.join(UI_LANGUAGES)}")
    if kw.get("ui_language", "en") not in ui:
        raise c.fail("site.ui_language", f"{kw['ui_language']!r} is not in site.ui_languages",
                     f"choose among {', '.join(ui)}")
    for k, minimum in (("days", 1), ("per_page", 5), ("excerpt_chars", 50)):
        if k in d:
            kw[k] = c.number(d[k], f"site.{k}", minimum=minimum, integer=True, at=(raw, k))
    if "full_content" in d:
        kw["full_content"] = c.boolean(d["full_content"], "site.full_content",
                                       at=(raw, "full_content"))
    if "timezone" in d:
        kw["timezone"] = c.string(d["timezone"], "site.timezone")
        if not _known_zone(kw["timezone"]):
            raise c.fail("site.timezone", f"unknown time zone {kw['timezone']!r}",
                         "use an IANA name such as Asia/Colombo, Europe/London or UTC",
                         node=raw, item="timezone")
    return SiteConfig(**kw)


def _known_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except (ValueError, OSError, LookupError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def _storage(c: Checker, raw: Any, base: Path) -> StorageConfig:
    d = c.mapping(raw, "storage", _STORAGE)
    kw: dict[str, Any] = {}
    if "url" in d:
        if "path" in d:
            raise c.fail("storage.url", "storage.path and storage.url are both set",
                         "keep path for a SQLite file, or url for PostgreSQL", node=raw, item="url")
        url = c.string(d["url"], "storage.url", at=(raw, "url"))
        problem = postgres_url_problem(url)
        if problem:
            raise c.fail("storage.url", f"{problem}: {url!r}",
                         "for example postgresql://aggregator@localhost/aggregator",
                         node=raw, item="url")
        kw["url"] = url
    if "batch" in d:
        kw["batch"] = c.number(d["batch"], "storage.batch", minimum=1, integer=True,
                               at=(raw, "batch"))
    if "lease" in d:
        kw["lease"] = c.duration(d["lease"], "storage.lease", at=(raw, "lease"))
        if kw["lease"] < 5:
            raise c.fail("storage.lease", f"must be at least 5 seconds, got {kw['lease']:g}",
                         "a lease is renewed every third of it while its run works",
                         node=raw, item="lease")
    if "keep_days" in d:
        kw["keep_days"] = c.number(d["keep_days"], "storage.keep_days", minimum=0, integer=True,
                                   at=(raw, "keep_days"))
    if "keep_archive" in d:
        kw["keep_archive"] = c.boolean(d["keep_archive"], "storage.keep_archive",
                                       at=(raw, "keep_archive"))
    return StorageConfig(path=(base / c.string(d.get("path", "aggregator.sqlite3"),
                                               "storage.path")).resolve(), **kw)


POSTGRES_SCHEMES = ("postgresql", "postgres")


def postgres_url_problem(url: str) -> str | None:
    """What is wrong with a PostgreSQL URL, or None (``postgresql://user@host:port/database``)."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises
    except ValueError as e:
        return f"is not a valid URL ({e})"
    if parts.scheme not in POSTGRES_SCHEMES:
        return "must start with postgresql://"
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        return "names no database (postgresql://user@host/DATABASE)"
    if "/" in parts.path.strip("/"):
        return "has a path of more than one part; the database is its only part"
    return None



def _fetch(c: Checker, raw: Any) -> FetchConfig:
    d = c.mapping(raw, "fetch", _FETCH)
    kw: dict[str, Any] = {}
    for k in ("concurrency", "per_host", "max_bytes", "max_redirects"):
        if k in d:
            kw[k] = c.number(d[k], f"fetch.{k}", minimum=1, integer=True, at=(raw, k))
    if "retries" in d:
        kw["retries"] = c.number(d["retries"], "fetch.retries", minimum=0, integer=True,
                                 at=(raw, "retries"))
    for k in ("timeout", "connect_timeout", "read_timeout", "max_backoff", "max_retry_after"):
        if k in d:
            kw[k] = c.duration(d[k], f"fetch.{k}", at=(raw, k))
    if "user_agent" in d:
        kw["user_agent"] = c.string(d["user_agent"], "fetch.user_agent", at=(raw, "user_agent"))
    if "allow_private_redirects" in d:
        kw["allow_private_redirects"] = c.boolean(d["allow_private_redirects"],
                                                  "fetch.allow_private_redirects",
                                                  at=(raw, "allow_private_redirects"))
    return FetchConfig(**kw)


def _schedule(c: Checker, raw: Any) -> ScheduleConfig:
    d = c.mapping(raw, "schedule", _SCHEDULE)
    kw: dict[str, Any] = {}
    if "cron" in d and d["cron"] is not None:
        expr = c.string(d["cron"], "schedule.cron")
        if len(expr.split()) != 5:
            raise c.fail("schedule.cron", f"needs 5 fields, got {expr!r}",
                         "minute hour day month weekday, e.g. '*/30 * * * *'")
        try:
            from apscheduler.triggers.cron import CronTrigger
            CronTrigger.from_crontab(expr)
        except ValueError as e:
            raise c.fail("schedule.cron", f"is not a valid cron expression: {e}",
                         "e.g. '*/30 * * * *' or '0 6,18 * * *'") from e
        kw["cron"] = expr
    if "interval" in d:
        kw["interval"] = c.duration(d["interval"], "schedule.interval", at=(raw, "interval"))
    if "jitter" in d:
        kw["jitter"] = c.number(d["jitter"], "schedule.jitter", minimum=0, at=(raw, "jitter"))
    return ScheduleConfig(**kw)


def _topics(c: Checker, raw: Any) -> tuple[TopicDef, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise c.fail("topics", f"must be a list of topics, got {kind(raw)}",
                     "each topic: {id: sports, names: {en: Sports}, keywords: {en: [cricket]}}")
    seen: set[str] = set()
    out: list[TopicDef] = []
    for i, item in enumerate(raw):
        c.attempt(_topic, c, i, item, raw, seen, out)
    return tuple(out)


def _topic(c: Checker, i: int, item: Any, raw: Any, seen: set[str], out: list[TopicDef]) -> None:
    if True:
        key = f"topics[{i}]"
        d = c.mapping(item, key, _TOPIC)
        if "id" not in d:
            raise c.fail(f"{key}.id", "is missing", "give each topic a short id such as sports",
                         node=raw, item=i)
        tid = c.string(d["id"], f"{key}.id")
        if not _SLUG.match(tid) or tid == "other":
            raise c.fail(f"{key}.id", f"{tid!r} cannot be a topic id",
                         "lower-case letters, digits and '-'; 'other' is reserved")
        if tid in seen:
            raise c.fail(f"{key}.id", f"duplicate topic id {tid!r}", "topic ids must be unique")
        seen.add(tid)
        names_raw = c.mapping(d.get("names"), f"{key}.names", {k: 0 for k in UI_LANGUAGES})
        names = {lang: c.string(v, f"{key}.names.{lang}") for lang, v in names_raw.items()}
        names.setdefault("en", tid.replace("-", " ").title())
        kw_raw = d.get("keywords") or {}
        if not isinstance(kw_raw, Mapping):
            raise c.fail(f"{key}.keywords", "must map a language to a list of words",
                         "keywords: {en: [cricket], ta: [கிரிக்கெட்]}")
        keywords = {}
        for lang, words in kw_raw.items():
            k2 = f"{key}.keywords.{lang}"
            c.lang(lang, k2)
            if not isinstance(words, list):
                raise c.fail(k2, f"must be a list of words, got {kind(words)}")
            keywords[str(lang)] = tuple(c.string(w, f"{k2}[{j}]") for j, w in enumerate(words))
        out.append(TopicDef(id=tid, names=names, keywords=keywords))


def _feeds(c: Checker, raw: Any, base: Path, topic_ids: set[str]) -> tuple[FeedSource, ...]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise c.fail("feeds", f"must be a list of feeds, got {kind(raw)}",
                     "each feed: {url: https://example.org/feed.xml, name: Example}")
    out: list[FeedSource] = []
    ids: set[str] = set()
    urls: dict[str, int] = {}
    for i, item in enumerate(raw):
        c.attempt(_feed, c, i, item, raw, base, topic_ids, out, ids, urls)
    return tuple(out)


def _feed(c: Checker, i: int, item: Any, raw: Any, base: Path, topic_ids: set[str],
          out: list[FeedSource], ids: set[str], urls: dict[str, int]) -> None:
    if True:
        key = f"feeds[{i}]"
        if isinstance(item, str):
            item = {"url": item}
        d = c.mapping(item, key, _FEED)
        if "url" not in d:
            raise c.fail(f"{key}.url", "is missing", "every feed needs a url", node=raw, item=i)
        given = c.string(d["url"], f"{key}.url", at=(item, "url"))
        url = resolve_feed_url(given, base)
        problem = feed_url_problem(given, url)
        if problem:
            # the language is checked too, so both problems of the feed are reported at once
            if d.get("language"):
                c.attempt(c.lang, d["language"], f"{key}.language", (item, "language"))
            raise c.fail(f"{key}.url", f"{problem}: {d['url']!r}", url_hint(given),
                         node=item, item="url")
        assert url is not None
        if url in urls:
            raise c.fail(f"{key}.url", f"the same feed is already listed as feeds[{urls[url]}]",
                         "remove one of them", node=item, item="url")
        urls[url] = i
        name = c.string(d["name"], f"{key}.name") if "name" in d else _default_name(url)
        fid = c.string(d["id"], f"{key}.id") if "id" in d else _slugify(name)
        if "id" in d and not _SLUG.match(fid):
            raise c.fail(f"{key}.id", f"{fid!r} is not a valid id",
                         "lower-case letters, digits and '-'")
        n = 2
        base_id = fid
        while fid in ids:
            if "id" in d:
                raise c.fail(f"{key}.id", f"duplicate feed id {fid!r}", "feed ids must be unique")
            fid = f"{base_id}-{n}"
            n += 1
        ids.add(fid)
        lang = c.lang(d["language"], f"{key}.language", at=(item, "language")) \
            if d.get("language") else None
        topics: tuple[str, ...] = ()
        if d.get("topics") is not None:
            t = d["topics"]
            t = [t] if isinstance(t, str) else t
            if not isinstance(t, list):
                raise c.fail(f"{key}.topics", f"must be a list of topic ids, got {kind(t)}")
            topics = tuple(c.string(x, f"{key}.topics[{j}]") for j, x in enumerate(t))
            for j, tid in enumerate(topics):
                if tid not in topic_ids:
                    close = difflib.get_close_matches(tid, sorted(topic_ids), n=1)
                    raise c.fail(f"{key}.topics[{j}]", f"unknown topic {tid!r}",
                                 f"did you mean '{close[0]}'?" if close
                                 else "define it under topics: first", item, "topics")
        out.append(FeedSource(id=fid, url=url, name=name, language=lang, topics=topics))


def resolve_feed_url(url: str, base: Path) -> str | None:
    """Absolute http(s)/file URL for ``url``; relative paths are relative to the config."""
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        return url if parsed.netloc else None
    if parsed.scheme == "file":
        return url
    if parsed.scheme and len(parsed.scheme) > 1:  # not a Windows drive letter
        return None
    return (base / url).resolve().as_uri()


def _default_name(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(parsed.path).stem
    return parsed.netloc.removeprefix("www.") or url
