"""The ``status`` and ``feeds`` subcommands: each feed's health, and editing the feed list.

``aggregator status [--json]`` shows per feed the configured and final URL,
the last HTTP status and error, entries stored, last success, next due time
and whether it is gone, backing off or moved. ``aggregator feeds
list|add|remove|import|export|apply-moves`` edit ``config.yaml`` through
``config_edit`` (comments and order kept). Handlers return an exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from ..errors import ConfigError, FetchError
from ..i18n import plural_en as plural

# 2 for a feed to add that is not a readable feed, or one to remove that is not listed: bad
# input, like a bad config (1 is kept for a store or site that could not be written)
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MOVED_HINT = "moved: update config (aggregator feeds apply-moves)"


def add_parsers(subparsers, common: argparse.ArgumentParser | None = None) -> None:
    """Register ``status`` and ``feeds`` on the CLI's subparsers."""
    parents = [common] if common is not None else []

    p = subparsers.add_parser("status", parents=parents, help="each feed's health and next fetch",
                              description="Per feed: configured and final URL, last HTTP status and "
                                          "error, entries stored, last success, next due time, and "
                                          "whether it is gone, backing off or has moved.")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_status)

    p = subparsers.add_parser("feeds", parents=parents, help="list, add, remove, import, export feeds",
                              description="Edit the feeds of the config file; comments and order "
                                          "are kept.")
    sub = p.add_subparsers(title="actions", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), EXIT_USAGE)[1])

    q = sub.add_parser("list", parents=parents, help="the configured feeds")
    q.set_defaults(func=cmd_list)

    q = sub.add_parser("add", parents=parents, help="add a feed (a page URL finds its feed)",
                       description="Fetch URL; when it is an HTML page, find its feed through "
                                   "<link rel=\"alternate\">; then add the feed to the config.")
    q.add_argument("url")
    q.add_argument("--name", help="display name (default: the feed's own title)")
    q.add_argument("--language", help="language hint, e.g. en, ta, si")
    q.add_argument("--no-fetch", action="store_true", help="add the URL as given, without checking")
    q.set_defaults(func=cmd_add)

    q = sub.add_parser("remove", parents=parents, help="remove a feed by URL or id")
    q.add_argument("url", metavar="URL_OR_ID")
    q.set_defaults(func=cmd_remove)

    q = sub.add_parser("import", parents=parents, help="add the feeds of an OPML file")
    q.add_argument("opml", type=Path)
    q.set_defaults(func=cmd_import)

    q = sub.add_parser("export", parents=parents, help="write the feeds as OPML 2.0")
    q.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    q.set_defaults(func=cmd_export)

    q = sub.add_parser("apply-moves", parents=parents,
                       help="rewrite permanently moved feed URLs into the config")
    q.set_defaults(func=cmd_apply_moves)


def _config(args):
    from ..config import load_config
    return load_config(args.config)


def _editing(config_path):
    """The lock of one config file's edits (``.<name>.lock`` beside it): two ``feeds`` edits at
    once would each write the file as it read it, and one would be lost. A run reads the file
    once, and an edit replaces it in one rename, so runs and edits need no lock between them."""
    from ..store.lock import FileLock

    path = Path(config_path).resolve()
    return _Waiting(FileLock(path.with_name(f".{path.name}.lock"), "edit", str(path)))


class _Waiting:
    """Take a lock, waiting (with a line on stderr) while another process holds it."""

    def __init__(self, lock):
        self.lock = lock

    def __enter__(self):
        from ..store.lock import Busy

        try:
            self.lock.acquire(0)
        except Busy as e:
            print(f"aggregator: {e}; waiting for it", file=sys.stderr)
            self.lock.acquire(None)
        return self.lock

    def __exit__(self, *exc) -> None:
        self.lock.release()


def _states(config) -> dict:
    from ..store import open_store, store_exists

    if not store_exists(config.storage):
        return {}
    with open_store(config.storage) as store:
        return store.feed_states()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _zone(config) -> tzinfo:
    """``site.timezone``: status shows times as the site does."""
    from zoneinfo import ZoneInfo

    return ZoneInfo(config.site.timezone) if config.site.timezone else timezone.utc


def _when(dt: datetime | None, tz: tzinfo = timezone.utc) -> str | None:
    """A time for people, in the site's zone: "2026-02-18 09:20 +0530"."""
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M %z") if dt else None


def _iso(dt: datetime | None, tz: tzinfo) -> str | None:
    return dt.astimezone(tz).isoformat() if dt else None


def feed_status(source, state, now: datetime, tz: tzinfo = timezone.utc) -> dict:
    """One feed's status as plain data (the --json form); times in ``tz`` (ISO 8601 with
    their offset)."""
    from ..sources.schedule import health, is_due

    st = state
    return {
        "id": source.id, "name": source.name, "url": source.url,
        "final_url": st.final_url if st else None,
        "moved_to": st.moved_to if st else None,
        "health": health(st, now),
        "last_status": st.last_status if st else None,
        "last_error": st.last_error if st else None,
        "entries": st.entry_count if st else 0,
        "last_attempt": _iso(st.last_attempt, tz) if st else None,
        "last_success": _iso(st.last_success, tz) if st else None,
        "next_due": _iso(st.next_due, tz) if st else None,
        "due_now": is_due(source, st, now),
        "failures": st.failures if st else 0,
        "gone": bool(st and st.gone),
        "title": st.title if st else None,
        "language": source.language or (st.language if st else None),
    }


def cmd_status(args) -> int:
    config = _config(args)
    states = _states(config)
    now = _now()
    tz = _zone(config)
    rows = [feed_status(f, states.get(f.id), now, tz) for f in config.feeds]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not rows:
        print(f"{config.path}: no feeds configured (aggregator feeds add URL)")
        return EXIT_OK
    for r in rows:
        print(f"{r['id']}  [{r['health']}]  {r['name']}")
        print(f"    url:          {r['url']}")
        if r["final_url"] and r["final_url"] != r["url"]:
            print(f"    final url:    {r['final_url']}")
        if r["moved_to"]:
            print(f"    {MOVED_HINT}: {r['moved_to']}")
        st = states.get(r["id"])
        if st is None:
            print("    never fetched yet (aggregator run)")
            continue
        status = r["last_status"] if r["last_status"] is not None else "no answer"
        print(f"    last status:  {status}, {plural(r['entries'], 'entry', 'entries')} stored")
        if r["last_error"]:
            print(f"    last error:   {r['last_error']}"
                  + (f" ({r['failures']} failures in a row)" if r["failures"] > 1 else ""))
        print(f"    last success: {_when(st.last_success, tz) or 'never'}")
        if r["gone"]:
            print("    gone: the server said 410; not fetched until its url changes in the config")
        else:
            due = "now" if r["due_now"] else _when(st.next_due, tz)
            print(f"    next due:     {due}" + ("  (backing off)" if r["health"] == "backing-off"
                                                else ""))
    bad = sum(1 for r in rows if r["health"] in ("gone", "failing", "backing-off"))
    moved = sum(1 for r in rows if r["moved_to"])
    print(f"\n{plural(len(rows), 'feed', 'feeds')}, {bad} with problems, {moved} moved"
          f" (times in {config.site.timezone or 'UTC'})")
    return EXIT_OK


def cmd_list(args) -> int:
    config = _config(args)
    for f in config.feeds:
        lang = f.language or "-"
        print(f"{f.id}\t{lang}\t{f.name}\t{f.url}")
    return EXIT_OK


def discover_feed(url: str, settings) -> tuple[str, str | None]:
    """Fetch ``url``; return the feed URL to configure (the page's feed when it is a page)
    and the feed's title. Raises ``FetchError`` when it is not a readable feed."""
    from ..sources import parse
    from ..sources.fetch import fetch_feeds
    from ..models import FeedSource, FetchRequest

    [result] = fetch_feeds([FetchRequest(FeedSource(id="new", url=url, name=url), url)], settings)
    if result.error or result.content is None:
        raise FetchError(f"{url}: {result.error or 'no content'}")
    feed_url = result.permanent_url or url
    try:
        parsed = parse.parse_feed(result.content, result.headers, result.final_url or feed_url)
    except Exception as e:
        raise FetchError(f"{url}: not a feed ({e})") from e
    title = parsed.title if parsed.title and parsed.title != (result.final_url or feed_url) else None
    return feed_url, title


def cmd_add(args) -> int:
    from ..config import FetchConfig, resolve_feed_url
    from .config_edit import add_feeds

    try:
        config = _config(args)
        settings = config.fetch
        base = config.path.parent
    except ConfigError:
        if Path(args.config).exists():
            raise
        settings, base = FetchConfig(), Path(args.config).resolve().parent  # a new config file
    url = args.url
    name = args.name
    if not args.no_fetch:
        target = resolve_feed_url(url, base) or url
        try:
            found, title = discover_feed(target, settings)
        except FetchError as e:
            print(f"aggregator feeds add: {e} (use --no-fetch to add it anyway)", file=sys.stderr)
            return EXIT_USAGE
        if found != target:
            print(f"found the feed {found} on the page {target}")
            url = found
        name = name or title
    with _editing(args.config):
        added, _ = add_feeds(args.config, [(url, name, args.language)])
    if not added:
        print(f"{url} is already in {args.config}")
        return EXIT_OK
    print(f"added {name or url} ({url}) to {args.config}")
    return EXIT_OK


def cmd_remove(args) -> int:
    from .config_edit import remove_feed

    with _editing(args.config):
        removed = remove_feed(args.config, args.url)
    if removed is None:
        print(f"aggregator feeds remove: no feed {args.url!r} in {args.config} "
              "(aggregator feeds list shows them)", file=sys.stderr)
        return EXIT_USAGE
    print(f"removed {removed.get('name') or removed.get('url')} from {args.config}")
    return EXIT_OK


def cmd_import(args) -> int:
    from .config_edit import add_feeds
    from ..sources.opml import from_opml

    try:
        data = args.opml.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror or e}", path=str(args.opml)) from e
    feeds = from_opml(data, str(args.opml))
    if not feeds:
        print(f"{args.opml}: no feeds found (outlines with an xmlUrl)")
        return EXIT_OK
    with _editing(args.config):
        added, skipped = add_feeds(args.config, feeds)
    print(f"imported {plural(len(added), 'feed', 'feeds')} from {args.opml} into {args.config}"
          + (f", skipped {len(skipped)} already listed" if skipped else ""))
    return EXIT_OK


def cmd_export(args) -> int:
    from ..models import FeedView
    from ..sources.opml import to_opml

    config = _config(args)
    states = _states(config)
    views = [FeedView(source=f, state=states.get(f.id)) for f in config.feeds]
    text = to_opml(views, config.site.title, _now())
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {plural(len(views), 'feed', 'feeds')} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_apply_moves(args) -> int:
    with _editing(args.config):
        return _apply_moves(args)


def _apply_moves(args) -> int:
    from .config_edit import ConfigEditor

    config = _config(args)
    states = _states(config)
    editor = ConfigEditor(config.path)
    moves = []
    for f in config.feeds:
        st = states.get(f.id)
        if st and st.moved_to and st.moved_to != f.url:
            if editor.replace_url(f.url, st.moved_to, keep_id=f.id):
                moves.append((f, st.moved_to))
    if not moves:
        print("no feed has moved")
        return EXIT_OK
    editor.save()
    for f, new in moves:
        print(f"{f.id}: {f.url} -> {new}")
    print(f"updated {plural(len(moves), 'feed URL', 'feed URLs')} in {config.path}")
    return EXIT_OK
