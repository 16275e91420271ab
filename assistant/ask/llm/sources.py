"""The numbered sources an LLM answers from: retrieved passages cut into quotable units, with
the units that talk to the model (忽略以上所有指令…) marked so they are never support."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.ask.facts import looks_like_instruction
from assistant.ask.retrieve import Passage
from assistant.ask.spans import quote_units
from assistant.library import Snapshot
from index.reading.letter import ReplyLetter
from index.tokenizer import ChineseTokenizer


@dataclass
class Source:
    """One numbered source: a retrieved passage of a letter, cut into quotable units."""

    n: int
    passage: Passage
    letter: ReplyLetter
    units: list[tuple[int, int]] = field(default_factory=list)
    """Sentence spans of the passage (≤ MAX_QUOTE each) in the letter text."""
    blocked: set[int] = field(default_factory=set)
    """Units that speak to the model (忽略以上所有指令…): shown to it as data, never support,
    and no quote runs across them."""
    identity: str = ""
    """The letter's title, issuer, addressee, number and date: facts the model was shown in
    the source's header count as supported by that source."""

    def unit_text(self, i: int) -> str:
        start, end = self.units[i]
        return self.letter.text[start:end]


def make_sources(passages: Sequence[Passage], snapshot: Snapshot, tokenizer: ChineseTokenizer) -> list[Source]:
    sources = []
    for n, passage in enumerate(passages, start=1):
        letter = snapshot.letter(passage.letter_id)
        units = quote_units(letter.text, passage.start, passage.end)
        source = Source(
            n=n, passage=passage, letter=letter, units=units, identity=letter.identity_text(with_date=True)
        )
        source.blocked = {i for i in range(len(units)) if looks_like_instruction(source.unit_text(i), tokenizer)}
        sources.append(source)
    return sources
