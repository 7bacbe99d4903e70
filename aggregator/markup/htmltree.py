"""A tiny tree over already-sanitised HTML: parse, walk, take the text, serialise back.

After nh3 a fragment holds only allowed, non-raw-text elements, so Python's ``html.parser``
tokenises it the way a browser would. Serialising re-escapes every text and attribute and puts
attributes in a fixed order, so pages are byte-stable.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Iterator

VOID = {"br", "hr", "img", "wbr", "source", "track", "col"}


@dataclass
class Element:
    tag: str
    attrs: list[tuple[str, str]] = field(default_factory=list)
    children: list["Element | str"] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        for k, v in self.attrs:
            if k == name:
                return v
        return None

    def set(self, name: str, value: str) -> None:
        self.attrs = [(k, v) for k, v in self.attrs if k != name] + [(name, value)]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        el = Element(tag, [(k, v or "") for k, v in attrs])
        self.stack[-1].children.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Element(tag, [(k, v or "") for k, v in attrs]))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        kids = self.stack[-1].children
        if kids and isinstance(kids[-1], str):
            kids[-1] += data
        else:
            kids.append(data)


def parse_fragment(fragment: str) -> Element:
    b = _TreeBuilder()
    b.feed(fragment)
    b.close()
    return b.root


def _serialize(nodes: list[Element | str], out: list[str]) -> None:
    for n in nodes:
        if isinstance(n, str):
            out.append(_html.escape(n, quote=False))
            continue
        # nh3 adds attributes in hash order; a fixed order keeps pages byte-stable
        attrs = "".join(f' {k}="{_html.escape(v, quote=True)}"'
                        for k, v in sorted(n.attrs, key=_attr_order))
        out.append(f"<{n.tag}{attrs}>")
        if n.tag not in VOID:
            _serialize(n.children, out)
            out.append(f"</{n.tag}>")


def _attr_order(kv: tuple[str, str]) -> tuple[int, str]:
    return (0 if kv[0] in ("href", "src") else 1, kv[0])


def to_html(nodes: list[Element | str]) -> str:
    out: list[str] = []
    _serialize(nodes, out)
    return "".join(out)


def text_of(node: Element | str) -> str:
    if isinstance(node, str):
        return node
    if node.tag == "br":
        return "\n"
    return "".join(text_of(c) for c in node.children)


def walk(nodes: list[Element | str]) -> Iterator[Element]:
    for n in nodes:
        if isinstance(n, Element):
            yield n
            yield from walk(n.children)
