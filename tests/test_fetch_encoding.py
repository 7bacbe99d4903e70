"""feedparser's own encoding and ill-formed suites, served over real HTTP and fetched by us.

Each file of ``tests/data/feedparser/`` (copied from kurtmckee/feedparser,
BSD-2, see ``tests/data/SOURCES.md``) is served from a loopback server with
its ``Header:`` lines (from ``MANIFEST.tsv``) as real HTTP headers, fetched
with ``fetch_feeds``, and parsed from the bytes and the headers we return.
feedparser's own expectation for the file must hold on what we hand over
(so the fetcher neither loses nor garbles a header or a byte), and the
project's ``parse.parse_feed`` must never crash on any of them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import feedparser
import pytest

from aggregator.sources import parse
from aggregator.config import FetchConfig
from aggregator.errors import ParseError
from aggregator.sources.fetch import fetch_feeds
from aggregator.models import FeedSource, FetchRequest

SUITE = Path(__file__).resolve().parent / "data" / "feedparser"
SETTINGS = FetchConfig(timeout=5, retries=0)


def _manifest() -> list[dict[str, str]]:
    with (SUITE / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


ROWS = _manifest()


def _skipped(row: dict[str, str]) -> bool:
    cond = row.get("skip_unless") or ""
    if not cond:
        return False
    try:
        return not eval(cond)  # noqa: S307 - the suite's own trusted expressions
    except Exception:
        return True


def _headers(row: dict[str, str]) -> dict[str, str]:
    out = {}
    for line in (row.get("header") or "").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def _exactly(body: bytes, headers: dict[str, str]):
    """A route sending these headers and no others (no default Content-Type)."""
    def fn(h):
        h.send_response(200)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
    return fn


@pytest.fixture(scope="module")
def fetched():
    """Serve every file once and fetch them all in one run, like the pipeline does."""
    from conftest import LoopbackServer

    srv = LoopbackServer()
    try:
        reqs = []
        for i, row in enumerate(ROWS):
            body = (SUITE / row["file"]).read_bytes()
            srv.route(f"/{row['file']}", _exactly(body, _headers(row)))
            url = srv.url(f"/{row['file']}")
            reqs.append(FetchRequest(FeedSource(id=f"f{i}", url=url, name=row["file"]), url))
        results = fetch_feeds(reqs, SETTINGS)
        yield {row["file"]: (row, res) for row, res in zip(ROWS, results)}
    finally:
        srv.close()


def test_the_suite_is_complete():
    assert sum(r["file"].startswith("encoding/") for r in ROWS) == 82
    assert sum(r["file"].startswith("illformed/") for r in ROWS) == 19


@pytest.mark.parametrize("name", [r["file"] for r in ROWS])
def test_fetched_file_meets_feedparsers_expectation(fetched, name):
    row, result = fetched[name]
    body = (SUITE / name).read_bytes()
    assert result.error is None and result.status == 200
    assert result.content == body  # not a byte lost, added or re-encoded
    for k, v in _headers(row).items():
        assert result.headers[k.lower()] == v  # the charset reaches the parser
    d = feedparser.parse(io.BytesIO(result.content), response_headers=dict(result.headers))
    if not _headers(row):
        # The suite means "no HTTP metadata at all" (feedparser reads these from disk). Over
        # HTTP without a Content-Type feedparser adds a NonXMLContentType bozo, which
        # parse.py treats as benign; the expectation itself is checked on the bytes alone.
        if d.bozo:
            assert isinstance(d.bozo_exception, feedparser.NonXMLContentType) \
                or not row["expect"].startswith("not bozo")
        d = feedparser.parse(io.BytesIO(result.content))
    if not _skipped(row):
        env = {"feedparser": feedparser, "__builtins__": __builtins__}
        assert eval(row["expect"], env, d), f"{row['description']}: {row['expect']}"  # noqa: S307
    if row["expect"].startswith("not bozo"):
        # decoded without mojibake: no replacement characters anywhere in the text
        texts = [d.feed.get("title", "")] + [e.get("title", "") + e.get("description", "")
                                              for e in d.entries]
        assert not any("\ufffd" in t for t in texts)
    # and the project's parser never crashes on it: a feed, or a clean ParseError
    try:
        parsed = parse.parse_feed(result.content, result.headers, result.final_url)
    except ParseError:
        assert row["expect"].startswith(("bozo", "1")) or name.startswith("illformed/")
    else:
        assert isinstance(parsed.title, str)
