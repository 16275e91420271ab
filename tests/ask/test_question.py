"""Reading a question: what kind of answer it wants, what it asks about, which words must be in the answer."""

from __future__ import annotations

import pytest

from assistant.ask.question import analyse, asked_part, question_kind
from index.tokenizer import ChineseTokenizer


@pytest.fixture(scope="module")
def tokenizer() -> ChineseTokenizer:
    return ChineseTokenizer()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("哪些答复提到了农村公路？", "list"),
        ("代表委员建议修建某条高速公路的答复有哪些？", "list"),
        ("马关县都龙小学搬迁列入了哪些规划？", "general"),
        ("下一步有什么安排？", "next_steps"),
        ("2019年山东全省建成多少5G基站？", "number"),
        ("投资了多少？", "money"),
        ("用地审批要多久？", "number"),
        ("什么时候能建？", "date"),
        ("办理小组组长是谁？", "who"),
        ("公厕选址在哪里？", "where"),
        ("为什么一直开不了公交车？", "why"),
        ("农业部同意吗？", "status"),
    ],
)
def test_kinds(text: str, kind: str) -> None:
    assert question_kind(text) == kind


def test_the_asked_part_leaves_out_what_only_identifies_the_letter() -> None:
    assert asked_part("丘陵山区代表希望把小农机的补贴比例提到六成，农业部同意吗？") == "农业部同意吗"
    asked = asked_part("石林县第122号建议（水塘铺村卫生室重建）的办理小组组长是谁？")
    assert asked == "石林县第122号建议的办理小组组长是谁"
    assert asked_part("郑州中医药博物馆提案的答复里提到，中医药法从哪天开始施行？").startswith("中医药法")
    assert asked_part("牟定县水务局对福龙村西安闸下一步怎么打算？").startswith("福龙村")


def test_focus_classifier_units_years(tokenizer: ChineseTokenizer) -> None:
    q = analyse("巴南区麻天路公交线路的票价是多少？", tokenizer)
    assert (q.kind, q.focus) == ("number", "票价")
    q = analyse("2019年青岛市建成了多少个5G基站？", tokenizer)
    assert (q.focus, q.years) == ("基站", ("2019",))
    assert "青岛市" in q.proper
    borrowed = "2019年山东全省建成多少5G基站 "
    assert analyse(borrowed + "投资了多少", tokenizer, asked="投资了多少").years == ("2019",)
    assert analyse(borrowed + "下一步有什么安排", tokenizer, asked="下一步有什么安排").years == ()
    q = analyse("富民县目前有几家托育机构？", tokenizer)
    assert q.focus == "机构" and q.classifier == ()  # 家 counts anything: the noun says what
    q = analyse("武定县在自然村一共设了多少名保洁员？", tokenizer)
    assert "人" in q.classifier  # 1196人 answers 多少名
    q = analyse("湖南新白高速公路全长多少公里？", tokenizer)
    assert "公里" in q.units
    q = analyse("既有住宅加装一部电梯政府补贴多少？", tokenizer)
    assert q.kind == "money" and "元" in q.units
    q = analyse("宁陕县东河村一组堰渠修复工程什么时候能完工？", tokenizer)
    assert q.event == "完工"


@pytest.mark.parametrize(("question", "kind"), [
    ("马关交通局这几年修通村路是按什么目标来的？", "general"),  # 这几年: these years, not how many
    ("随州这几年新建翻修过哪几个菜场？", "general"),  # 哪几个 asks which, not how many
    ("敖努图这几个嘎查的路为什么修不成？", "why"),
    ("下一步还要投资多少？", "money"),  # the question word that comes last decides
    ("龙王镇那条渠原来能浇多少亩水田？", "number"),
    ("能不能今年修好？", "status"),
    ("哪些答复提到了农村公路？", "list"),
])
def test_the_kind_is_what_the_question_asks_last(question: str, kind: str) -> None:
    assert question_kind(question) == kind
