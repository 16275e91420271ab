"""Sentences as spans of a letter's text: the units an answer quotes and a citation points into.

Both answer paths cut text the same way — at 。！？；, at line ends — and quote spans
`letter.text[start:end]` with the surrounding whitespace trimmed, so a quote is always an
exact substring of the letter and its offsets are the citation's. They live under `index/` so
that anything the index derives per sentence (`letter_sentences`) cuts exactly the units the
answer model weighs.
"""

from __future__ import annotations

import re

from index.reading.letter import ReplyLetter

SENTENCE_END = re.compile(r"[。！？；!?;]+[”’」』）)]*|\n")
"""The end of a sentence (closing quotes and brackets stay with it), or a line break."""
ANSWER_FOLLOWS = re.compile(r"(?:答复|回复|函复|报告|说明|意见)?如下[:：]|收悉[，,。]")
"""`…收悉，现答复如下：` followed on the same line by the answer, or `…收悉，经商发展改革委…`:
the acknowledgement and what follows it are units apart."""
MIN_UNIT = 6
"""Fragments shorter than this (once trailing punctuation is stripped) are no answer."""


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the whitespace around it."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Untrimmed sentence pieces of text[start:end]; a line break ends a piece without being in it."""
    found: list[tuple[int, int]] = []
    pos = start
    for m in SENTENCE_END.finditer(text, start, end):
        found.append((pos, m.start() if m.group() == "\n" else m.end()))
        pos = m.end()
    found.append((pos, end))
    return found


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences (and clauses ending in ；) of text[start:end], trimmed; fragments shorter
    than two characters are left out."""
    spans = []
    for a, b in pieces(text, start, end):
        a, b = trim(text, a, b)
        if b - a >= 2:
            spans.append((a, b))
    return spans


def answer_units(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The sentences of text[start:end], with `…收悉，现答复如下：该项目已…` cut after its formula
    (the acknowledgement and the first answer sentence are units apart)."""
    out: list[tuple[int, int]] = []
    for a, b in sentence_spans(text, start, end):
        while (m := ANSWER_FOLLOWS.search(text, a, b)) and b - m.end() >= 6:
            out.append((a, m.end()))
            a = m.end()
            while a < b and text[a].isspace():
                a += 1
        out.append((a, b))
    return out


def is_unit(sentence: str) -> bool:
    """Long enough to answer anything."""
    return len(sentence.strip("。；;，, ")) >= MIN_UNIT


def letter_sentences(letter: ReplyLetter) -> list[tuple[int, int]]:
    """Every unit an answer can quote from the letter, in text order: cut over the whole text
    and over each top-level section (an answer reads a passage widened to its section, and a
    section may start inside a line), once each."""
    text = letter.text
    spans = set(answer_units(text, 0, len(text)))
    for section in letter.sections:
        spans.update(answer_units(text, section.start, section.end))
    return sorted(s for s in spans if is_unit(text[s[0]:s[1]]))
