"""Render ``SiteData`` into the static site and publish it atomically.

``build_site`` plans the pages (``plan``), prepares entries for each interface language
(``views``), renders the Jinja templates (autoescape on; only sanitised entry HTML is marked
safe), writes Atom and JSON Feed (``feeds_out``) and publishes through ``publish.Publisher``:
everything is built beside the output folder and swapped in, pages whose inputs are unchanged
are not even rendered (a manifest of input fingerprints), and pages whose bytes are unchanged
are not rewritten.

URL scheme (relative to the output folder; see ``templates/README.md``): the main pages are in
``site.ui_language``; each other interface language has the same pages under ``ui/<code>/``.
Atom, JSON Feed, the stylesheet and extra files (``opml.xml``) exist once, at the top.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.resources
import inspect
import json
import logging
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone, tzinfo
from pathlib import Path
from typing import Any, Mapping

import jinja2
from markupsafe import Markup

from .. import i18n
from ..errors import RenderError
from ..models import SiteData
from . import feeds_out, plan, search_index, views
from .plan import OTHER, Page, Planner, digest
from .publish import Publisher

__all__ = ["build_site", "RenderResult", "default_templates_dir"]

log = logging.getLogger("aggregator.render")

RENDER_VERSION = "1"  # bump when the output changes in a way fingerprints cannot see
FEED_LIMIT = 100  # entries in atom.xml / feed.json
STATIC = ("style.css", "search.js")  # copied from the templates folder to the site's top
# Stands for the path up to the site's top inside cached entry HTML; feed text cannot hold it
# (views.clean drops NUL), so replacing it is safe.
ROOT = "\x00root\x00/"
# Stands for an entry's heading level in cached entry HTML (one rendering serves every level).
LEVEL = "\x00level\x00"
CACHE_ENTRIES = 2048  # rendered articles kept (for every interface language at once)
CACHE_VERSIONS = 4096  # rendered version lines kept (16,384: 19 MB more, no faster)


@dataclass(frozen=True)
class RenderResult:
    """What one build did."""

    output: Path  # the published folder
    pages_written: int  # files whose bytes changed (or are new)
    pages_unchanged: int  # files kept as they were (same inputs or same bytes; mtime kept)
    pages_rendered: int  # pages whose templates actually ran this time


def default_templates_dir() -> Path:
    """``aggregator/templates`` when installed, else the repository's ``templates/``."""
    try:
        packaged = importlib.resources.files("aggregator") / "templates"
        if packaged.is_dir() and (packaged / "base.html").is_file():
            return Path(str(packaged))
    except (ModuleNotFoundError, TypeError, OSError):
        pass
    return Path(__file__).resolve().parents[2] / "templates"


def _environment(templates_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=True,  # every template, whatever its name: feeds are hostile
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def code_fingerprint(templates_dir: Path | None = None) -> str:
    """The templates and rendering code the site is made with (see ``_code_fingerprint``)."""
    return _code_fingerprint(Path(templates_dir) if templates_dir else default_templates_dir())


def _code_fingerprint(templates_dir: Path) -> str:
    """Templates, stylesheet and the rendering code: when any changes, every page re-renders."""
    h = hashlib.blake2b(digest_size=16)
    h.update(RENDER_VERSION.encode())
    for path in sorted(templates_dir.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(templates_dir).as_posix().encode())
            h.update(path.read_bytes())
    for module in (i18n, plan, views, feeds_out):
        h.update(inspect.getsource(module).encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()


def _timezone(site: Any) -> tzinfo:
    """``site.timezone`` (an IANA name) when the config has one; UTC otherwise."""
    name = getattr(site, "timezone", None)
    if not name:
        return timezone.utc
    from zoneinfo import ZoneInfo
    try:
        return ZoneInfo(str(name))
    except Exception as e:  # ZoneInfoNotFoundError, ValueError
        raise RenderError(f"unknown time zone {name!r}") from e


def build_site(data: SiteData, site: Any, *, now: datetime,
               templates_dir: Path | None = None,
               extra_files: Mapping[str, str | bytes] = {},
               keep_archive_before: datetime | None = None) -> RenderResult:
    """Render ``data`` into ``site.output`` and publish it atomically (see the module doc).

    ``keep_archive_before``: the published archive pages of days before this stay as they are
    (retention pruned their entries from the store; ``storage.keep_archive``); by default a
    day with no entry left loses its page."""
    # The input (tens of thousands of entries) lives for the whole build: keep the cyclic
    # garbage collector from rescanning it at every collection (a third of an incremental build).
    gc.freeze()
    try:
        return _build(data, site, now=now, templates_dir=templates_dir, extra_files=extra_files,
                      keep_archive_before=keep_archive_before)
    finally:
        gc.unfreeze()


def _build(data: SiteData, site: Any, *, now: datetime, templates_dir: Path | None,
           extra_files: Mapping[str, str | bytes],
           keep_archive_before: datetime | None = None) -> RenderResult:
    templates_dir = Path(templates_dir) if templates_dir else default_templates_dir()
    if not (templates_dir / "base.html").is_file():
        raise RenderError(f"{templates_dir}: no templates there (base.html missing)")
    tz = _timezone(site)
    ui_main = site.ui_language
    uis = (ui_main, *[u for u in site.ui_languages if u != ui_main])
    env = _environment(templates_dir)
    planner = Planner(data, languages=site.languages, per_page=site.per_page, days=site.days,
                      full_content=site.full_content, now=now, tz=tz)
    pages = planner.pages()
    config_fp = digest(site.title, site.base_url, site.languages, site.ui_language, uis,
                       site.days, site.per_page, site.full_content, site.excerpt_chars, tz,
                       data.topics, [(f.source.id, f.source.name) for f in data.feeds],
                       sorted(extra_files))
    chrome = digest(_code_fingerprint(templates_dir), config_fp)
    pub = Publisher(Path(site.output))
    rendered = 0
    # Newest first across every kind of listing: an entry's language, topic, day and feed pages
    # then come close together, so the bounded caches of rendered entries keep hitting.
    pages.sort(key=_recency, reverse=True)
    page_fps = {id(page): page.fingerprint() for page in pages}  # the same in every UI language
    # a page in every interface language before the next page: an entry is rendered once for
    # all of them (_Fragments), and its rendering is still in the cache for the next language
    fragments = _Fragments(env, views.EntryViews(feeds=data.feeds, topics=data.topics,
                                                 full_content=site.full_content))
    contexts = [_Context(site, data, ui, uis, ui_main, tz, planner, env, extra_files, fragments)
                for ui in uis]
    try:
        for page in pages:
            for ctx in contexts:
                rel = ctx.prefix + page.path
                fp = digest(chrome, ctx.ui, page_fps[id(page)])
                if pub.reuse(rel, fp):
                    continue
                html = ctx.render(page)
                rendered += 1
                pub.write(rel, html.encode("utf-8"), fp)
        if keep_archive_before is not None:
            _keep_old_days(pub, keep_archive_before.astimezone(tz).date())
        _write_feeds(pub, planner, site, data, chrome)
        _write_search(pub, planner, pages, page_fps, data, chrome)
        for name in STATIC:
            blob = (templates_dir / name).read_bytes()
            pub.write(name, blob, digest(blob))
        for name, content in sorted(extra_files.items()):
            blob = content.encode("utf-8") if isinstance(content, str) else bytes(content)
            pub.write(name, blob, digest(hashlib.sha256(blob).hexdigest()))
        pub.commit()
    except BaseException:
        pub.abort()
        raise
    return RenderResult(output=Path(site.output), pages_written=pub.written,
                        pages_unchanged=pub.unchanged, pages_rendered=rendered)


def _recency(page: Page) -> tuple:
    """Sort key of a page: its newest entry's time (pages without entries first)."""
    if not page.items:
        return (1, "")
    return (0, page.items[0].entry.published.isoformat())


def _with_content(entries: list, data: SiteData) -> list:
    """``entries`` with their full HTML, when the store was read without it."""
    if data.load_content is None or not entries:
        return entries
    content = data.load_content([e.id for e in entries if e.id is not None])
    return [replace(e, content_html=content.get(e.id, "")) if e.id in content else e
            for e in entries]


_DAY_PAGE = re.compile(r"^(?:ui/[a-z]{2,3}/)?archive/(\d{4}-\d{2}-\d{2})(?:\.page-\d+)?\.html$")


def _keep_old_days(pub: Publisher, before: date) -> None:
    """Keep the published pages of days before ``before`` that this build did not write."""
    for rel, fp in list(pub.old.items()):
        m = _DAY_PAGE.match(rel)
        if m and rel not in pub.new and date.fromisoformat(m.group(1)) < before:
            pub.reuse(rel, fp)


def _write_search(pub: Publisher, planner: Planner, pages: list[Page], page_fps: dict,
                  data: SiteData, chrome: str) -> None:
    """The search index in ``pagefind/``: a shard per month of day pages, each rebuilt only
    when one of its day pages changed (``search_index``)."""
    prefix = search_index.INDEX_DIR + "/"
    if not search_index.available():
        log.warning("search: Pagefind is not installed (pip install 'pagefind[bin]'); "
                    "the site is built without its search index")
        return
    days = [p for p in pages if p.kind == "day"]
    months: dict[str, list[Page]] = {}
    for p in days:
        months.setdefault(p.key[:7], []).append(p)
    located = search_index.locations(days)
    by_shard: dict[str, list] = {}
    for url, e in located.values():
        by_shard.setdefault(search_index.shard_of(url), []).append((url, e))
    feed_names = {f.source.id: views.clean(f.source.name) for f in data.feeds}
    old_by_shard: dict[str, list[str]] = {}
    for rel in pub.old:
        if rel.startswith(prefix) and rel.count("/") >= 2:
            old_by_shard.setdefault(rel.split("/")[1], []).append(rel)
    todo: dict[str, list] = {}
    fps: dict[str, str] = {}
    newest = max(months, default=None)  # carries Pagefind's code (search_index.CODE)
    pagefind_version = search_index.version()
    for month in sorted(months, reverse=True):
        fp = fps[month] = digest(chrome, "search", search_index.INDEX_LANGUAGE, pagefind_version,
                                 month, month == newest,
                                 *(f"{p.path}\x1f{page_fps[id(p)]}" for p in months[month]))
        old = old_by_shard.get(month, [])
        if old and all(pub.old[rel] == fp and (pub.output / rel).is_file() for rel in old):
            for rel in old:
                pub.reuse(rel, fp)
        else:
            todo[month] = search_index.records(planner, by_shard.get(month, []), feed_names)
    if todo:
        for month, files in search_index.build_shards(todo, code=newest).items():
            for rel, blob in files.items():
                pub.write(f"{prefix}{month}/{rel}", blob, fps[month])
    shards = json.dumps({"shards": sorted(months, reverse=True)}).encode()
    pub.write(prefix + "shards.json", shards, digest(shards.decode()))


def _write_feeds(pub: Publisher, planner: Planner, site: Any, data: SiteData, chrome: str) -> None:
    feed_names = {f.source.id: views.clean(f.source.name) for f in data.feeds}
    topic_names = {t.id: t.names.get(site.ui_language) or t.names.get("en") or t.id
                   for t in data.topics}
    topic_names.setdefault(OTHER, i18n.Translator(site.ui_language)("other"))
    targets = [("atom.xml", "feed.json", None, site.ui_language, site.title)]
    for lang in site.languages:
        name = i18n.language_name(lang, site.ui_language)
        targets.append((f"{lang}/atom.xml", None, lang, lang, f"{site.title} · {name}"))
    for atom_path, json_path, lang, xml_lang, title in targets:
        entries = plan.feed_entries(planner, lang, FEED_LIMIT)
        fps = [planner.fp[id(e)] for e in entries]
        outputs = [(atom_path, digest(chrome, atom_path, *fps))]
        if json_path:
            outputs.append((json_path, digest(chrome, json_path, *fps)))
        todo = [(path, fp) for path, fp in outputs if not pub.reuse(path, fp)]
        if not todo:
            continue
        entries = _with_content(entries, data)
        for path, fp in todo:
            if path == atom_path:
                blob = feeds_out.atom(entries, title=title, base_url=site.base_url, path=path,
                                      lang=xml_lang, feed_names=feed_names, topic_names=topic_names)
            else:
                blob = feeds_out.json_feed(entries, title=title, base_url=site.base_url, path=path,
                                           lang=xml_lang, feed_names=feed_names)
            pub.write(path, blob, fp)


class _Fragments:
    """Entries' articles and story version lines, rendered once for every interface language:
    the words that differ between languages are ``views.Tokens`` marks, which each language's
    ``views.Filler`` fills in. The most recently used are kept."""

    def __init__(self, env: jinja2.Environment, entries: views.EntryViews):
        self.entries = entries
        self._entry_template = env.get_template("_entry.html")
        self._version_template = env.get_template("_version.html")
        self._articles: views.LRU[tuple, str] = views.LRU(CACHE_ENTRIES)
        self._versions: views.LRU[int, str] = views.LRU(CACHE_VERSIONS)

    def article(self, it, dated: bool) -> str:
        """An entry's article (``it``: a ``views.ItemView``). Links inside it start with ``ROOT``
        and are made relative per page afterwards; its heading level is ``LEVEL`` until it is
        placed. ``dated``: the date with the time (where no day heading gives it: the front
        page)."""
        key = (id(it.e), tuple(id(v) for v in it.versions), dated)
        return self._articles.get_or_make(key, lambda: self._entry_template.render(
            it=it, level=Markup(LEVEL), ui=views.TOKENS.ui, tr=views.TOKENS,
            ui_root=Markup(ROOT) + views.TOKENS.prefix, versions_html=self.versions_html,
            dated=dated))

    def versions_html(self, entries) -> Markup:
        """The lines of a story's list of versions (``Entry`` objects), each rendered once and
        reused (``_version.html``).

        A story lists up to ``plan.MAX_VERSIONS`` versions on each of its pages; building a
        view and escaping every field of each, on every page, was most of a big site's render.
        """
        make = self._version_template.render
        ui_root = Markup(ROOT) + views.TOKENS.prefix
        lines = [self._versions.get_or_make(id(e), lambda: make(v=self.entries.entry(e), ui_root=ui_root))
                 for e in entries]
        return Markup("\n".join(lines))


class _Context:
    """Template values shared by every page of one interface language."""

    def __init__(self, site, data: SiteData, ui: str, uis, ui_main: str, tz: tzinfo,
                 planner: Planner, env: jinja2.Environment, extra_files, fragments: _Fragments):
        self.site, self.data, self.ui, self.uis, self.ui_main = site, data, ui, uis, ui_main
        self.planner, self.env, self.fragments = planner, env, fragments
        self.tr = i18n.Translator(ui, tz)
        self.views = views.Views(self.tr, fragments.entries, topics=data.topics,
                                 languages=site.languages)
        self.prefix = "" if ui == ui_main else f"ui/{ui}/"
        self.fill = views.Filler(self.tr, self.views.topic_names, self.prefix)
        self.languages = [{"code": c, "native": i18n.native_language_name(c),
                           "name": self.tr.language(c)} for c in site.languages]
        self.has_opml = "opml.xml" in extra_files
        self.topic_names = self.views.topic_names

    def public_error(self, state) -> str:
        return views.public_error(state, self.tr)

    def entry_html(self, it, level: int, dated: bool = False) -> Markup:
        """An entry's article in this interface language, at heading ``level``."""
        html = self.fill(self.fragments.article(it, dated))
        return Markup(html.replace(LEVEL, str(level)))

    def search_words(self) -> dict:
        """What the search page's script shows, in this interface language."""
        tr = self.tr
        return {"ui": self.ui, "languages": {c: tr.language(c) for c in self.site.languages},
                "topics": dict(self.topic_names), "found": tr.plural_forms("search_found"),
                "none": tr("search_none"), "ready": tr("search_ready"),
                "searching": tr("searching"), "needs_js": tr("search_needs_js"),
                "timezone": str(getattr(self.site, "timezone", "") or "UTC")}

    def render(self, page: Page) -> str:
        depth = (self.prefix + page.path).count("/")
        up = "../" * depth
        root = up  # the top of the site (style.css, atom.xml, feed.json)
        ui_root = up + self.prefix  # the top of this interface language
        switcher = []
        for code in self.uis:
            pre = "" if code == self.ui_main else f"ui/{code}/"
            switcher.append({"code": code, "name": i18n.native_language_name(code),
                             "href": up + pre + page.path, "current": code == self.ui})
        top_level = 2 if page.kind != "day" else 2
        groups = self.views.groups(page.items, page.grouping, top_level, self.planner.day)
        ctx = {
            "site": self.site, "ui": self.ui, "tr": self.tr, "page": page, "root": root,
            "ui_root": ui_root, "entry_html": self.entry_html, "switcher": switcher, "languages": self.languages,
            "groups": groups, "has_opml": self.has_opml, "topic_names": self.topic_names,
            "views": self.views, "extra": page.extra, "http_url": views.http_url,
            "public_error": self.public_error,
            "when": lambda dt: views.when(dt, self.tr),
            "feed_language": plan.feed_view_language, "topics": self.data.topics,
        }
        if page.kind == "search":
            ctx["search_words"] = self.search_words()
        try:
            html = self.env.get_template(page.template).render(ctx)
        except jinja2.TemplateError as e:
            raise RenderError(f"{page.template} ({page.path}): {e}") from e
        return html.replace(ROOT, up)
