"""Candidate answer sentences: every sentence of the best retrieved passages' sections, each with
its place in the letter.

A letter is not all prose. Its title, the addressee line (王孝友代表：), section headings, field
lines (交办日期：2015年2月9日, 联系人及电话：…), the signature and the date line, the sentences
that restate the suggestion (…收悉，现答复如下：) and the courtesies that close it are read for
what they are: they answer questions about the letter itself (谁答复的, 哪天), never a question
about its content. That role is read from the letter's structure, not from the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from assistant.ask.citation import section_at
from assistant.ask.retrieve import Passage, Retrieval
from assistant.ask.spans import sentence_spans
from index.reading.letter import ReplyLetter
from index.reading.outline import Section
from index.tokenizer import ChineseTokenizer

Role = Literal[
    "content", "restatement", "courtesy", "title", "addressee", "heading", "field", "signature", "date",
]
CONTENT_ROLES = frozenset({"content"})
"""Roles a sentence must have to answer a question about what a letter says."""

WIDEN_LIMIT = 1200
"""A passage is widened to its whole section when the section is at most this long."""

_ANSWER_FOLLOWS = re.compile(r"(?:答复|回复|函复|报告|说明|意见)?如下[:：]|收悉[，,。]")
"""`…收悉，现答复如下：` followed on the same line by the answer, or `…收悉，经商发展改革委…`:
the acknowledgement and what follows it are candidates apart."""
_ACKNOWLEDGEMENT = re.compile(
    r"收悉|答复如下|函复如下|回复如下|意见如下|函告如下|如下[:：]$|已交我们|交由我|转交我|交我[局们委厅]|研究办理"
    r"|现将.{0,12}(?:通报|答复|报告|回复|函告|说明)|(?:针对|对于)(?:您|你)们?所?提(?:出的?)?(?:建议|提案)即"
)
_COURTESY = re.compile(
    r"^(?:感谢|衷心感谢|再次感谢|再一次感谢|谢谢|希望|恳请|此致|敬礼|特此|专此|欢迎|如有|以上答复|以上意见|以上是|以上供)"
    r"|联系人|联系电话|联系单位|承办人|经办人|抄送|抄报|签发"
)
_SUGGESTION_FIELD = re.compile(
    r"^(?:建议内容|问题内容|提案内容|内容|建议标题|提案标题|标题|建议提案标题)(?:（摘要）|\(摘要\))?[：:]"
)
_FIELD_LINE = re.compile(r"^[\u4e00-\u9fff]{2,10}[：:|]\s*\S")
_SENTENCE_MARK = re.compile(r"[，。；！？,;!?]")
_DATE_LINE = re.compile(
    r"^\s*(?:\d{4}\s*[年.\-/]\s*\d{1,2}\s*[月.\-/]\s*\d{1,2}\s*日?|[〇○零一二三四五六七八九]{4}年.{1,3}月.{1,3}日)\s*$"
)
_DOC_NO = re.compile(r"[〔\[(（]\s*\d{4}\s*[〕\])）]\s*\d+\s*[号號]")


@dataclass
class Candidate:
    """One sentence of a retrieved section, where it stands and what it is."""

    letter_id: str
    start: int
    end: int
    text: str
    passage_rank: int
    passage: Passage
    role: Role
    section_kind: str
    """`preamble`, `body`, `numbered` or `closing` (the top-level section it is in)."""
    top_start: int | None
    """Offset of its top-level section (follow-ups keep the section their last answer quoted)."""
    heading: str
    """The headings of the sections it is in, outermost first."""
    paragraph: str
    """Its line up to and including the sentence (what came just before it on the line)."""

    @property
    def outside(self) -> bool:
        """Read from the widened section, not from the retrieved passage itself."""
        return not (self.passage.start <= self.start and self.end <= self.passage.end)


def heading_path(letter: ReplyLetter, start: int, end: int) -> str:
    headings: list[str] = []
    sections = letter.sections
    while sections:
        for s in sections:
            if s.start <= start and end <= s.end:
                headings.append(s.heading)
                sections = s.children
                break
        else:
            break
    return " ".join(h for h in headings if h)


def top_section(letter: ReplyLetter, pos: int) -> Section | None:
    return next((s for s in letter.sections if s.start <= pos < s.end), None)


def _scope(letter: ReplyLetter, passage: Passage) -> tuple[int, int]:
    """The passage widened to its section when the section is short enough to read whole."""
    section = section_at(letter, passage.start, passage.end)
    if section and section.end - section.start <= WIDEN_LIMIT:
        return section.start, section.end
    return passage.start, passage.end


def _split_after_formula(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`…收悉，经会同…研究，现答复如下：该项目已…` holds an acknowledgement and the first answer
    sentence: each formula ends a candidate when something follows it."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        while (m := _ANSWER_FOLLOWS.search(text, a, b)) and b - m.end() >= 6:
            out.append((a, m.end()))
            a = m.end()
            while a < b and text[a].isspace():
                a += 1
        out.append((a, b))
    return out


def _is_heading_line(top: Section | None, start: int, sentence: str) -> bool:
    """The heading of a numbered section; an item that is one full sentence (1.该公路已实施，现已
    完工。) is content even though the outline takes it as its own heading."""
    return bool(
        top and top.kind == "numbered" and start == top.start and top.heading and "\n" not in sentence
        and (sentence.endswith(top.heading) or len(sentence) <= len(top.heading) + 4)
        and not re.search(r"[。！？!?]$", sentence.strip())
    )


def sentence_role(
    letter: ReplyLetter, sentence: str, line: str, top: Section | None, start: int, tokenizer: ChineseTokenizer
) -> Role:
    """What a sentence is in its letter, from its structure; `line` is the whole line it is on."""
    whole_line = line.strip() == sentence.strip()
    prose = bool(_SENTENCE_MARK.search(line))
    compact = tokenizer.compact(sentence)
    closing = top is not None and top.kind == "closing"
    if whole_line:
        if letter.title and compact and compact in tokenizer.compact(letter.title):
            return "title"
        addressee = tokenizer.compact(letter.addressee or "")
        if addressee and line.rstrip().endswith(("：", ":")) and len(line) <= 60 and addressee in compact:
            return "addressee"
    if _is_heading_line(top, start, sentence):
        return "heading"
    if whole_line:
        if _DATE_LINE.match(line):
            return "date"
        if _is_field_line(line.strip()):
            return "field"
        issuer = bool(letter.issuer) and compact == tokenizer.compact(letter.issuer or "")
        if not prose and (issuer or (closing and len(line) <= 40)):
            return "signature"
    simple = tokenizer.normalize(sentence)
    if _ACKNOWLEDGEMENT.search(simple) or _SUGGESTION_FIELD.match(line):
        return "restatement"
    if _COURTESY.search(simple) or closing:
        return "courtesy"
    if whole_line and not prose and len(line) <= 30 and top is not None and top.kind == "preamble":
        return "field"
    return "content"


def _is_field_line(line: str) -> bool:
    """A document number, or `key：value` with no sentence in it (交办日期：2015年2月9日)."""
    if _DOC_NO.search(line) and len(line) <= 40:
        return True
    return bool(_FIELD_LINE.match(line)) and len(line) <= 60 and not re.search(r"[。；]", line)


def collect_candidates(retrieval: Retrieval, tokenizer: ChineseTokenizer, *, passages: int = 8) -> list[Candidate]:
    """Every sentence of the first `passages` passages (widened to short sections), once each,
    in retrieval order; stray fragments (under six characters) are left out."""
    snapshot = retrieval.snapshot
    seen: set[tuple[str, int, int]] = set()
    found: list[Candidate] = []
    for rank, passage in enumerate(retrieval.passages[:passages], start=1):
        letter = snapshot.letter(passage.letter_id)
        text = letter.text
        lo, hi = _scope(letter, passage)
        for start, end in _split_after_formula(text, sentence_spans(text, lo, hi)):
            if (letter.id, start, end) in seen:
                continue
            seen.add((letter.id, start, end))
            sentence = text[start:end]
            if len(sentence.strip("。；;，, ")) < 6:
                continue
            top = top_section(letter, start)
            line_start = text.rfind("\n", 0, start) + 1
            line_end = text.find("\n", end)
            line = text[line_start:line_end if line_end != -1 else len(text)]
            found.append(Candidate(
                letter_id=letter.id, start=start, end=end, text=sentence, passage_rank=rank, passage=passage,
                role=sentence_role(letter, sentence, line, top, start, tokenizer),
                section_kind=top.kind if top else "body", top_start=top.start if top else None,
                heading=heading_path(letter, start, end), paragraph=text[line_start:end],
            ))
    return found
