"""``aggregator migrate --from STORE --to STORE``: copy a store whole into an empty one (SQLite
into PostgreSQL, or back), then check that both hold the same.

Copied: every entry with all the store keeps about it (content hash, features: the story
signature and embeddings, story, whether grouping has seen it, when it was first seen), every
feed's state and the meta facts (the site generation, the fingerprints of the topics and the
site). Not copied: the claims of runs in progress, and entry ids (each store has its own;
story ids do not depend on them). The source is held with its run lock (SQLite) while it is
read, the target with its ``migrate`` lock.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ConfigError, StoreError

BATCH = 500  # entries per transaction of the copy


def add_parser(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "migrate", parents=[common], help="copy a store into another (SQLite -> PostgreSQL)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Copy every entry, feed state, story, embedding and meta fact of one store "
                    "into another, empty one, then check that the counts agree.",
        epilog="examples:\n"
               "  aggregator migrate --from sqlite:aggregator.sqlite3 "
               "--to postgresql://aggregator@localhost/aggregator\n"
               "  aggregator migrate --from postgresql://aggregator@db/aggregator "
               "--to sqlite:/backups/digest.sqlite3\n\n"
               "A store is sqlite:PATH or postgresql://user[:password]@host[:port]/database.\n"
               "Stop the runs first (on SQLite the copy waits for none: exit 75 when one holds "
               "the store). Afterwards set storage.url in config.yaml (and remove storage.path).\n"
               "exit codes: 0 copied and checked; 1 the copy failed or the counts differ; 2 a bad "
               "store address; 75 a run holds the source")
    p.add_argument("--from", dest="source", required=True, metavar="STORE",
                   help="the store to copy: sqlite:PATH or postgresql://...")
    p.add_argument("--to", dest="target", required=True, metavar="STORE",
                   help="the empty store to copy into: postgresql://... or sqlite:PATH")
    p.set_defaults(func=cmd_migrate)


def address_problem(address: str) -> str | None:
    """What is wrong with a store address, or None."""
    from ..config import POSTGRES_SCHEMES, postgres_url_problem
    from ..store import SQLITE_PREFIX

    if address.startswith(SQLITE_PREFIX):
        return None if address[len(SQLITE_PREFIX):].strip("/") else "names no file (sqlite:PATH)"
    scheme = address.split(":", 1)[0] if ":" in address else ""
    if scheme in POSTGRES_SCHEMES:
        return postgres_url_problem(address)
    return "is not a store address: write sqlite:PATH or postgresql://user@host/database"


def cmd_migrate(args) -> int:
    from ..store import SQLITE_PREFIX, open_url
    from .main import EXIT_OK, _locked
    from .progress import CountBar

    for flag, address in (("--from", args.source), ("--to", args.target)):
        problem = address_problem(address)
        if problem:
            raise ConfigError(problem, path=f"{flag} {address}",
                              hint="for example sqlite:aggregator.sqlite3 or "
                                   "postgresql://aggregator@localhost/aggregator")
    if args.source.startswith(SQLITE_PREFIX):
        path = Path(args.source[len(SQLITE_PREFIX):])
        if not path.exists():
            raise StoreError(f"{path}: no such store (--from)")
        if args.target.startswith(SQLITE_PREFIX) and \
                Path(args.target[len(SQLITE_PREFIX):]).resolve() == path.resolve():
            raise ConfigError("is the source itself", path=f"--to {args.target}")
    with open_url(args.source) as src, _locked(src, 0), open_url(args.target) as dst, \
            dst.lock("migrate"):
        have = dst.counts()
        if have.entries or have.feeds or have.meta:
            raise StoreError(f"{dst.where}: already holds {have.entries} entries, {have.feeds} "
                             f"feed states and {have.meta} facts; migrate copies into an empty "
                             "store only (a new database, or a path where no file is)")
        want = src.counts()
        bar = CountBar("entries copied", args.quiet)
        dst.save_states(src.feed_states().values())
        batch, done = [], 0
        for item in src.stored_entries():
            batch.append(item)
            if len(batch) == BATCH:
                dst.add_stored_entries(batch)
                done += len(batch)
                batch = []
                bar(done, want.entries)
        dst.add_stored_entries(batch)
        done += len(batch)
        bar(done, want.entries)
        for key, value in src.all_meta().items():  # last: a copy without its meta is not whole
            dst.set_meta(key, value)
        got = dst.counts()
        per_feed_same = src.entry_counts() == dst.entry_counts()
    lines = [f"{name:9} {getattr(want, name):>9,} {getattr(got, name):>9,}"
             + ("" if getattr(want, name) == getattr(got, name) else "  DIFFERENT")
             for name in ("entries", "feeds", "stories", "features", "meta")]
    if got != want or not per_feed_same:
        print("\n".join(lines), file=sys.stderr)
        raise StoreError(f"{dst.where}: the copy does not hold what {src.where} holds (counts "
                         "above); empty it and run migrate again")
    if args.quiet < 1:
        print(f"copied {src.where} -> {dst.where}\n{'':9} {'source':>9} {'copy':>9}\n"
              + "\n".join(lines) + "\ncounts agree (and entries per feed); now set storage.url "
              "in the config to use the copy")
    return EXIT_OK
