"""Citations: which letter, which section, which exact words — and the reference text a member
of staff pastes into a draft, e.g.
`《关于加强科技创新推进山东省5G产业布局的建议》的答复（2020年8月28日）第三部分`."""

from __future__ import annotations

import re

from pydantic import BaseModel

from index.numerals import int_to_chinese
from index.reading.letter import PAGE_INFO, ReplyLetter
from index.reading.outline import Section

_REPLY_WORDS = re.compile(
    r"(?:答复|答覆|答復|复函|復函|答复函|答復函|的函|意见|意見|摘要|办理情况|辦理情況)(?:[（(][^（）()]*[）)])?$"
)


class Citation(BaseModel):
    n: int
    """The marker number: `[n]` in the answer text."""
    letter: str
    title: str
    issuer: str | None = None
    date: str | None = None
    section: str
    """Section labels from the root joined by `/` (`三/一是`); `开头`, `正文` or `结尾` otherwise."""
    heading: str = ""
    quote: str
    start: int
    end: int
    verified: bool = True
    """False when the cited span does not hold the sentence's facts (LLM answers only)."""
    note: str = ""

    @property
    def reference(self) -> str:
        return reference_text(self.title, self.date, self.section)


def chinese_date(iso: str | None) -> str:
    if not iso:
        return ""
    year, month, day = iso.split("-")
    return f"{year}年{int(month)}月{int(day)}日"


def section_words(section: str) -> str:
    """`三/一是` → `第三部分一是`; `1` → `第一部分`; `开头` → `开头部分`."""
    if section in ("开头", "结尾"):
        return f"{section}部分"
    if section == "正文":
        return "正文"
    labels = section.split("/")
    top = labels[0]
    if top.isdigit():
        top = int_to_chinese(int(top))
    top = top.removeprefix("第")
    first = f"第{top}部分"
    return first + "".join(labels[1:])


def reference_text(title: str, date: str | None, section: str) -> str:
    """The draft-ready reference: 《title》(的答复)（date）section."""
    name = f"《{title}》" if _REPLY_WORDS.search(title) else f"《{title}》的答复"
    when = f"（{chinese_date(date)}）" if date else ""
    return f"{name}{when}{section_words(section)}"


def section_at(letter: ReplyLetter, start: int, end: int) -> Section | None:
    """The deepest section that holds the whole span [start, end)."""
    found: Section | None = None
    candidates = letter.sections
    while candidates:
        for section in candidates:
            if section.start <= start and end <= section.end:
                found = section
                candidates = section.children
                break
        else:
            break
    return found


def make_citation(
    n: int, letter: ReplyLetter, start: int, end: int, *, verified: bool = True, note: str = ""
) -> Citation:
    section = section_at(letter, start, end)
    return Citation(
        n=n,
        letter=letter.id,
        title=letter.display_title,
        issuer=letter.issuer,
        date=letter.date,
        section=section.key if section else PAGE_INFO if letter.on_page(start) else "正文",
        heading=section.heading if section else "",
        quote=letter.text[start:end],
        start=start,
        end=end,
        verified=verified,
        note=note,
    )


def references_block(citations: list[Citation]) -> str:
    """The numbered reference list that goes under an answer pasted into a draft."""
    lines = []
    for c in citations:
        issuer = f"{c.issuer}：" if c.issuer else ""
        flag = "" if c.verified else "（未能核实）"
        lines.append(f"[{c.n}] {issuer}{c.reference}{flag}")
    return "\n".join(lines)
