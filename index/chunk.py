"""Chunks follow the letter's own sections, so every chunk can be cited as "that letter, that section".

A section that fits is one chunk. A longer one yields its own text (the lines before, between
and after its subsections) and then its subsections, each handled the same way; text that is
still too long is cut at sentence ends with a little overlap. A chunk never crosses a section
boundary, and its text is always exactly `letter.text[start:end]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel

from index.reading.letter import ReplyLetter
from index.reading.outline import Section

_SENTENCE_END = re.compile(r"[。！？；!?;](?:[”’」』）)]*)")
_CLAUSE_END = re.compile(r"[，,、：:](?:[”’」』]*)")


class Chunk(BaseModel):
    """A piece of one section of one letter.

    `text` is exactly `cleaned[start:end]` of the letter and is what gets quoted; `embed_text`
    carries the title and heading path in front so that short sections still embed with
    their context.
    """

    letter_id: str
    version: str
    """The letter's content version this chunk was cut from (see `index.pipeline`)."""
    ordinal: int
    section_path: list[str]
    """Section labels from the root, e.g. `["三", "一是"]`; `[]` for preamble, body and closing."""
    section_heading: str
    paragraph: int
    """Index, within its section, of the paragraph (line) the chunk starts in."""
    start: int
    end: int
    text: str
    embed_text: str

    @property
    def id(self) -> str:
        return f"{self.letter_id}::{self.version}::{self.ordinal:04d}"


class _Piece(BaseModel):
    section: Section
    start: int
    end: int


def chunk_letter(letter: ReplyLetter, version: str, *, max_chars: int = 360, overlap: int = 60) -> list[Chunk]:
    text = letter.text
    title = letter.title or letter.suggestion_title or ""
    headings = {tuple(s.path): s.heading for s in letter.all_sections()}
    chunks: list[Chunk] = []
    for piece in _pieces(letter.sections, text, max_chars):
        for start, end in _split(text, piece.start, piece.end, max_chars, overlap):
            section = piece.section
            path_headings = [
                headings.get(tuple(section.path[: i + 1]), "") for i in range(len(section.path))
            ]
            context = "｜".join(h for h in [title, *path_headings] if h)
            body = text[start:end]
            chunks.append(Chunk(
                letter_id=letter.id,
                version=version,
                ordinal=len(chunks),
                section_path=list(section.path),
                section_heading=section.heading,
                paragraph=text.count("\n", section.start, start),
                start=start,
                end=end,
                text=body,
                embed_text=f"{context}\n{body}" if context else body,
            ))
    return chunks


def _pieces(sections: list[Section], text: str, max_chars: int) -> Iterator[_Piece]:
    """Whole sections when they fit; otherwise their own text and their children, in order."""
    for section in sections:
        if section.end - section.start <= max_chars or not section.children:
            yield _Piece(section=section, start=section.start, end=section.end)
            continue
        pos = section.start
        for child in section.children:
            if child.start > pos and text[pos:child.start].strip():
                yield _Piece(section=section, start=pos, end=child.start)
            yield from _pieces([child], text, max_chars)
            pos = child.end
        if section.end > pos and text[pos:section.end].strip():
            yield _Piece(section=section, start=pos, end=section.end)


def _split(text: str, start: int, end: int, max_chars: int, overlap: int) -> list[tuple[int, int]]:
    """Cut [start, end) at sentence ends into spans of at most max_chars, overlapping a little."""
    start, end = _trim(text, start, end)
    if end <= start:
        return []
    if end - start <= max_chars:
        return [(start, end)]
    units = _units(text, start, end, max_chars)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j = i
        while j + 1 < len(units) and units[j + 1][1] - units[i][0] <= max_chars:
            j += 1
        spans.append(_trim(text, units[i][0], units[j][1]))
        if j + 1 >= len(units):
            break
        # Overlap: the next span restarts at the last sentences of this one that fit in `overlap`.
        next_i = j + 1
        for k in range(j, i, -1):
            if units[j][1] - units[k][0] > overlap:
                break
            next_i = k
        i = next_i
    return spans


def _units(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Sentences (and lines), with a sentence longer than max_chars cut at clauses, then hard."""
    units: list[tuple[int, int]] = []
    pos = start
    for m in re.finditer(r"\n", text[start:end]):
        _sentences(text, pos, start + m.start(), units)
        pos = start + m.end()
    _sentences(text, pos, end, units)
    out: list[tuple[int, int]] = []
    for s, e in units:
        if e - s <= max_chars:
            out.append((s, e))
            continue
        pieces = _cut(text, s, e, _CLAUSE_END, max_chars)
        for ps, pe in pieces:
            out.extend((q, min(q + max_chars, pe)) for q in range(ps, pe, max_chars))
    return out


def _sentences(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        if m.end() > pos:
            out.append((pos, m.end()))
        pos = m.end()
    if end > pos and text[pos:end].strip():
        out.append((pos, end))


def _cut(text: str, start: int, end: int, pattern: re.Pattern[str], max_chars: int) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    pos = piece_start = start
    for m in pattern.finditer(text, start, end):
        if m.end() - piece_start > max_chars and pos > piece_start:
            pieces.append((piece_start, pos))
            piece_start = pos
        pos = m.end()
    pieces.append((piece_start, end))
    return pieces


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
