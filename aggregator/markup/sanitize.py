"""Make untrusted feed HTML safe to show, and derive text, excerpts and language marks from it.

Pure functions over strings:

- ``sanitize_html`` runs nh3 (ammonia) with a small allow-list: no script, no event handlers,
  no ``javascript:``/``data:`` URLs, no forms, no ``style``; iframes only from YouTube/Vimeo
  players, sandboxed; images lazy with ``referrerpolicy="no-referrer"``; links
  ``rel="noopener noreferrer nofollow"``; relative URLs resolved against the entry's base.
- ``html_to_text``: plain text for language detection, topics and search.
- ``excerpt_html``: a sanitised excerpt cut at a word boundary, tags balanced.

After nh3 the post-passes below work on ``htmltree``'s tree and serialise it back with every
text and attribute re-escaped. Language marks on blocks are ``blocklang``'s.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Callable
from urllib.parse import urljoin, urlsplit

import nh3

from .htmltree import VOID, Element, parse_fragment, to_html

__all__ = ["sanitize_html", "html_to_text", "excerpt_html"]

_BLOCK = {"p", "div", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li",
          "pre", "figure", "figcaption", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
          "dl", "dt", "dd", "section", "article", "aside", "header", "footer", "hr", "details",
          "summary", "caption", "address"}
_INLINE = {"a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "del", "dfn", "em", "i", "ins",
           "kbd", "mark", "q", "rp", "rt", "ruby", "s", "samp", "small", "span", "strong", "sub",
           "sup", "time", "u", "var", "wbr"}
_MEDIA = {"img", "iframe", "video", "audio", "picture", "source", "track"}
ALLOWED_TAGS = _BLOCK | _INLINE | _MEDIA | {"col", "colgroup"}

# Removed together with everything inside them (the rest are unwrapped, their text kept).
_DROP_WITH_CONTENT = {"script", "style", "noscript", "template", "object", "embed", "applet",
                      "svg", "math", "select", "textarea", "title", "xmp", "noembed", "noframes",
                      "plaintext", "head", "button", "form", "frameset", "frame"}

_ATTRIBUTES = {
    "*": {"lang", "dir", "title"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "iframe": {"src", "width", "height", "allowfullscreen"},
    "video": {"src", "poster", "width", "height", "controls", "preload", "muted", "loop"},
    "audio": {"src", "controls", "preload", "loop"},
    "source": {"src", "type", "media"},
    "track": {"src", "kind", "srclang", "label"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "abbr": {"title"},
}
_URL_ATTRS = {"href", "src", "poster", "cite"}
LINK_REL = "noopener noreferrer nofollow"
IFRAME_SANDBOX = "allow-scripts allow-same-origin allow-presentation allow-popups"
_SET_ATTRS = {
    "img": {"loading": "lazy", "referrerpolicy": "no-referrer", "decoding": "async"},
    # YouTube's player refuses to play without a referrer, so the origin only (not the page).
    "iframe": {"sandbox": IFRAME_SANDBOX, "loading": "lazy",
               "referrerpolicy": "strict-origin-when-cross-origin"},
    "video": {"controls": "", "preload": "none"},
    "audio": {"controls": "", "preload": "none"},
}
# Video players we embed; everything else in an iframe is dropped. Host → path prefix.
# Hosts match the site's CSP frame-src, so youtube.com is rewritten to www.youtube.com.
VIDEO_HOSTS = {
    "www.youtube.com": "/embed/",
    "youtube.com": "/embed/",
    "www.youtube-nocookie.com": "/embed/",
    "youtube-nocookie.com": "/embed/",
    "player.vimeo.com": "/video/",
}
_TAB_NL = re.compile(r"[\t\n\r]")
_C0_SPACE = "".join(map(chr, range(0x21)))


def _safe_url(value: str, base_url: str | None) -> str | None:
    """The absolute http(s)/mailto URL for ``value``, or None when it is anything else."""
    # Browsers drop leading/trailing C0 controls and spaces, and tabs/newlines anywhere
    # (WHATWG URL parsing), so "java\tscript:" is javascript: to them and to us.
    raw = _TAB_NL.sub("", value.strip(_C0_SPACE))
    if not raw or raw.startswith("#"):
        return None  # a fragment of the feed's page means nothing on ours
    try:
        scheme = urlsplit(raw).scheme.lower()
        if scheme:
            return raw if scheme in ("http", "https", "mailto") else None
        if raw.startswith(("//", "\\\\", "/\\", "\\/")):
            raw = "https://" + raw.lstrip("/\\")
            return raw if urlsplit(raw).hostname else None
        if not base_url or urlsplit(base_url).scheme.lower() not in ("http", "https"):
            return None
        joined = urljoin(base_url, raw)
        return joined if urlsplit(joined).scheme.lower() in ("http", "https") else None
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None


def _video_src(url: str | None) -> str | None:
    """``url`` as an https embed URL of an allowed video host, else None."""
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    prefix = VIDEO_HOSTS.get(host)
    if parts.scheme not in ("http", "https") or prefix is None or not parts.path.startswith(prefix):
        return None
    if parts.username or parts.password or parts.port:
        return None
    if not host.startswith(("www.", "player.")):
        host = "www." + host
    return parts._replace(scheme="https", netloc=host).geturl()


def _attribute_filter(base_url: str | None) -> Callable[[str, str, str], str | None]:
    def keep(tag: str, attr: str, value: str) -> str | None:
        if attr in _URL_ATTRS:
            url = _safe_url(value, base_url)
            if tag == "iframe":
                return _video_src(url)
            if tag != "a" and url is not None and url.startswith("mailto:"):
                return None
            return url
        if attr in ("width", "height", "span", "colspan", "rowspan", "start", "value"):
            return value if value.strip().isdigit() and len(value.strip()) < 6 else None
        if attr == "lang" or attr == "hreflang" or attr == "srclang":
            v = value.strip()
            return v if re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", v) else None
        if attr == "dir":
            return value.strip().lower() if value.strip().lower() in ("ltr", "rtl", "auto") else None
        return value

    return keep


def _prune(el: Element) -> None:
    """Drop iframes that lost their src, media without a source; give images an alt."""
    kept: list[Element | str] = []
    for c in el.children:
        if isinstance(c, Element):
            if c.tag == "iframe" and not c.get("src"):
                continue
            if c.tag == "img" and not c.get("src"):
                continue
            if c.tag == "iframe":
                c.children = []  # fallback text of an iframe is never shown
                if not c.get("title"):
                    c.set("title", "Embedded video")
            if c.tag == "img" and c.get("alt") is None:
                c.attrs.insert(1, ("alt", ""))
            _prune(c)
        kept.append(c)
    el.children = kept


# --- public API ------------------------------------------------------------------------------

def sanitize_html(html: str, base_url: str | None) -> str:
    """Safe HTML for ``html`` from a feed; relative URLs resolved against ``base_url``."""
    if not html or not html.strip():
        return ""
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=_ATTRIBUTES,
        attribute_filter=_attribute_filter(base_url),
        strip_comments=True,
        link_rel=LINK_REL,
        set_tag_attribute_values=_SET_ATTRS,
        url_schemes={"http", "https", "mailto"},
    )
    root = parse_fragment(cleaned)
    _prune(root)
    return to_html(root.children).strip()


class _TextExtractor(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self.skip += 1
        elif tag in _BLOCK or tag == "br":
            self.parts.append(" ")
        elif tag == "img" and not self.skip:
            pass

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


_WS = re.compile(r"\s+")


def html_to_text(html: str) -> str:
    """Plain text of ``html``: tags removed, entities decoded, whitespace collapsed."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return _WS.sub(" ", html).strip()
    p = _TextExtractor()
    p.feed(html)
    p.close()
    text = "".join(p.parts).replace("\u00a0", " ")
    return _WS.sub(" ", text).strip()


_MEDIA_KEEP = {"img", "iframe", "video", "audio", "picture"}


# Elements whose children are elements only (text in them is inter-element whitespace).
_NO_TEXT = {"ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "tr", "colgroup"}


def excerpt_html(html: str, chars: int, *, sanitized: bool = False) -> str:
    """A sanitised excerpt of about ``chars`` characters of text, cut at a word boundary.

    Tags stay balanced; the first image or embed is kept, later ones are dropped. Pass
    ``sanitized=True`` when ``html`` is ``sanitize_html`` output (sanitising is idempotent,
    so doing it again only costs time).
    """
    safe = (html.strip() if sanitized else sanitize_html(html, None)) if html else ""
    if not safe:
        return ""
    root = parse_fragment(safe)
    state = {"left": max(1, chars), "media": 0, "cut": False}

    def trim(el: Element) -> None:
        kept: list[Element | str] = []
        for c in el.children:
            if state["cut"]:
                break
            if isinstance(c, str):
                if len(c) <= state["left"]:
                    state["left"] -= len(_WS.sub(" ", c))
                    kept.append(c)
                    continue
                state["cut"] = True
                if el.tag in _NO_TEXT:
                    # whitespace between </li> and <li>: text cannot stand there (a bare "…"
                    # directly inside <ul> is invalid); the ellipsis goes into the last item
                    last = next((k for k in reversed(kept) if isinstance(k, Element)), None)
                    if last is not None and last.tag not in VOID:
                        last.children.append("…")
                    break
                kept.append(_cut_words(c, state["left"]) + "…")
                break
            if c.tag in _MEDIA_KEEP:
                if state["media"]:
                    continue
                state["media"] += 1
                kept.append(c)
                continue
            trim(c)
            if c.tag in VOID or c.children:
                kept.append(c)
        el.children = kept

    trim(root)
    return to_html(root.children).strip()


def _cut_words(text: str, n: int) -> str:
    """``text`` cut to at most ``n`` characters at a whitespace boundary (hard cut if none)."""
    head = text[: n + 1]
    m = re.search(r"\s+\S*$", head)
    cut = head[: m.start()] if m and m.start() > 0 else text[:n]
    return cut.rstrip(" \t\n,;:–—-")
