"""Edit config.yaml in place, changing only the lines an edit must change.

Used by ``aggregator feeds add|remove|import|apply-moves``. The file is read with ruamel.yaml's
round-trip loader to find things (which item is which feed, and on which lines it stands); the
edits are then made on the text itself: an added feed is a few lines after the last feed, a
removed feed loses its own lines and nothing else, a moved feed's URL changes on its line.
Dumping the whole tree again would re-flow the rest of the file (every multi-line keyword list
of ``topics`` joined onto one long line). Only a layout this cannot edit (a feed list written
as one flow sequence, ``feeds: [...]``) is dumped whole. The result is validated with the normal
config loader before it replaces the file (atomically), so an edit can never leave a config
that ``aggregator check`` rejects.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ..config import parse_config, read_yaml, resolve_feed_url
from ..errors import ConfigError

# (mapping, sequence, offset) indentations tried, the first that reproduces the file wins
_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 6, 4), (4, 4, 0))


class ConfigEditor:
    """A loaded config.yaml that can be edited and saved."""

    def __init__(self, path: str | Path):
        self.path = Path(path).resolve()
        self.text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        read_yaml(self.path)  # the loader's errors (missing file, bad YAML) with their hints
        self.data = _yaml(*_INDENTS[0]).load(self.text)
        if self.data is None:
            self.data = CommentedMap()
        if not isinstance(self.data, CommentedMap):
            raise ConfigError("the top level must be a mapping", path=str(self.path))
        self.yaml = self._yaml_like_the_file()
        self.lines = self.text.splitlines(keepends=True)
        self.added: list[CommentedMap] = []  # feeds to append after the last one
        self.whole = False  # an edit the text edits cannot make: dump the whole tree

    def _yaml_like_the_file(self) -> YAML:
        for mapping, sequence, offset in _INDENTS:
            y = _yaml(mapping, sequence, offset)
            if _dump(y, y.load(self.text)) == self.text:
                return y
        return _yaml(*_INDENTS[0])

    @property
    def feeds(self) -> CommentedSeq:
        feeds = self.data.get("feeds")
        if feeds is None:
            feeds = self.data["feeds"] = CommentedSeq()
        if not isinstance(feeds, list):
            raise ConfigError("feeds must be a list", path=str(self.path), key="feeds")
        return feeds

    def _resolved(self, raw: Any) -> str | None:
        url = raw.get("url") if isinstance(raw, dict) else raw
        return resolve_feed_url(str(url), self.path.parent) if isinstance(url, str) else None

    def index_of(self, url_or_id: str) -> int | None:
        """Position in ``feeds`` of the feed with this URL (as written or resolved) or id."""
        wanted = resolve_feed_url(url_or_id, self.path.parent) or url_or_id
        for i, item in enumerate(self.feeds):
            raw = item.get("url") if isinstance(item, dict) else item
            if raw == url_or_id or self._resolved(item) == wanted:
                return i
        try:
            config = parse_config(self.data, self.path)
        except ConfigError:
            return None
        for i, feed in enumerate(config.feeds):
            if feed.id == url_or_id:
                return i
        return None

    def add_feed(self, url: str, *, name: str | None = None, language: str | None = None) -> bool:
        """Append a feed; False when the same URL is already listed."""
        if self.index_of(url) is not None:
            return False
        feeds = self.feeds
        item = CommentedMap()
        if name:
            item["name"] = name
        item["url"] = DoubleQuotedScalarString(url)
        if language:
            item["language"] = language
        last = feeds[-1] if len(feeds) else None
        if last is None or (isinstance(last, CommentedMap) and last.fa.flow_style()):
            item.fa.set_flow_style()
        feeds.append(item)
        self.added.append(item)
        return True

    def remove_feed(self, url_or_id: str) -> dict | None:
        """Remove a feed by URL or id; returns what was removed, None when not found."""
        i = self.index_of(url_or_id)
        if i is None:
            return None
        item = self.feeds[i]
        span = self._item_lines(i)
        if span is None or self.added:
            self.whole = True
        else:
            del self.lines[span[0]:span[1]]
            self._reload()
        if self.whole:
            _keep_comment_of(self.feeds, i)
            del self.feeds[i]
        return dict(item) if isinstance(item, dict) else {"url": item}

    def replace_url(self, old: str, new: str, *, keep_id: str | None = None) -> bool:
        """Point the feed listed as ``old`` at ``new``; ``keep_id`` pins its id (so its
        stored entries stay its own when the id was derived from the URL)."""
        i = self.index_of(old)
        if i is None:
            return False
        item = self.feeds[i]
        add_id = bool(keep_id and (not isinstance(item, CommentedMap)
                                   or ("id" not in item and "name" not in item)))
        if not self.whole and not self.added and not add_id and self._replace_url_text(i, new):
            return True
        self.whole = True
        if not isinstance(item, CommentedMap):
            item = CommentedMap([("url", item)])
            self.feeds[i] = item
        item["url"] = DoubleQuotedScalarString(new)
        if keep_id and "id" not in item and "name" not in item:
            item["id"] = keep_id
        return True

    # -- text edits --------------------------------------------------------------------------

    def _reload(self) -> None:
        self.text = "".join(self.lines)
        self.data = _yaml(*_INDENTS[0]).load(self.text) or CommentedMap()

    def _seq_is_block(self) -> bool:
        feeds = self.data.get("feeds")
        return isinstance(feeds, CommentedSeq) and not feeds.fa.flow_style() and len(feeds) > 0

    def _item_lines(self, i: int) -> tuple[int, int] | None:
        """[first, end) line numbers of feed ``i``'s own lines (comments and blank lines after
        it belong to what follows), None when the layout is not one item per line block."""
        if not self._seq_is_block():
            return None
        feeds = self.data["feeds"]
        start, _col = feeds.lc.item(i)
        first = start  # the line of the dash: a block item starts on it
        while first > 0 and not self.lines[first].lstrip().startswith("-"):
            first -= 1
        dash = len(self.lines[first]) - len(self.lines[first].lstrip())
        end = first + 1
        last = first + 1
        while end < len(self.lines):
            line = self.lines[end]
            body = line.strip()
            indent = len(line) - len(line.lstrip())
            if body and indent <= dash and not (indent == dash and body.startswith("#")):
                break  # the next item, or the next top-level key
            if body and not body.startswith("#"):
                last = end + 1
            end += 1
        return first, last

    def _replace_url_text(self, i: int, new: str) -> bool:
        item = self.feeds[i]
        if not self._seq_is_block():
            return False
        if isinstance(item, CommentedMap):
            try:
                line, col = item.lc.value("url")
            except (KeyError, TypeError):
                return False
        else:
            line, col = self.data["feeds"].lc.item(i)
        text = self.lines[line]
        m = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|[^\s,}#]+').match(text, col)
        if not m:
            return False
        self.lines[line] = text[:m.start()] + _quoted(new) + text[m.end():]
        self._reload()
        return True

    def _added_text(self) -> str:
        """The lines of the feeds to add, laid out like the file's last feed."""
        y = self.yaml
        out = []
        for item in self.added:
            out.append(_dump(y, [item]))
        text = "".join(out)
        feeds = self.data.get("feeds")
        n = len(feeds) - len(self.added) if isinstance(feeds, CommentedSeq) else 0
        if n > 0:
            first, _end = self._item_lines(n - 1) or (None, None)
            if first is not None:
                want = len(self.lines[first]) - len(self.lines[first].lstrip())
                have = len(text) - len(text.lstrip(" "))
                shift = want - have
                lines = text.splitlines(keepends=True)
                if shift > 0:
                    lines = [" " * shift + ln if ln.strip() else ln for ln in lines]
                elif shift < 0:
                    lines = [ln[-shift:] if ln[:-shift].strip() == "" else ln for ln in lines]
                text = "".join(lines)
        return text

    def _text_with_additions(self) -> str | None:
        """The file with the added feeds' lines after its last feed; None when the layout
        needs the whole tree dumped."""
        feeds = self.data.get("feeds")
        added = self._added_text()
        if "feeds" not in self.data or feeds is None:
            if "feeds" in self.data:
                return None  # "feeds:" with nothing after it: let ruamel write it
            text = "".join(self.lines)
            if text and not text.endswith("\n"):
                text += "\n"
            return text + "feeds:\n" + added
        n = len(feeds) - len(self.added) if isinstance(feeds, CommentedSeq) else 0
        if n <= 0 or not self._seq_is_block() or feeds.fa.flow_style():
            return None
        _first, end = self._item_lines(n - 1) or (None, None)
        if end is None:
            return None
        lines = list(self.lines)
        if end == len(lines) and lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines[end:end] = [added]
        return "".join(lines)

    def render(self) -> str:
        if not self.whole:
            if not self.added:
                return "".join(self.lines)
            text = self._text_with_additions()
            if text is not None:
                return text
        return _dump(self.yaml, self.data)

    def save(self) -> None:
        """Validate and atomically replace the file."""
        text = self.render()
        parse_config(YAML(typ="rt").load(text), self.path)  # raises ConfigError if broken
        fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".yaml", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            if self.path.exists():
                os.chmod(tmp, self.path.stat().st_mode & 0o777)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.text = text


def add_feeds(path: str | Path, feeds: Iterable[tuple[str, str | None, str | None]]
              ) -> tuple[list[str], list[str]]:
    """Add (url, name, language) feeds in one write; returns (added urls, skipped duplicates)."""
    ed = ConfigEditor(path)
    added, skipped = [], []
    for url, name, language in feeds:
        (added if ed.add_feed(url, name=name, language=language) else skipped).append(url)
    if added:
        ed.save()
    return added, skipped


def remove_feed(path: str | Path, url_or_id: str) -> dict | None:
    ed = ConfigEditor(path)
    removed = ed.remove_feed(url_or_id)
    if removed is not None:
        ed.save()
    return removed


def replace_url(path: str | Path, old: str, new: str, *, keep_id: str | None = None) -> bool:
    ed = ConfigEditor(path)
    if ed.replace_url(old, new, keep_id=keep_id):
        ed.save()
        return True
    return False


def _quoted(url: str) -> str:
    """``url`` as a double-quoted YAML scalar."""
    return '"' + url.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml(mapping: int, sequence: int, offset: int) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap long lines
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    return y


def _dump(y: YAML, data: Any) -> str:
    buf = io.StringIO()
    y.dump(data, buf)
    return buf.getvalue()


def _keep_comment_of(seq: CommentedSeq, i: int) -> None:
    """A comment line above item ``i`` (a section header) belongs to the next item, not to the
    removed one: move it down so deleting a feed does not delete "# Sinhala"."""
    ca = seq.ca.items.get(i)
    if not ca or i + 1 >= len(seq):
        return
    nxt = seq.ca.items.get(i + 1)
    if nxt is None:
        seq.ca.items[i + 1] = ca
