"""One article's address, whatever way a feed wrote it: the key for "same link".

``https://www.example.lk/news/1/?utm_source=rss#top`` and ``http://example.lk/news/1`` are the
same article. Story grouping (a syndicated copy) and the site's Atom / JSON Feed output (one
item per article) compare links by this key.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["normalize_link"]

# query parameters that say how a reader arrived, not which article it is
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "igshid", "ref_src", "cmpid", "ocid",
             "at_medium", "at_campaign", "rss", "from")


def normalize_link(link: str | None) -> str | None:
    """The link with scheme, ``www.``, trailing slash, fragment and tracking parameters dropped
    and the remaining query parameters sorted; None for no link."""
    if not link or not link.strip():
        return None
    return _normalize(link.strip())


@lru_cache(maxsize=8192)  # an entry's link is keyed in the worker, then again when stored
def _normalize(link: str) -> str:
    try:
        u = urlsplit(link)
        port = u.port
    except ValueError:  # a malformed address (bad port, bad IPv6) is its own key
        return link
    host = (u.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(u.query, keep_blank_values=True)
             if not any(k.lower() == t or k.lower().startswith(t) for t in _TRACKING)]
    path = u.path.rstrip("/") or ""
    q = urlencode(sorted(query))
    return f"{host}{path}" + (f"?{q}" if q else "")
