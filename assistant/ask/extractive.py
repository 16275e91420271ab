"""Extractive answers: the letters' own sentences, quoted verbatim, each one cited.

The best valid candidate (see `evidence`) answers, with up to two close neighbours of the same
passage; a plan (下一步) is quoted on to the end of its paragraph while it stays short; a list
question (哪些答复提到了…) gets one sentence per letter that names the thing listed. If no
candidate clears the calibrated bar, the answer is 未找到 with the closest letters as leads,
never as an answer.
"""

from __future__ import annotations

from assistant.ask.answer import NOT_FOUND
from assistant.ask.calibration import Calibration
from assistant.ask.citation import Citation, make_citation
from assistant.ask.evidence import Evidence
from assistant.ask.listing import list_answer
from assistant.ask.question import Question
from assistant.ask.retrieve import Retrieval
from assistant.ask.spans import merge_spans, sentence_spans
from index.tokenizer import ChineseTokenizer

NEIGHBOUR_SHARE = 0.9
SHORT_SENTENCE = 40
"""A sentence this short rarely carries a whole answer (其余7公里路段，属于通自然村组道路。): the
next sentence of its paragraph is quoted with it."""


def answer_from_evidence(
    question: Question,
    retrieval: Retrieval,
    evidence: list[Evidence],
    calibration: Calibration,
    tokenizer: ChineseTokenizer | None = None,
) -> tuple[bool, str, list[Citation]]:
    if tokenizer is not None and question.is_list:
        return list_answer(question, retrieval, evidence, calibration, tokenizer)
    valid = [e for e in evidence if e.admissible]
    if not valid or valid[0].score < calibration.threshold:
        return False, NOT_FOUND, []
    best = valid[0]
    chosen = [best]
    for e in valid[1:6]:
        # A second sentence only when the model is nearly as sure of it and it stands close by:
        # every extra citation that does not answer lowers the answer's precision.
        near = (
            e.letter_id == best.letter_id and e.candidate.top_start == best.candidate.top_start
            and abs(e.start - best.start) < 300
        )
        if near and e.score >= NEIGHBOUR_SHARE * best.score:
            chosen.append(e)
            break
    chosen.sort(key=lambda e: e.start)
    letter = retrieval.snapshot.letter(best.letter_id)
    spans = [(e.start, e.end) for e in chosen]
    if question.kind == "next_steps":
        spans = [_plan_span(letter.text, spans[0][0], spans[-1][1]), *spans[1:]] if len(spans) == 1 else spans
    elif len(spans) == 1 and spans[0][1] - spans[0][0] < SHORT_SENTENCE:
        spans = [_with_next_sentence(letter.text, *spans[0])]
    citations = [make_citation(i, letter, a, b) for i, (a, b) in enumerate(merge_spans(spans), start=1)]
    quotes = "".join(f"“{c.quote}”[{c.n}]" for c in citations)
    who = f"{letter.issuer}在" if letter.issuer else ""
    return True, f"{who}《{letter.display_title}》中答复：{quotes}", citations


def _with_next_sentence(text: str, start: int, end: int, limit: int = 300) -> tuple[int, int]:
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    following = sentence_spans(text, end, line_end)
    if following and following[0][1] - start <= limit:
        return start, following[0][1]
    return start, end


def _plan_span(text: str, start: int, end: int, limit: int = 300) -> tuple[int, int]:
    """A plan is usually a paragraph of several sentences: quote on while it stays short."""
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    for _, e in sentence_spans(text, end, line_end):
        if e - start > limit:
            break
        end = e
    return start, end
