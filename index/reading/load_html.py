"""HTML → the visible text, one line per block element, at any nesting depth.

Pages saved from old CMSs nest tables and fonts hundreds deep, and a hostile page nests 10,000
deep: the tree is walked with an explicit stack, never by recursion, and the parser is lxml's,
which flattens what goes beyond its own depth limit instead of failing.
"""

from __future__ import annotations

import re

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "center", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "tfoot",
    "thead", "title", "tr", "ul",
}
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "svg", "head")


def html_to_text(html: str) -> tuple[str, str | None]:
    """Visible text with one line per block element; scripts, styles and comments dropped."""
    from bs4 import BeautifulSoup, Comment, NavigableString, Tag

    soup = BeautifulSoup(html, "lxml")
    title_tag = soup.find("title")
    page_title = title_tag.get_text(" ", strip=True) if title_tag else None
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if not isinstance(tag, Tag) or tag.attrs is None:
            continue
        style = str(tag.get("style", "")).replace(" ", "").lower()
        if tag.has_attr("hidden") or "display:none" in style or "visibility:hidden" in style:
            tag.decompose()

    parts: list[str] = []
    # Each stack entry is a node to visit or a string to emit once a block's children are done.
    stack: list[object] = [list((soup.body or soup).children)[::-1]]
    while stack:
        top = stack[-1]
        if isinstance(top, str):
            stack.pop()
            parts.append(top)
            continue
        assert isinstance(top, list)
        if not top:
            stack.pop()
            continue
        child = top.pop()
        if isinstance(child, NavigableString):
            parts.append(str(child).replace("\n", " "))
        elif isinstance(child, Tag):
            name = child.name.lower()
            if name == "br":
                parts.append("\n")
                continue
            block = name in _BLOCK_TAGS
            if block:
                parts.append("\n")
            if name in ("td", "th") and parts and not parts[-1].endswith("\n"):
                parts.append(" | ")
            if block:
                stack.append("\n")
            stack.append(list(child.children)[::-1])
    text = "".join(parts)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line), page_title
