"""Candidate answer sentences, scored by the fitted model.

Every sentence of the best passages' sections is a candidate (`candidates`); each gets its
signals and features (`signals`, `features`) and the fitted model's probability of answering
(`calibration`). A few checks are hard, because a sentence failing them cannot be the answer
whatever else it shares with the question: it must be content (not the title, the addressee
line, a field line, a restated suggestion or a courtesy), hold the asked type of answer for a
number, money or date question, not be about another year than the one asked, and be in a
letter that names the places the question names with their administrative suffix (青岛市; for
a figure, the sentence or its letter's identity must name it too). jieba's other proper-noun
tags are too often wrong (卡住, 卫健委) to rule anything out. Everything else is weighed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.ask.calibration import Calibration
from assistant.ask.candidates import Candidate, collect_candidates, top_section
from assistant.ask.features import Signals, feature_matrix, signals_of
from assistant.ask.question import Question
from assistant.ask.retrieve import Passage, Retrieval
from assistant.ask.signals import Scorer
from index.tokenizer import ChineseTokenizer

PASSAGES = 8
"""Passages whose sections are read for candidates (30 for a list question)."""
TYPED_KINDS = frozenset({"money", "number", "date"})
ADMISSIBLE_ROLES = frozenset({"content", "restatement"})
"""A restated suggestion may hold what a question about the suggestion asks (原来能浇多少亩):
it is weighed (its role is a feature), not excluded like titles, headings and field lines."""

"""Question kinds whose answer type is certain enough to require (a sum, a count, a date)."""


@dataclass
class Evidence:
    """A candidate sentence with its signals and the model's probability that it answers."""

    candidate: Candidate
    signals: Signals
    score: float
    admissible: bool

    @property
    def letter_id(self) -> str:
        return self.candidate.letter_id

    @property
    def start(self) -> int:
        return self.candidate.start

    @property
    def end(self) -> int:
        return self.candidate.end

    @property
    def text(self) -> str:
        return self.candidate.text

    @property
    def passage_rank(self) -> int:
        return self.candidate.passage_rank

    @property
    def role(self) -> str:
        return self.candidate.role

    @property
    def valid(self) -> bool:
        return self.admissible


@dataclass
class Examined:
    """Candidates, their signals and feature rows, before the model scores them (the fit script
    labels these against the gold quotes)."""

    candidates: list[Candidate]
    signals: list[Signals]
    features: np.ndarray
    focus_sections: frozenset[tuple[str, int]] = frozenset()
    """(letter, start of top-level section) of what the conversation's last answer quoted."""


def admissible(question: Question, candidate: Candidate, signals: Signals) -> bool:
    if candidate.role not in ADMISSIBLE_ROLES:
        return False
    typed = question.kind in TYPED_KINDS and not question.duration
    if typed and (not signals.type_ok or signals.place_missing_in_sentence):
        return False
    return not signals.year_conflict and not signals.place_missing_in_letter


def examine_candidates(
    question: Question,
    retrieval: Retrieval,
    tokenizer: ChineseTokenizer,
    *,
    focus_letters: tuple[str, ...] = (),
    focus_cited: tuple[tuple[str, int], ...] = (),
) -> Examined:
    """`focus_letters` (the letters a conversation is about) and `focus_cited` (letter and
    offset of each quote its last answer gave) become features: a follow-up usually stays with
    the letter and section, but asks something other than what was already quoted."""
    snapshot = retrieval.snapshot
    depth = 30 if question.is_list else PASSAGES
    candidates = collect_candidates(retrieval, tokenizer, passages=depth)
    scorer = Scorer(question, retrieval, tokenizer)
    signals = [signals_of(c, scorer, snapshot.searchable_text(c.letter_id)) for c in candidates]
    sections = frozenset(
        (letter_id, top.start) for letter_id, pos in focus_cited
        if snapshot.has_letter(letter_id) and (top := top_section(snapshot.letter(letter_id), pos))
    )
    features = feature_matrix(
        question, candidates, signals, tokenizer, focus_letters=focus_letters, focus_sections=sections,
        cited=frozenset(focus_cited),
    )
    return Examined(candidates, signals, features, sections)


def gather_evidence(
    question: Question,
    retrieval: Retrieval,
    tokenizer: ChineseTokenizer,
    calibration: Calibration,
    *,
    focus_letters: tuple[str, ...] = (),
    focus_cited: tuple[tuple[str, int], ...] = (),
) -> list[Evidence]:
    """Every candidate, scored; admissible ones first, best first."""
    examined = examine_candidates(
        question, retrieval, tokenizer, focus_letters=focus_letters, focus_cited=focus_cited
    )
    scores = calibration.probabilities(examined.features)
    found = [
        Evidence(c, s, float(p), admissible(question, c, s))
        for c, s, p in zip(examined.candidates, examined.signals, scores, strict=True)
    ]
    found.sort(key=lambda e: (not e.admissible, -e.score))
    return _focus_breaks_ties(found, examined.focus_sections, frozenset(focus_cited))


FOCUS_TIE = 0.97
"""Scores within this share of the best are a tie the model cannot break: a letter with five
sections each ending in 下一步… scores all five plans alike for 下一步呢？."""


def _focus_breaks_ties(
    found: list[Evidence], sections: frozenset[tuple[str, int]], cited: frozenset[tuple[str, int]]
) -> list[Evidence]:
    """A follow-up stays in the section the conversation is in when the model has no preference:
    among admissible candidates tied with the best, one of that section (not already quoted)
    goes first."""
    if not sections or not found or not found[0].admissible:
        return found
    best = found[0]

    def in_focus(e: Evidence) -> bool:
        top = e.candidate.top_start
        return top is not None and (e.letter_id, top) in sections and (e.letter_id, e.start) not in cited

    if in_focus(best):
        return found
    for i, e in enumerate(found[1:], start=1):
        if not e.admissible or e.score < FOCUS_TIE * best.score:
            break
        if in_focus(e):
            return [e, *found[:i], *found[i + 1:]]
    return found


def rerank(retrieval: Retrieval, evidence: list[Evidence]) -> list[Passage]:
    """Passages holding the best admissible evidence first, then the rest in retrieval order."""
    best: dict[int, float] = {}
    for e in evidence:
        if not e.admissible:
            continue
        for i, p in enumerate(retrieval.passages):
            if p.letter_id == e.letter_id and p.start <= e.start and e.end <= p.end:
                best[i] = max(best.get(i, -1.0), e.score)
    order = sorted(range(len(retrieval.passages)), key=lambda i: (i not in best, -best.get(i, 0.0), i))
    return [retrieval.passages[i] for i in order]
