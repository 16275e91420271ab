"""Follow-up questions made standalone: 那青岛呢？ 下一步呢？ 投资了多少？

Without an LLM, rules do it the way a reader does: a question that cannot stand alone (short,
starts with 那/还有, ends with 呢, or names nothing the index could find) borrows the topic of
the previous turn; `那X呢` swaps X in for the word of the previous question it parallels
(`社会公共区域` → `党政机关区域`, `2019年` → `2020年`); and the letter the previous answer cited
stays in focus, so retrieval prefers it. With an LLM configured, the Chinese condense prompt in
`prompts/` does the rewriting instead (see `assistant.ask.llm.prompts`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.ask.answer import Answer
from assistant.ask.question import QUESTION_WORDS, Kind, question_kind, without_list_words
from index.tokenizer import ChineseTokenizer

_ELLIPTIC_START = re.compile(
    r"^(?:那么?|还有|另外|此外|然后|再问一下|再问|以及|其中|其|它|该|这个|这些|那个|那些|他们|它们)"
)
_ELLIPTIC_END = re.compile(r"(?:呢|吗)[？?。]?$")
_THAT_X = re.compile(r"^那么?(?P<x>.+?)(?:的情况|方面|这块|那边)?呢[？?，,]?(?P<rest>.*)$")
_YEAR = re.compile(r"(?:19|20)\d{2}年")
_ANCHOR = re.compile(r"第\s*[\dA-Za-z-]+\s*号|(?:19|20)\d{2}\s*年|《[^》]+》")
_TRAILING_Q = re.compile(r"[？?。！!]+$")
_BODY = re.compile(r"^[\u4e00-\u9fff]{0,4}(?:局|厅|委|办|部门|单位|政府|公司|中心)$")
"""A department without a place (交通局, 教育厅): every county has one, so it names no letter."""


@dataclass
class Turn:
    """One earlier turn: what was asked, what was searched, which letters the answer cited."""

    question: str
    query: str
    kind: Kind = "general"
    letters: tuple[str, ...] = ()
    cited: tuple[tuple[str, int], ...] = ()
    """(letter, offset) of each quote the answer cited: its section stays in focus too."""


@dataclass
class Rewrite:
    query: str
    kind: Kind | None
    """Only set when a follow-up inherits what the previous question asked for (`那X呢`)."""
    prefer_letters: tuple[str, ...] = ()
    prefer_cited: tuple[tuple[str, int], ...] = ()
    rewritten: bool = False
    asked: str | None = None
    """For a follow-up, its own words: what it asks, as opposed to the topic it borrows."""
    required: tuple[str, ...] = ()
    """What `那X呢` puts in focus: an answer has to be about X."""
    over_letters: tuple[str, ...] = ()
    """A follow-up to a list answer (下一步呢？ after 哪些答复提到了…) asks about each letter listed."""


def needs_context(question: str, tokenizer: ChineseTokenizer, specific: Callable[[str], bool]) -> bool:
    """Elliptic (那…呢, 其…), or short and naming nothing a letter could be found by: no place or
    person, no 第N号, year or quoted title, no word that only a few letters contain (a department
    without its place, 交通局, does not count)."""
    text = question.strip()
    if question_kind(text) == "list":
        return False
    if _ELLIPTIC_START.search(text) or (_ELLIPTIC_END.search(text) and len(text) <= 14):
        return True
    norm = tokenizer.normalize(text)
    names = any(flag in ("ns", "nr", "nrt", "nrfg") and len(w) >= 2 for w, flag in tokenizer.tag(norm))
    if _ANCHOR.search(norm) or names:
        return False
    content = [w for w in tokenizer.words(text) if w not in QUESTION_WORDS and len(w) >= 2 and not _BODY.match(w)]
    if len(text) >= 16 and len(content) >= 4:
        return False
    return not any(specific(w) and len(w) >= 3 for w in content)


def _strip_question(text: str) -> str:
    return _TRAILING_Q.sub("", text.strip())


def _swap(previous: str, x: str, tokenizer: ChineseTokenizer) -> str | None:
    """Put X in place of the phrase of `previous` it parallels (same last word: `社会公共区域`
    for `党政机关区域`; a year for a year); None if there is none."""
    years = _YEAR.findall(x)
    if years and _YEAR.search(previous):
        swapped = _YEAR.sub(years[0], previous, count=1)
        rest = _YEAR.sub("", x).strip("的 ")
        return f"{swapped} {rest}".strip() if rest else swapped
    words = tokenizer.cut(previous)
    x_last = tokenizer.cut(x)[-1]
    for j in range(len(words) - 1, -1, -1):
        if len(x_last) >= 2 and words[j] == x_last:
            i = j
            while i > 0 and len(words[i - 1]) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", words[i - 1]) and (
                words[i - 1] not in QUESTION_WORDS
            ):
                i -= 1
            return "".join(words[:i]) + x + "".join(words[j + 1:])
    return None


def rewrite_rules(
    question: str, history: list[Turn], tokenizer: ChineseTokenizer, specific: Callable[[str], bool]
) -> Rewrite:
    """`specific(word)` says whether a word is rare enough in the index to identify letters."""
    kind: Kind | None = None
    if not history or not needs_context(question, tokenizer, specific):
        return Rewrite(query=question, kind=None)
    previous = history[-1]
    base = _strip_question(previous.query)
    if previous.kind == "list" and question_kind(question) != "list" and len(previous.letters) > 1:
        own = _strip_question(question)
        kind = question_kind(own)
        return Rewrite(query=f"{without_list_words(base).strip()} {own}", kind=None if kind == "general" else kind,
                       prefer_letters=previous.letters, rewritten=True, asked=own, over_letters=previous.letters)
    m = _THAT_X.match(question.strip())
    required: tuple[str, ...] = ()
    asked: str | None = _strip_question(question)
    if m:
        x = m.group("x").strip()
        swapped = _swap(base, x, tokenizer)
        query = swapped if swapped else f"{base} {x}"
        rest = _strip_question(m.group("rest"))
        if rest:
            query = f"{query} {rest}"
        if question_kind(question) == "general" and not rest:
            kind = previous.kind
        base_words = set(tokenizer.words(base))
        required = tuple(
            w for w in tokenizer.words(x) if w not in base_words and w not in QUESTION_WORDS and len(w) >= 2
        )
        # A kind word (`那下一步呢`) is what is asked; an entity (`那青岛呢`) keeps the borrowed topic.
        asked = rest or (x if question_kind(x) != "general" else None)
    else:
        query = f"{base} {_strip_question(question)}"
    return Rewrite(query=query, kind=kind, prefer_letters=previous.letters, prefer_cited=previous.cited,
                   rewritten=True, asked=asked, required=required)


def turn_of(answer: Answer) -> Turn:
    """What a follow-up needs of this turn; an unanswered turn still keeps its best lead in
    focus, since the next question is usually about the same letter."""
    letters = tuple(dict.fromkeys(c.letter for c in answer.citations)) or tuple(
        lead.letter for lead in answer.leads[:1]
    )
    cited = tuple((c.letter, c.start) for c in answer.citations)
    return Turn(question=answer.question, query=answer.query, kind=answer.kind,  # type: ignore[arg-type]
                letters=letters, cited=cited)
