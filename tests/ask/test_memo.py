"""A conversation through the stateless API (`ask_with_history`): each question costs one
answer, not one for every question before it, and the answers are the ones a full replay gives."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from assistant.ask import pipeline
from assistant.ask.memo import TurnMemo
from assistant.ask.retrieve import Filters
from assistant.service import ReplyQA

CONVERSATION = [
    "临江县北山片区供水问题怎么答复的？",
    "北山水厂扩建工程总投资多少？",
    "那下一步呢？",
    "这件是哪个单位答复的？",
]


class CountingEmbedder:
    """The real embedder, counting the questions it is given."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.questions = inner, 0

    def embed_query(self, text: str) -> np.ndarray:
        self.questions += 1
        return self.inner.embed_query(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _asking(app: ReplyQA) -> tuple[pipeline.Asking, CountingEmbedder]:
    counting = CountingEmbedder(app.asking.embedder)
    return dataclasses.replace(app.asking, embedder=counting, turns=TurnMemo()), counting  # type: ignore[arg-type]


def _cited(answer: Any) -> list[tuple[str, int, str]]:
    return [(c.letter, c.start, c.quote) for c in answer.citations]


def test_each_question_of_a_conversation_costs_one_answer(sample_app: ReplyQA) -> None:
    asking, counting = _asking(sample_app)
    alone = []
    for question in CONVERSATION:
        before = counting.questions
        pipeline.ask(dataclasses.replace(asking, turns=TurnMemo()), question)
        alone.append(counting.questions - before)
    for n, question in enumerate(CONVERSATION):
        before = counting.questions
        pipeline.ask_with_history(asking, question, CONVERSATION[:n])
        # a follow-up may search twice (its own words, then with the topic); never again for
        # the questions before it
        assert counting.questions - before <= alone[n] + 1, (n, question)


def test_remembered_turns_give_the_answers_of_a_full_replay(sample_app: ReplyQA) -> None:
    asking, _ = _asking(sample_app)
    for n, question in enumerate(CONVERSATION):
        remembered = pipeline.ask_with_history(asking, question, CONVERSATION[:n])
        replayed = pipeline.ask_with_history(dataclasses.replace(asking, turns=TurnMemo()), question, CONVERSATION[:n])
        assert remembered.text == replayed.text
        assert _cited(remembered) == _cited(replayed)


def test_a_new_index_version_or_another_scope_answers_the_history_again(
    sample_app: ReplyQA, monkeypatch: pytest.MonkeyPatch,
) -> None:
    asking, counting = _asking(sample_app)
    pipeline.ask_with_history(asking, CONVERSATION[2], CONVERSATION[:2])
    before = counting.questions
    pipeline.ask_with_history(asking, CONVERSATION[2], CONVERSATION[:2])
    remembered = counting.questions - before

    scope = Filters(issuer="水利")
    before = counting.questions
    pipeline.ask_with_history(asking, CONVERSATION[2], CONVERSATION[:2], filters=scope)
    assert counting.questions - before > remembered

    current = sample_app.library.snapshot()
    monkeypatch.setattr(sample_app.library, "snapshot",
                        lambda: dataclasses.replace(current, fingerprint=current.fingerprint + "-next"))
    before = counting.questions
    pipeline.ask_with_history(asking, CONVERSATION[2], CONVERSATION[:2])
    assert counting.questions - before > remembered
