"""From a question (and the conversation so far) to a cited answer: the one path every question
takes, with or without an LLM.

    conversation   follow-up → standalone query (rules; the LLM condenses when there is one)
    question       what is asked: kind, focus, years, the asked part
    retrieve       dense (Chroma) + BM25, fused by rank, filtered by the user's scope
    evidence       candidate sentences of the best passages, scored
    extractive     the best sentences quoted and cited, or 未找到 with leads
      — or llm     the model's answer from numbered sources, each sentence checked
                   (falling back to the extractive answer, with a note, when the endpoint fails)

Everything a question needs comes in through `Asking`, built once per process by
`assistant.service.ReplyQA`; nothing here holds state between questions.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from assistant.ask.answer import Answer, leads, not_found_text, retrieved_items
from assistant.ask.calibration import Calibration
from assistant.ask.citation import Citation
from assistant.ask.conversation import Rewrite, Turn, rewrite_rules, turn_of
from assistant.ask.evidence import Evidence, gather_evidence, rerank
from assistant.ask.extractive import answer_from_evidence
from assistant.ask.letter_fields import letter_fact
from assistant.ask.listing import per_letter_answer
from assistant.ask.memo import TurnMemo, turn_key
from assistant.ask.question import Question, analyse, question_kind, without_list_words
from assistant.ask.retrieve import Filters, Retrieval, retrieve
from assistant.ask.unit_names import spell_out
from assistant.library import Library
from index.embedding.embedder import Embedder
from index.settings import Settings

if TYPE_CHECKING:  # the LLM modules load the openai client: only imported when an LLM is configured
    from llama_index.llms.openai_like import OpenAILike

log = logging.getLogger(__name__)

UNAVAILABLE_NOTE = "（大模型服务不可用：{reason}。以下为从答复原文中直接摘录的回答。）"
LIST_DEPTH = 30
"""Passages read for a list question (哪些答复提到了…): one per letter it may list."""
DEPTH = 10


@dataclass(frozen=True)
class Asking:
    """What answering needs, passed in explicitly: the settings, the index as the assistant sees
    it (with the process's one tokenizer), the embedding model, the calibrated bars and, when
    one is configured, the LLM client; and the turns of conversations replayed so far."""

    settings: Settings
    library: Library
    embedder: Embedder
    calibration: Calibration
    llm: OpenAILike | None = None
    turns: TurnMemo = field(default_factory=TurnMemo)


@dataclass
class Examination:
    """Everything an answer is decided from (also what a look into a bad answer shows)."""

    rewrite: Rewrite
    question: Question
    retrieval: Retrieval
    evidence: list[Evidence]
    fact: tuple[bool, str, list[Citation]] | None = None
    """The answer from the letter's own fields, when the question is about the letter itself."""


def examine(
    asking: Asking, question: str, history: Sequence[Turn] = (), *, filters: Filters | None = None,
    query: str | None = None, rewrite: Rewrite | None = None,
) -> Examination:
    """Rewrite (unless given), retrieve `query` (the rewrite's own unless given) and score the
    candidate sentences."""
    library = asking.library
    tokenizer = library.tokenizer
    if rewrite is None:
        rewrite = rewrite_rules(question, list(history), tokenizer, library.snapshot().is_specific)
    query = query or rewrite.query
    # Searched, and read for the letter a field question names, with its short unit names
    # written out (卫健局 → 卫生健康局); its sentences are still scored against the words asked,
    # since a unit's full name is no part of what is asked about it.
    searched = spell_out(query, library.snapshot().issuer_names(tokenizer.simplify))
    depth = LIST_DEPTH if question_kind(query) == "list" or rewrite.over_letters else DEPTH
    if rewrite.over_letters:  # a follow-up to a list: each listed letter is asked again
        filters = replace(filters or Filters(), letters=rewrite.over_letters)
    listing = question_kind(query) == "list"
    retrieval = retrieve(  # a list is searched for what it lists, not for its 哪些答复 frame
        without_list_words(searched) if listing else searched, library, asking.embedder, filters=filters,
        prefer_letters=rewrite.prefer_letters, top_k=depth,
    )
    if rewrite.rewritten and rewrite.asked and rewrite.prefer_letters and not rewrite.required and not listing:
        retrieval = _focused(asking, rewrite, retrieval, filters, depth)
    analysed = analyse(query, tokenizer, kind=rewrite.kind, asked=rewrite.asked, required=rewrite.required)
    named = analysed if searched == query else analyse(
        searched, tokenizer, kind=rewrite.kind, asked=rewrite.asked, required=rewrite.required)
    fact = None if analysed.is_list or rewrite.over_letters else letter_fact(
        named, retrieval, tokenizer, focus_letters=rewrite.prefer_letters
    )
    evidence = [] if fact is not None else gather_evidence(
        analysed, retrieval, tokenizer, asking.calibration, focus_letters=rewrite.prefer_letters,
        focus_cited=rewrite.prefer_cited,
    )
    return Examination(rewrite, analysed, retrieval, evidence, fact)


def _focused(
    asking: Asking, rewrite: Rewrite, retrieval: Retrieval, filters: Filters | None, depth: int
) -> Retrieval:
    """A follow-up that names nothing new (还卡在什么上？) is about the letter in focus: its own
    words rank that letter's sections first, ahead of what the borrowed topic finds elsewhere."""
    scope = replace(filters or Filters(), letters=rewrite.prefer_letters)
    if filters is not None and filters.letters:
        scope = replace(scope, letters=tuple(x for x in rewrite.prefer_letters if x in filters.letters))
    own = retrieve(rewrite.asked or "", asking.library, asking.embedder, filters=scope, top_k=depth)
    if not own.passages:
        return retrieval
    rest = [p for p in retrieval.passages if not any(
        q.letter_id == p.letter_id and q.start < p.end and p.start < q.end for q in own.passages
    )]
    return replace(retrieval, passages=(own.passages[: depth // 2] + rest)[:depth])


def extractive_answer(asking: Asking, question: str, examined: Examination) -> Answer:
    """The letters' own sentences that answer, or 未找到 with leads."""
    tokenizer, calibration = asking.library.tokenizer, asking.calibration
    analysed, retrieval, evidence = examined.question, examined.retrieval, examined.evidence
    if examined.rewrite.over_letters:
        found, text, citations = per_letter_answer(examined.rewrite.over_letters, retrieval, evidence, calibration)
    else:
        found, text, citations = examined.fact or answer_from_evidence(
            analysed, retrieval, evidence, calibration, tokenizer
        )
    answer = Answer(
        question=question,
        query=examined.rewrite.query,
        found=found,
        text=text,
        citations=citations,
        leads=[] if found else leads(retrieval),
        retrieved=retrieved_items(retrieval, rerank(retrieval, evidence)),
        kind=analysed.kind,
    )
    if not found:
        answer.text = not_found_text(answer.leads)
    return answer


def stream_answer(
    asking: Asking, question: str, history: Sequence[Turn] = (), *, filters: Filters | None = None
) -> Iterator[str | Answer]:
    """Text as it is produced, then the finished `Answer` (with its checked citations) last.

    Extractive answers are ready at once and come in one piece per cited sentence; with an
    LLM the pieces are its tokens.
    """
    started = time.perf_counter()
    turns = list(history)
    snapshot = asking.library.snapshot()
    rewrite = rewrite_rules(question, turns, asking.library.tokenizer, snapshot.is_specific)
    if asking.llm is None:
        answer = extractive_answer(asking, question, examine(asking, question, turns, filters=filters, rewrite=rewrite))
        yield from _pieces(_timed(answer, started))
        return
    from assistant.ask.llm.answer import LLMFailed, stream_llm_answer
    from assistant.ask.llm.client import unreachable
    from assistant.ask.llm.prompts import condense

    query, failure = rewrite.query, None
    if turns:
        query, failure = condense(asking.llm, question, turns, fallback=rewrite.query, snapshot=snapshot)
    if failure is not None and unreachable(failure):
        yield from _fallback(asking, question, turns, filters, rewrite, failure, started, streamed=False)
        return
    examined = examine(asking, question, turns, filters=filters, query=query, rewrite=rewrite)
    if examined.fact is not None:  # a field of the letter: quoted as it stands, no model needed
        yield from _pieces(_timed(extractive_answer(asking, question, examined), started))
        return
    try:
        for item in stream_llm_answer(
            asking.llm, question=question, query=query, asked=query if turns else question,
            retrieval=examined.retrieval, tokenizer=asking.library.tokenizer, kind=examined.question.kind,
        ):
            yield _timed(item, started) if isinstance(item, Answer) else item
    except LLMFailed as failed:
        from assistant.ask.llm.client import describe_failure

        log.warning("the LLM answer failed, falling back to the extractive answer: %s",
                    describe_failure(failed.cause, asking.llm))
        yield from _fallback(asking, question, turns, filters, rewrite, failed.cause, started, streamed=failed.streamed)


def ask(asking: Asking, question: str, history: Sequence[Turn] = (), *, filters: Filters | None = None) -> Answer:
    final: Answer | None = None
    for item in stream_answer(asking, question, history, filters=filters):
        if isinstance(item, Answer):
            final = item
    assert final is not None, "stream_answer always ends with an Answer"
    return final


def ask_with_history(
    asking: Asking, question: str, history: Sequence[str], *, filters: Filters | None = None
) -> Answer:
    """For the page's `/ask`, `replyqa ask --history` and the evaluation: earlier questions are
    asked again to know the topic and the letter in focus, as in a live conversation — each
    once per index version and scope (`memo`): the turn this question gives is kept too, for
    the call that brings it as history."""
    turns: list[Turn] = []
    version = asking.library.snapshot().fingerprint
    for n, earlier in enumerate(history):
        key = turn_key(version, filters, history[: n + 1])
        turn = asking.turns.get(key)
        if turn is None:
            turn = turn_of(ask(asking, earlier, turns, filters=filters))
            asking.turns.put(key, turn)
        turns.append(turn)
    answer = ask(asking, question, turns, filters=filters)
    asking.turns.put(turn_key(version, filters, [*history, question]), turn_of(answer))
    return answer


def _timed(answer: Answer, started: float) -> Answer:
    answer.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return answer


def _pieces(answer: Answer) -> Iterator[str | Answer]:
    pieces = re.split(r"(?<=\])", answer.text) if answer.found else [answer.text]
    yield from (piece for piece in pieces if piece)
    yield answer


def _fallback(
    asking: Asking, question: str, turns: list[Turn], filters: Filters | None, rewrite: Rewrite,
    exc: Exception, started: float, *, streamed: bool,
) -> Iterator[str | Answer]:
    """The extractive answer, with a note that the model service could not be used."""
    from assistant.ask.llm.client import failure_reason

    answer = extractive_answer(asking, question, examine(asking, question, turns, filters=filters, rewrite=rewrite))
    answer.text = f"{UNAVAILABLE_NOTE.format(reason=failure_reason(exc))}\n{answer.text}"
    yield ("\n\n" if streamed else "") + answer.text
    yield _timed(answer, started)
