"""Whether a feed's ``url`` in the config can be fetched at all, checked when the config loads.

``aggregator check`` (and every command, which loads the config) refuses what would fail only at
run time: ``htps//www.example.org/rss`` or ``www.example.org/rss`` (no scheme: taken for a local
path that does not exist), ``http://exa mple.com/feed`` (a space in the host), a port out of
range. The hint names the https URL it probably meant.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

__all__ = ["feed_url_problem", "url_hint"]

_HOST = re.compile(r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?)+$")  # "_" occurs in real names


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def feed_url_problem(given: str, resolved: str | None) -> str | None:
    """Why a feed's ``url`` cannot be fetched, or None: an http(s) URL needs a valid host name
    and no spaces; anything else must be a file:// URL or a path that exists (a
    mistyped URL such as ``www.example.org/rss`` or ``htps//example.org`` would otherwise be
    taken for a missing local file and fail only at run time). A path that exists but cannot
    be read as a feed (a folder) is the feed's failure at run time, shown on feeds.html."""
    if resolved is None:
        return "is not an http(s) URL, file:// URL or path"
    parsed = urlparse(resolved)
    if parsed.scheme in ("http", "https"):
        host = parsed.hostname or ""
        if any(ch.isspace() for ch in given) or not (_HOST.match(_idna(host)) or _is_ip(host)):
            return "is not a valid http(s) URL (a space, or a bad host name)"
        try:
            _ = parsed.port  # raises on a port out of range or not a number
        except ValueError:
            return "is not a valid http(s) URL (a bad port)"
        return None
    local = Path(url2pathname(parsed.path))
    if not local.exists():  # a folder or an unreadable file fails at run time, in its state
        return "is neither an http(s) URL nor an existing file"
    return None


def _idna(host: str) -> str:
    """The host name in ASCII (an internationalised name as punycode); "-" when it is none."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode()
    except UnicodeError:
        return "-"


def url_hint(given: str) -> str:
    """A hint for a bad feed URL: the https URL it probably meant, when that is clear."""
    text = given.strip()
    m = re.match(r"^(?:h?t?t?p?s?:?/*)?((?:www\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/\S*)?)$", text)
    if m and not text.startswith(("http://", "https://")) and "." in m.group(1).split("/")[0]:
        return f"did you mean https://{m.group(1)}?"
    return "for example https://example.org/feed.xml, or a path to a feed file"
