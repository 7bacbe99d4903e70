"""Reading a YAML file and checking its values with the key path and line in every error.

The schema (which keys exist, their defaults) is ``config.py``'s; this module only knows how to
walk a ruamel round-trip tree and say precisely where a value is wrong.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from .errors import ConfigError, ConfigErrors

T = TypeVar("T")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?\s*$")
_UNITS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_LANG = re.compile(r"^[a-z]{2,3}$")


class Checker:
    """Walks the raw YAML tree, collecting the key path for error messages."""

    def __init__(self, path: Path):
        self.path = path
        self.errors: list[ConfigError] = []  # collected by ``attempt``

    def attempt(self, fn: Callable[..., T], *args: Any, default: Any = None) -> T:
        """``fn(*args)``; a ``ConfigError`` it raises is kept in ``errors`` (so that every
        problem of the file is reported at once) and ``default`` is returned instead."""
        try:
            return fn(*args)
        except ConfigErrors as e:
            self.errors.extend(e.errors)
        except ConfigError as e:
            self.errors.append(e)
        return default

    def done(self) -> None:
        """Raise every collected problem (``ConfigErrors``), if there was any."""
        if self.errors:
            raise ConfigErrors(sorted(self.errors, key=_line_number))

    def fail(self, key: str, message: str, hint: str | None = None, node: Any = None,
             item: Any = None) -> ConfigError:
        where = str(self.path)
        line = _line_of(node, item)
        if line is not None:
            where = f"{where}:{line}"
        return ConfigError(message, path=where, key=key or None, hint=hint)

    def mapping(self, value: Any, key: str, allowed: Mapping[str, Any]) -> dict:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a mapping of keys, got {kind(value)}",
                            f"allowed keys: {', '.join(allowed)}")
        for k in value:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), list(allowed), n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
                raise self.fail(join_key(key, k), "unknown key", hint, node=value, item=k)
        return dict(value)

    def string(self, value: Any, key: str, *, empty: bool = False, at: tuple = (None, None)) -> str:
        if not isinstance(value, str) or (not empty and not value.strip()):
            raise self.fail(key, f"must be a non-empty string, got {kind(value)}", None, *at)
        return value.strip()

    def number(self, value: Any, key: str, *, minimum: float = 0, integer: bool = False,
               at: tuple = (None, None)) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"must be a number, got {kind(value)}", None, *at)
        if integer and int(value) != value:
            raise self.fail(key, f"must be a whole number, got {value}", None, *at)
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}", None, *at)
        return int(value) if integer else float(value)

    def duration(self, value: Any, key: str, at: tuple = (None, None)) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
        m = _DURATION.match(str(value)) if isinstance(value, str) else None
        if not m or float(m.group(1)) <= 0:
            raise self.fail(key, f"is not a duration: {value!r}",
                            "write seconds (1800) or a number with a unit: 30m, 2h, 1d", *at)
        return float(m.group(1)) * _UNITS[m.group(2)]

    def boolean(self, value: Any, key: str, at: tuple = (None, None)) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {kind(value)}", None, *at)
        return value

    def lang(self, value: Any, key: str, at: tuple = (None, None)) -> str:
        text = self.string(value, key, at=at).lower()
        if not _LANG.match(text) or text not in _known_languages():
            raise self.fail(key, f"is not a known language code: {value!r}",
                            "use an ISO 639-1 code such as en, ta or si", *at)
        return text

    def langs(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"must be a non-empty list of language codes, got {kind(value)}",
                            "for example [en, ta, si]")
        return tuple(self.lang(v, f"{key}[{i}]") for i, v in enumerate(value))


@lru_cache(maxsize=1)
def _known_languages() -> frozenset[str]:
    """Language codes CLDR (through Babel) has a name for: en, ta, si, de, zh... (not "xx")."""
    from babel import Locale

    special = {"und", "mul", "mis", "zxx"}  # undetermined, multiple, uncoded, no language
    return frozenset(c for c in map(str, Locale("en").languages) if "_" not in c and c not in special)


def _line_number(e: ConfigError) -> int:
    """The line an error points at (its path ends in ":LINE"), 0 when it names none."""
    tail = (e.path or "").rpartition(":")[2]
    return int(tail) if tail.isdigit() else 0


def join_key(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


def _line_of(node: Any, item: Any) -> int | None:
    """1-based line of ``item`` inside a ruamel node, when ruamel kept it."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if isinstance(node, list):
            return lc.item(item)[0] + 1
        if item is not None:
            return lc.key(item)[0] + 1
        return lc.line + 1
    except Exception:  # ruamel keeps no position for some nodes
        return None


def read_yaml(path: Path) -> Any:
    """Parse a YAML file with ruamel (round-trip, so positions are known)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError("file not found", path=str(path),
                          hint="pass --config PATH or copy config.yaml from the project") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read: {e}", path=str(path)) from e
    try:
        return YAML(typ="rt").load(text)
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"not valid YAML: {problem}", path=where,
                          hint="check indentation and quote values that contain ':' or '#'") from e
