"""Shared helpers for XSS tests: load the payload corpus and find executable markup in HTML."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

PAYLOADS_FILE = Path(__file__).resolve().parent / "data" / "xss" / "payloads.txt"

# Elements that run code, load active content, submit data or change how the page is read.
DANGEROUS_ELEMENTS = {"script", "style", "object", "embed", "applet", "form", "input", "button",
                      "select", "textarea", "meta", "base", "link", "svg", "math", "frame",
                      "frameset", "template", "noscript", "isindex", "marquee", "body", "xmp"}
URL_ATTRS = {"href", "src", "action", "formaction", "poster", "data", "cite", "background",
             "xlink:href", "srcset", "lowsrc", "dynsrc", "codebase", "ping"}
SAFE_SCHEMES = ("http://", "https://", "mailto:")
VIDEO_PREFIXES = ("https://www.youtube.com/embed/", "https://www.youtube-nocookie.com/embed/",
                  "https://player.vimeo.com/video/")


def payloads() -> list[str]:
    lines = PAYLOADS_FILE.read_text(encoding="utf-8").splitlines()
    return [ln for ln in lines if ln.strip() and not ln.startswith("#")]


class _Finder(HTMLParser):
    def __init__(self, allow: set[str]):
        super().__init__(convert_charrefs=True)
        self.allow = allow
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in DANGEROUS_ELEMENTS and tag not in self.allow:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}> event handler")
            if name in ("style", "srcdoc") and tag not in self.allow:
                self.problems.append(f"<{tag} {name}> attribute")
            if name in URL_ATTRS:
                v = "".join(ch for ch in value if ch > " ").lower()
                if v and not v.startswith(SAFE_SCHEMES) and not _relative(v):
                    self.problems.append(f"<{tag} {name}={value!r}> unsafe URL")
        if tag == "iframe":
            src = dict(attrs).get("src") or ""
            if not src.startswith(VIDEO_PREFIXES):
                self.problems.append(f"<iframe src={src!r}> not an allowed video host")
            if "sandbox" not in dict(attrs):
                self.problems.append("<iframe> without sandbox")

    handle_startendtag = handle_starttag


def _relative(v: str) -> bool:
    """A relative URL of our own site (no scheme at all)."""
    head = v.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return ":" not in head


def executable_markup(html: str, allow: set[str] = frozenset()) -> list[str]:
    """Every piece of ``html`` that could run script or take over the page."""
    f = _Finder(set(allow))
    f.feed(html)
    f.close()
    return f.problems
