"""The model's reply parsed into sentences and the source markers each one carries."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.ask.facts import extract_facts
from index.tokenizer import ChineseTokenizer

_MARK = r"[\[［【]\s*[0-9０-９]{1,3}(?:\s*[,，、]\s*[0-9０-９]{1,3})*\s*[\]］】]"
_MARK_RE = re.compile(_MARK)
_MARKS_RUN = re.compile(rf"(?:[ \t]*{_MARK})+")
_SENTENCE_END = re.compile(r"[。！？!?；;]+[”’」』）)]*|\n")
_TRAILING_END = re.compile(r"[。！？!?；;，,、]+[”’」』）)]*$")
_INNER_MARKS = re.compile(rf"(?:{_MARK})+[ \t]*[，,、]")
_LABEL = re.compile(
    r"^(?:[-*•·]\s*|\d{1,2}[.、．)）](?!\d)\s*|[（(]\d{1,2}[)）]\s*|[一二三四五六七八九十]{1,3}[、.．]\s*|\*\*)+"
)


@dataclass
class Sentence:
    """One sentence (or clause, see `parse_reply`) of the reply, markers taken out."""

    body: str
    """Without markers and without the final punctuation."""
    end: str
    """The final punctuation (may be empty: list items often have none)."""
    markers: list[int]
    newline: bool = False
    """Followed by a line break in the reply."""
    group: int = 0
    """Clauses of one sentence share a group."""
    group_end: str = ""
    """The final punctuation of the whole sentence (a kept clause ends with it when the
    clauses after it are dropped)."""

    @property
    def claim(self) -> str:
        """What is checked: the body without list labels or Markdown emphasis."""
        return _LABEL.sub("", self.body.strip()).replace("**", "")


def parse_reply(reply: str, tokenizer: ChineseTokenizer) -> list[Sentence]:
    """Sentences with their markers. A marker run right after the final punctuation (`…。[1]`)
    belongs to that sentence, as does one before it (`…[1]。`). A sentence whose clauses cite
    different sources (`…320个[2]，投资1450万元[1]。`) is cut after each marker run that follows
    a clause holding a fact, so each clause is checked against its own source."""
    sentences: list[Sentence] = []
    pos = 0
    group = 0
    while pos < len(reply):
        m = _SENTENCE_END.search(reply, pos)
        if m is None:
            raw, pos, newline = reply[pos:], len(reply), False
        elif m.group() == "\n":
            raw, pos, newline = reply[pos:m.start()], m.end(), True
        else:
            end = m.end()
            run = _MARKS_RUN.match(reply, end)
            if run:
                end = run.end()
            raw, pos = reply[pos:end], end
            newline = reply[pos:pos + 1] == "\n"
            if newline:
                pos += 1
        pieces = [_sentence(piece, group) for piece in _clauses(raw, tokenizer)]
        pieces = [p for p in pieces if p.body.strip() or p.markers]
        if pieces:
            for p in pieces:
                p.group_end = pieces[-1].end
            pieces[-1].newline = newline
            sentences.extend(pieces)
            group += 1
        elif newline and sentences:
            sentences[-1].newline = True
    return sentences


def _clauses(raw: str, tokenizer: ChineseTokenizer) -> list[str]:
    out: list[str] = []
    last = 0
    for m in _INNER_MARKS.finditer(raw):
        if m.end() >= len(raw.rstrip()):
            break
        left = raw[last:m.end()]
        if extract_facts(_LABEL.sub("", _MARK_RE.sub("", left)), tokenizer):
            out.append(left)
            last = m.end()
    out.append(raw[last:])
    return out


def _sentence(raw: str, group: int) -> Sentence:
    markers = [int(unicodedata.normalize("NFKC", d)) for mark in _MARK_RE.findall(raw)
               for d in re.findall(r"[0-9０-９]+", mark)]
    body = _MARK_RE.sub("", raw).strip()
    tail = _TRAILING_END.search(body)
    end = tail.group() if tail else ""
    body = body[: tail.start()] if tail else body
    return Sentence(body=body.rstrip(), end=end, markers=markers, group=group)
