"""Sentences as spans of a letter's text: what an answer quotes and a citation points into.

Both answer paths cut text the same way — at 。！？；, at line ends — and quote spans
`letter.text[start:end]` with the surrounding whitespace trimmed, so a quote is always an
exact substring of the letter and its offsets are the citation's.
"""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"[。！？；!?;]+[”’」』）)]*|\n")
"""The end of a sentence (closing quotes and brackets stay with it), or a line break."""
_CLAUSE_END = re.compile(r"[，,、：:]")

MAX_QUOTE = 300
"""Longest quote of one citation, in characters (the evaluation's limit as well)."""


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Untrimmed sentence pieces of text[start:end]; a line break ends a piece without being in it."""
    pieces: list[tuple[int, int]] = []
    pos = start
    for m in SENTENCE_END.finditer(text, start, end):
        pieces.append((pos, m.start() if m.group() == "\n" else m.end()))
        pos = m.end()
    pieces.append((pos, end))
    return pieces


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences (and clauses ending in ；) of text[start:end], trimmed; fragments shorter
    than two characters are left out."""
    spans = []
    for a, b in _pieces(text, start, end):
        a, b = _trimmed(text, a, b)
        if b - a >= 2:
            spans.append((a, b))
    return spans


def quote_units(text: str, start: int, end: int, limit: int = MAX_QUOTE) -> list[tuple[int, int]]:
    """Sentences of text[start:end] as trimmed spans; a sentence longer than `limit` is cut
    at clause marks (，、：) into pieces that fit, so every unit can be quoted on its own."""
    units: list[tuple[int, int]] = []
    for a, b in _pieces(text, start, end):
        a, b = _trimmed(text, a, b)
        if b <= a:
            continue
        while b - a > limit:
            cut = max((m.end() for m in _CLAUSE_END.finditer(text, a, a + limit)), default=a + limit)
            units.append((a, cut))
            a = cut
        units.append((a, b))
    return units


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or adjacent spans as one."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged
