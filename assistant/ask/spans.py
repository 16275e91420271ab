"""Sentences as spans of a letter's text: what an answer quotes and a citation points into.

Sentences themselves are cut in `index.sentences` (the index embeds the same units); here is
what an answer builds from them: quotable units no longer than a citation may be, and spans
merged.
"""

from __future__ import annotations

import re

from index.sentences import SENTENCE_END, pieces, sentence_spans, trim

__all__ = ["MAX_QUOTE", "SENTENCE_END", "merge_spans", "quote_units", "sentence_spans"]

_CLAUSE_END = re.compile(r"[，,、：:]")

MAX_QUOTE = 300
"""Longest quote of one citation, in characters (the evaluation's limit as well)."""


def quote_units(text: str, start: int, end: int, limit: int = MAX_QUOTE) -> list[tuple[int, int]]:
    """Sentences of text[start:end] as trimmed spans; a sentence longer than `limit` is cut
    at clause marks (，、：) into pieces that fit, so every unit can be quoted on its own."""
    units: list[tuple[int, int]] = []
    for a, b in pieces(text, start, end):
        a, b = trim(text, a, b)
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
