"""The site's search index: one Pagefind record per entry, written into ``pagefind/``.

Pagefind (PyPI ``pagefind[bin]``) builds a static index that the search page's script queries
in the browser, fetching only the pieces a query needs: no server. Each entry is one record
whose URL is its place on a day's archive page (``archive/2024-06-03.html#e-…``, relative to
an interface root), with filters ``language`` and ``topic`` and meta for the result (title,
source, date, language, topic).

The index is cut into shards, one per month of entries (``pagefind/2025-11/``...; the list in
``pagefind/shards.json``, newest first), which the search page merges (Pagefind's
``mergeIndex``): a build re-indexes only the months whose day pages changed, usually the
current one, not the whole archive (20,000 entries took about 30 s to index on a busy 2-core
machine; a month of them, a few seconds).

Every record of a shard goes into one index: Pagefind would otherwise split it by language and search
only the one of the page it runs on, while a reader of the Tamil interface searches English and
Sinhala entries too. The index is declared Tamil: Pagefind then stems Tamil words with
Snowball's Tamil stemmer (இலங்கையில் finds இலங்கை), leaves Sinhala and English words as they
are (it has no Sinhala stemmer, and the Tamil one does not touch other scripts), and matches the
last word typed as a prefix, which covers much of Sinhala's and English's inflection.
"""

from __future__ import annotations

import base64
import json
import logging
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..errors import RenderError
from ..markup.sanitize import html_to_text
from ..models import Entry
from .plan import Page, Planner

log = logging.getLogger("aggregator.search")

INDEX_DIR = "pagefind"
INDEX_LANGUAGE = "ta"  # the one index's language (see the module doc)
# What the search page needs of Pagefind's output (its own UI bundles are not used): the index
# of every shard, and the code (script, worker, WebAssembly) only in the newest shard, the one
# the page loads and merges the others into (they use its code).
DATA = ("pagefind-entry.json", "pagefind.", "index/", "fragment/", "filter/")
CODE = ("pagefind.js", "pagefind-worker.js", f"wasm.{INDEX_LANGUAGE}.pagefind")
BATCH = 500  # records sent to Pagefind's service at once
TEXT_CHARS = 2000  # of an entry's text indexed besides its title


@dataclass(frozen=True)
class Record:
    """One entry as the index holds it."""

    url: str  # relative to an interface root
    content: str
    meta: Mapping[str, str]
    filters: Mapping[str, Sequence[str]]


def available() -> bool:
    """Whether the Pagefind package and its binary are installed."""
    try:
        from pagefind.service import get_executable
    except ImportError:
        return False
    return get_executable() is not None


def locations(pages: Iterable[Page]) -> dict[int, tuple[str, Entry]]:
    """id(entry) -> (URL, entry) for every entry of the day pages: its own ``<article>`` where
    it leads an item, else its line among a story's versions (both carry ``id="e-…"``). Every
    entry gets its own URL: Pagefind keeps one record per URL."""
    where: dict[int, tuple[str, Entry]] = {}
    for lead_pass in (True, False):
        for page in pages:
            if page.kind != "day":
                continue
            for it in page.items:
                for e in ((it.entry,) if lead_pass else it.versions):
                    if id(e) not in where:
                        where[id(e)] = (f"{page.path}#e-{anchor(e)}", e)
    return where


def shard_of(url: str) -> str:
    """The index shard of a record: the month of its day page ("archive/2025-11-04.html#…" ->
    "2025-11")."""
    return url.split("/", 1)[1][:7]


def records(planner: Planner, located: Iterable[tuple[str, Entry]],
            feed_names: Mapping[str, str]) -> list[Record]:
    return [record(planner, e, url, feed_names) for url, e in located]


def record(planner: Planner, e: Entry, url: str, feed_names: Mapping[str, str]) -> Record:
    text = html_to_text(e.content_html or e.summary_html)[:TEXT_CHARS]
    source = feed_names.get(e.feed_id, e.feed_id)
    topic = planner.topic[id(e)]
    return Record(url=url, content=f"{e.title}\n{text}",
                  meta={"title": e.title or url, "source": source, "lang": e.lang,
                        "topic": topic, "date": e.published.isoformat()},
                  filters={"language": [e.lang], "topic": [topic]})


def anchor(e: Entry) -> str:
    from .views import _anchor
    return _anchor(e.feed_id, e.guid)


def version() -> str:
    """The installed Pagefind's version (an index is rebuilt when it changes)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    for name in ("pagefind_bin", "pagefind_bin_extended", "pagefind"):
        try:
            return installed(name)
        except PackageNotFoundError:
            continue
    return "?"


def build(recs: Sequence[Record], attempts: int = 3) -> dict[str, bytes]:
    """The index files (path under ``pagefind/`` -> bytes) for ``recs``, with the code."""
    return build_shards({"": recs}, attempts, code="")[""]


def build_shards(shards: Mapping[str, Sequence[Record]], attempts: int = 3,
                 code: str | None = None) -> dict[str, dict[str, bytes]]:
    """The index files of each shard (shard -> path -> bytes), made by one Pagefind process;
    the shard ``code`` names also gets Pagefind's script, worker and WebAssembly."""
    from pagefind.service import get_executable

    binary = get_executable()
    if binary is None:
        raise RenderError("the search index could not be built: no Pagefind binary "
                          "(pip install 'pagefind[bin]')")
    out: dict[str, dict[str, bytes]] = {}
    todo = dict(shards)
    for attempt in range(1, attempts + 1):
        built, failed = _build(binary, todo, code)
        out.update(built)
        if not failed:
            return out
        # Pagefind 1.5 now and then leaves a file empty: build those shards again
        log.info("search: %s (attempt %d of %d)", "; ".join(failed.values()), attempt, attempts)
        if attempt == attempts:
            raise RenderError("the search index could not be built: "
                              + "; ".join(failed.values()))
        todo = {k: shards[k] for k in failed}
    return out


def _build(binary: Path, shards: Mapping[str, Sequence[Record]], code: str | None
           ) -> tuple[dict[str, dict[str, bytes]], dict[str, str]]:
    """(files of each shard built whole, why each other shard is incomplete)."""
    built: dict[str, dict[str, bytes]] = {}
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="aggregator-pagefind-") as tmp:
        try:
            with _Service(binary) as service:
                for n, (shard, recs) in enumerate(shards.items()):
                    out = Path(tmp) / f"{n}" / INDEX_DIR
                    index = service.call({"type": "NewIndex", "config": {
                        "force_language": INDEX_LANGUAGE}})["index_id"]
                    # sent together (a thread writes while the answers are read): one at a
                    # time, waiting for each answer, took twice as long; the index is not
                    # byte-for-byte the same from one build to the next either way
                    service.call_all({"type": "AddRecord", "index_id": index, "url": r.url,
                                      "content": r.content, "language": INDEX_LANGUAGE,
                                      "meta": dict(r.meta),
                                      "filters": {k: list(v) for k, v in r.filters.items()},
                                      "sort": None} for r in recs)
                    service.call({"type": "WriteFiles", "index_id": index,
                                  "output_path": str(out)})
                    # Pagefind answers WriteFiles before its files are all on disk (an empty
                    # pagefind-entry.json, 1 build in 30): wait for the entry file
                    _wait_for(out / "pagefind-entry.json")
                    service.call({"type": "DeleteIndex", "index_id": index})  # its memory
                service.finish()
        except (OSError, ValueError) as e:
            raise RenderError(f"the search index could not be built: {e}") from e
        for n, shard in enumerate(shards):
            files, problem = _read(Path(tmp) / f"{n}" / INDEX_DIR, with_code=shard == code)
            if problem:
                failed[shard] = f"{shard or 'index'}: {problem}"
            else:
                built[shard] = files
    return built, failed


def _read(out: Path, with_code: bool) -> tuple[dict[str, bytes], str | None]:
    """The files Pagefind wrote into ``out`` that the search page needs, and what is wrong
    with them (None: nothing)."""
    files = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        code = rel in CODE
        data = rel.startswith(DATA) and not code and not rel.endswith((".js", ".css"))
        if p.is_file() and (data or (code and with_code)):
            files[rel] = p.read_bytes()
    for name in (*(CODE if with_code else ()), "pagefind-entry.json"):
        if not files.get(name):
            return files, f"Pagefind wrote {name} empty or not at all"
    try:
        json.loads(files["pagefind-entry.json"])
    except ValueError:
        return files, "Pagefind wrote an unreadable pagefind-entry.json"
    empty = [rel for rel, blob in files.items() if not blob]
    return files, (f"Pagefind wrote {empty[0]} empty" if empty else None)


def _wait_for(path: Path, timeout: float = 30) -> None:
    """Until ``path`` holds JSON (or ``timeout`` seconds passed: the checks below then fail)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            json.loads(path.read_bytes())
            return
        except (OSError, ValueError):
            time.sleep(0.02)


class _Service:
    """``pagefind --service``: requests and answers are base64 JSON, each followed by a comma,
    on its stdin and stdout (the protocol of Pagefind's own Python and Node wrappers).

    The wrapper of PyPI ``pagefind`` waits 0.1 s before reading each answer, which made one
    record cost 0.1 s (80 s for the offline example's 800 entries); here every request is
    written by a thread while the answers are read as they come.
    """

    def __init__(self, binary: Path):
        import subprocess

        self.proc = subprocess.Popen([str(binary), "--service"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next_id = 0
        self.buf = b""

    def __enter__(self) -> "_Service":
        return self

    def __exit__(self, *exc: object) -> None:
        import subprocess

        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def finish(self, timeout: float = 120) -> None:
        """Close Pagefind's input and wait for it to exit (it ends at the end of its input)."""
        import subprocess

        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired as e:
            raise OSError(f"Pagefind did not exit within {timeout:g} s") from e

    def _encode(self, payload: Mapping) -> bytes:
        self.next_id += 1
        message = {"message_id": self.next_id, "payload": payload}
        return base64.b64encode(json.dumps(message).encode("utf-8")) + b","

    def _answer(self) -> dict:
        assert self.proc.stdout is not None
        while b"," not in self.buf:
            chunk = self.proc.stdout.read1(1 << 16)  # type: ignore[attr-defined]  # a BufferedReader
            if not chunk:
                raise OSError("Pagefind stopped answering")
            self.buf += chunk
        raw, self.buf = self.buf.split(b",", 1)
        payload = json.loads(base64.b64decode(raw)).get("payload") or {}
        if payload.get("type") == "Error":
            raise ValueError(f"Pagefind: {payload.get('message')}")
        return payload

    def call(self, payload: Mapping) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write(self._encode(payload))
        self.proc.stdin.flush()
        return self._answer()

    def call_all(self, payloads: Iterable[Mapping]) -> int:
        """Send every request (from a thread, so that neither pipe fills up) and read as many
        answers; returns how many."""
        assert self.proc.stdin is not None
        messages = [self._encode(p) for p in payloads]
        stdin = self.proc.stdin

        def write() -> None:
            try:
                for m in messages:
                    stdin.write(m)
                stdin.flush()
            except OSError:  # Pagefind stopped: the reader says so
                pass

        writer = threading.Thread(target=write, name="pagefind-writer", daemon=True)
        writer.start()
        try:
            for _ in messages:
                self._answer()
        finally:
            writer.join()
        return len(messages)
