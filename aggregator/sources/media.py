"""An entry's picture, as its feed names it: ``media:thumbnail``, an image ``media:content``,
an image enclosure (RSS ``<enclosure>``, Atom ``rel="enclosure"``) or JSON Feed's ``image``.

Only absolute http(s) URLs without spaces or control characters are kept (the site shows
the picture as a small, lazy-loaded thumbnail that sends no referrer); anything else is None.
The first ``<img>`` of an entry's sanitised HTML is the fallback, taken where it is sanitised
(``enrich``).
"""

from __future__ import annotations

import re
from typing import Any, Mapping
from urllib.parse import urljoin, urlsplit

MAX_URL = 2000
_BAD = re.compile(r"[\x00-\x20\x7f<>\"'\\]")


def image_url(url: Any, base: str | None = None) -> str | None:
    """``url`` (made absolute against ``base``) when it is a plain http(s) URL, else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > MAX_URL:
        return None
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or _BAD.search(url):
        return None
    return url


def _is_image(item: Mapping[str, Any]) -> bool:
    kind = str(item.get("type") or "")
    medium = str(item.get("medium") or "")
    return kind.startswith("image/") or medium == "image"


def feed_image(e: Mapping[str, Any], base: str | None) -> str | None:
    """The picture a feedparser entry names, in order of intent (a thumbnail first)."""
    for thumb in e.get("media_thumbnail") or ():
        if isinstance(thumb, Mapping) and (url := image_url(thumb.get("url"), base)):
            return url
    for item in e.get("media_content") or ():
        if isinstance(item, Mapping) and _is_image(item) and (url := image_url(item.get("url"), base)):
            return url
    for link in [*(e.get("enclosures") or ()), *(e.get("links") or ())]:
        if (isinstance(link, Mapping) and _is_image(link)
                and (link.get("rel") in (None, "enclosure"))
                and (url := image_url(link.get("href") or link.get("url"), base))):
            return url
    return None


_IMG = re.compile(r"<img\b[^>]*?\bsrc=\"([^\"]+)\"", re.IGNORECASE)


def first_image(html: str) -> str | None:
    """The ``src`` of the first ``<img>`` in sanitised HTML (absolute http(s) only)."""
    m = _IMG.search(html or "")
    if not m:
        return None
    import html as _html
    return image_url(_html.unescape(m.group(1)))
