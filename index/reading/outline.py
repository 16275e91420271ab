"""The section tree of a letter, following its own numbering.

Reply letters answer a suggestion point by point: `一、` / `（一）` / `1.` / `1、` / `（1）` /
`第一，` at the start of a line, `一、二、` running inside one paragraph, and `一是…二是…`
lists inside a sentence. A marker only counts when it starts a list (`一`, `1`) or continues
the list open at its level, which keeps `2.3公里` or a stray `三、` in a sentence from
becoming sections. The text before the answer proper is the preamble and the thanks,
signature and contact lines at the end are the closing; both are sections too, so every
character of the letter belongs to some section and can be cited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from index.numerals import chinese_int
from index.reading.units import UNIT_SUFFIXES
from index.vocab import alternation, load_vocabulary

SectionKind = Literal["preamble", "body", "numbered", "closing"]
SECTION_NAMES: dict[str, str] = {"preamble": "开头", "body": "正文", "closing": "结尾"}
"""The Chinese name of each unnumbered section kind, as citations and the page show it."""


class Section(BaseModel):
    kind: SectionKind
    label: str
    """The number as written, without its punctuation: `三`, `（二）`, `1`, `第一`, `一是`."""
    heading: str
    path: list[str]
    """Labels from the root down to this section."""
    start: int
    end: int
    text: str
    children: list[Section] = Field(default_factory=list)

    @property
    def key(self) -> str:
        """How citations name the section: its labels from the root (`三/一是`) when numbered,
        else `开头`, `正文` or `结尾`."""
        if self.kind == "numbered":
            return "/".join(self.path)
        return SECTION_NAMES[self.kind]

    def walk(self) -> list[Section]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


_CN_NUM = "一二三四五六七八九十"


# (type, regex, how to read the number); order matters for matching at one position.
_LINE_MARKERS: list[tuple[str, re.Pattern[str]]] = [
    ("di", re.compile(rf"第([{_CN_NUM}]{{1,3}})(?:、第[{_CN_NUM}]{{1,3}})*[，,、：:]")),
    ("cn", re.compile(rf"([{_CN_NUM}]{{1,3}})[、.．]")),
    ("cn_paren", re.compile(rf"[（(]([{_CN_NUM}]{{1,3}})[）)]")),
    ("ar_paren", re.compile(r"[（(](\d{1,2})[）)]")),
    ("ar_dot", re.compile(r"(\d{1,2})[.．](?:(?!\d)|(?=\d{4}年))")),
    ("ar_dun", re.compile(r"(\d{1,2})、")),
]
_INLINE_CN = re.compile(rf"(?<=[。；;：:！？])\s*([{_CN_NUM}]{{1,3}})、")
_SHI = re.compile(rf"(?:^|(?<=[。；;：:，,！？\s]))([{_CN_NUM}]{{1,2}})是")

OPENING = re.compile(
    r"(?:答复|答覆|答復|回复|回覆|函复|函復|函告|说明|說明|报告|報告|意见|意見|汇报|答复意见|回复意见)如下[:：。]?"
    r"|如下[:：]"
)
# The closing's opening words and the acknowledgement words are in outline.toml.
_VOCAB = load_vocabulary(Path(__file__).with_name("outline.toml"))
_ACK = re.compile(alternation(_VOCAB["acknowledgements"]))
_CLOSING_START = re.compile(f"^(?:{alternation(_VOCAB['closing_starts'])})")
_DATE_LINE = re.compile(
    r"^(?:[^，。；：:]{0,30}?)?(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{7,8}|\d{4}-\d{1,2}-\d{1,2}"
    r"|[〇○零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日|\d{4}年)$"
)
_UNIT_LINE = re.compile(rf"^[\u4e00-\u9fff（）()·]{{2,40}}{UNIT_SUFFIXES}$")
_NOTE_LINE = re.compile(r"^【[^【】]*】$")
_ATTACHMENT = re.compile(r"^(?:附件|附[:：])")


@dataclass
class _Marker:
    type: str
    value: int
    start: int
    label: str
    line_start: bool
    length: int
    children: list[_Marker] = field(default_factory=list)
    end: int = 0


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _label(kind: str, match: re.Match[str]) -> str:
    raw = match.group(0).rstrip("、.．，,：: ")
    if kind in ("cn", "ar_dot", "ar_dun"):
        return match.group(1)
    return raw


def closing_start_line(lines: list[str], first_body_line: int) -> int:
    """Index of the first line of the closing: the run of thanks/signature/contact lines at the end."""
    end = len(lines)
    for i in range(len(lines) - 1, first_body_line - 1, -1):
        if _ATTACHMENT.match(lines[i]):
            end = i
            break
    start = end
    for i in range(end - 1, first_body_line - 1, -1):
        line = lines[i]
        if (
            _CLOSING_START.match(line)
            or _NOTE_LINE.match(line)
            or _DATE_LINE.match(line)
            or _UNIT_LINE.match(line)
            or (len(line) <= 40 and not re.search("[，。；]", line) and i > first_body_line)
        ):
            start = i
        else:
            break
    return start


def preamble_end(text: str, lines: list[str], spans: list[tuple[int, int]], salutation: int | None,
                 header_end: int) -> int:
    """Character offset where the preamble (title, salutation, acknowledgement) ends."""
    first = salutation + 1 if salutation is not None else header_end
    for i in range(first, min(len(lines), first + 6)):
        m = OPENING.search(lines[i])
        if m:
            return spans[i][0] + m.end()
        if _starts_with_marker(lines[i]):
            break
    if salutation is not None:
        nxt = salutation + 1
        if nxt < len(lines) and _ACK.search(lines[nxt][:120]) and not _starts_with_marker(lines[nxt]):
            return spans[nxt][1]
        return spans[salutation][1]
    return spans[header_end - 1][1] if header_end > 0 else 0


def _starts_with_marker(line: str) -> bool:
    return any(rx.match(line) for _, rx in _LINE_MARKERS)


def _find_markers(text: str, spans: list[tuple[int, int]], lo: int, hi: int) -> list[_Marker]:
    found: list[_Marker] = []
    for start, end in spans:
        if end <= lo or start >= hi:
            continue
        line = text[start:end]
        if start >= lo:
            for kind, rx in _LINE_MARKERS:
                m = rx.match(line)
                if m:
                    value = chinese_int(m.group(1)) if kind in ("di", "cn", "cn_paren") else int(m.group(1))
                    found.append(
                        _Marker(kind, value, start, _label(kind, m), True, len(m.group(0)))
                    )
                    break
        for m in _INLINE_CN.finditer(line):
            pos = start + m.start(1)
            if lo <= pos < hi:
                found.append(
                    _Marker("cn", chinese_int(m.group(1)), pos, m.group(1), False, m.end() - m.start(1))
                )
    return sorted(found, key=lambda mk: mk.start)


def _build_tree(markers: list[_Marker]) -> list[_Marker]:
    roots: list[_Marker] = []
    stack: list[_Marker] = []
    for mk in markers:
        types = [s.type for s in stack]
        if mk.type in types:
            idx = types.index(mk.type)
            if mk.value != stack[idx].value + 1:
                continue
            del stack[idx:]
        elif mk.value != 1 or (not mk.line_start and mk.type == "cn" and stack):
            continue
        (stack[-1].children if stack else roots).append(mk)
        stack.append(mk)
    return roots


def _close(nodes: list[_Marker], end: int, text: str) -> None:
    for i, node in enumerate(nodes):
        node.end = _rstrip(text, node.start, nodes[i + 1].start if i + 1 < len(nodes) else end)
        _close(node.children, node.end, text)


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in " \n\t":
        end -= 1
    return end


def _lstrip(text: str, start: int, end: int) -> int:
    while start < end and text[start] in " \n\t":
        start += 1
    return start


def heading_of(text: str, start: int, end: int, label_len: int) -> str:
    """The section's own words after its number: a heading line, or the first short sentence."""
    body_start = start + label_len
    line_end = text.find("\n", body_start)
    line_end = end if line_end == -1 or line_end > end else line_end
    line = text[body_start:line_end].strip()
    if not line:
        return ""
    if len(line) <= 50 and not re.search("[。；]", line[:-1]) and not line.endswith(("。", "；")) and (
        line_end < end
    ):
        return line.rstrip("：:，,")
    m = re.match(r"([^。；：:！？]{2,40})[。；：:！？]", line)
    if m:
        return m.group(1).strip()
    m = re.match(r"([^，,。；]{2,24})[，,]", line)
    return m.group(1).strip() if m else ""


def _shi_children(text: str, start: int, end: int, path: list[str]) -> list[Section]:
    """`一是…；二是…` lists inside the paragraphs of one section, each item ending at the next."""
    items: list[Section] = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        para_end = end if nl == -1 else nl
        hits = [m for m in _SHI.finditer(text, pos, para_end)]
        values = [chinese_int(m.group(1)) for m in hits]
        run: list[re.Match[str]] = []
        for m, v in zip(hits, values, strict=True):
            if v == len(run) + 1:
                run.append(m)
        if len(run) >= 2:
            for i, m in enumerate(run):
                s = m.start(1)
                e = _rstrip(text, s, run[i + 1].start(1) if i + 1 < len(run) else para_end)
                label = m.group(0).lstrip("。；;：:，,！？ \n")
                clause = re.match(r"[^，,；;。：:]{2,20}", text[s + len(label):e])
                items.append(Section(
                    kind="numbered", label=label, heading=clause.group(0) if clause else "",
                    path=[*path, label], start=s, end=e, text=text[s:e],
                ))
        pos = para_end + 1
    return items


def _to_section(node: _Marker, text: str, parent: list[str]) -> Section:
    path = [*parent, node.label]
    children = [_to_section(child, text, path) for child in node.children]
    if not children:
        own_start = node.start + node.length
        children = _shi_children(text, own_start, node.end, path)
    return Section(
        kind="numbered", label=node.label, heading=heading_of(text, node.start, node.end, node.length),
        path=path, start=node.start, end=node.end, text=text[node.start:node.end],
        children=children,
    )


def build_outline(text: str, *, salutation: int | None, header_end: int) -> list[Section]:
    """Preamble, body, numbered sections and closing, covering the whole text in order."""
    lines = text.split("\n")
    spans = _line_spans(text)
    if not text.strip():
        return []
    pre_end = preamble_end(text, lines, spans, salutation, header_end)
    first_body_line = next((i for i, (s, e) in enumerate(spans) if e > pre_end), len(lines))
    close_line = closing_start_line(lines, first_body_line)
    close_start = spans[close_line][0] if close_line < len(lines) else len(text)
    close_start = max(close_start, pre_end)

    sections: list[Section] = []

    def add(kind: SectionKind, start: int, end: int, label: str = "") -> None:
        start, end = _lstrip(text, start, end), _rstrip(text, start, end)
        if end > start:
            children = _shi_children(text, start, end, []) if kind == "body" else []
            sections.append(Section(kind=kind, label=label, heading="", path=[], start=start,
                                    end=end, text=text[start:end], children=children))

    add("preamble", 0, pre_end)
    roots = _build_tree(_find_markers(text, spans, pre_end, close_start))
    if roots:
        add("body", pre_end, roots[0].start)
        _close(roots, close_start, text)
        sections.extend(_to_section(root, text, []) for root in roots)
    else:
        add("body", pre_end, close_start)
    add("closing", close_start, len(text))
    return sections
