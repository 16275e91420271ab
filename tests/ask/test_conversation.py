"""Follow-up questions made standalone by rules (no LLM): topic borrowed, X swapped in, letter kept in focus."""

from __future__ import annotations

import pytest

from assistant.ask.conversation import Turn, needs_context, rewrite_rules
from index.tokenizer import ChineseTokenizer

GENERIC = set(
    "投资 目标 全省 面积 多大 负责 办理 具体 暂时 解决 不了 前期 工作 后面 安排 完成 现在 打算 争取 一共 托位".split()
)


def specific(word: str) -> bool:
    """Stands in for the index's letter frequency: generic words are in many letters."""
    return word not in GENERIC


@pytest.fixture(scope="module")
def tokenizer() -> ChineseTokenizer:
    return ChineseTokenizer()


def _turn(question: str, kind: str = "number", letters: tuple[str, ...] = ("000",)) -> Turn:
    return Turn(question=question, query=question, kind=kind, letters=letters)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("question", "follow"),
    [
        ("投资了多少？", True),
        ("那青岛呢？", True),
        ("下一步呢？", True),
        ("具体是谁负责办理的？", True),
        ("面积有多大？", True),
        ("交通局后面怎么安排？", True),
        ("泸西县交通运输局后面怎么安排？", False),
        ("哪些答复提到了农村公路？", False),
        ("石林县第122号建议的办理小组组长是谁？", False),
        ("2019年山东全省建成多少5G基站？", False),
    ],
)
def test_which_questions_need_the_conversation(tokenizer: ChineseTokenizer, question: str, follow: bool) -> None:
    assert needs_context(question, tokenizer, specific) is follow


def test_a_short_follow_up_borrows_the_topic_and_keeps_the_letter(tokenizer: ChineseTokenizer) -> None:
    r = rewrite_rules("投资了多少？", [_turn("2019年山东全省建了多少个5G基站？")], tokenizer, specific)
    assert r.rewritten and r.query.startswith("2019年山东全省建了多少个5G基站")
    assert "投资" in r.query and r.prefer_letters == ("000",)
    assert r.asked == "投资了多少"


def test_that_x_swaps_the_parallel_phrase(tokenizer: ChineseTokenizer) -> None:
    r = rewrite_rules(
        "那党政机关区域呢？", [_turn("山东5G那份答复里，各市上报的建站需求中社会公共区域占多少？")], tokenizer, specific
    )
    assert "党政机关区域" in r.query and "社会公共区域" not in r.query
    assert r.kind == "number"
    assert "党政机关" in r.required
    r = rewrite_rules("那2020年的目标呢？", [_turn("2019年山东全省建了多少个5G基站？")], tokenizer, specific)
    assert r.query.startswith("2020年山东全省建了多少个5G基站")


def test_a_new_question_is_left_alone(tokenizer: ChineseTokenizer) -> None:
    r = rewrite_rules("哪些答复提到了农村公路？", [_turn("2019年山东全省建了多少个5G基站？")], tokenizer, specific)
    assert not r.rewritten and r.query == "哪些答复提到了农村公路？" and r.prefer_letters == ()
