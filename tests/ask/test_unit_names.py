"""A unit's short name in a question is written out as the index's issuers spell it, and only
then: a place before it stays that place, and a word that only ends like a unit stays a word."""

from __future__ import annotations

import pytest

from assistant.ask.unit_names import spell_out

NAMES = "\n".join(sorted([
    "石林彝族自治县卫生健康局", "广州市花都区卫生健康局", "国家卫生健康委员会", "临江县住房和城乡建设局",
    "济南市莱芜区教育体育局", "湖南省发展和改革委员会", "青河市市场监督管理局", "临江县水利局", "县政府办公室",
    "东川省民政厅", "青河市医疗保障局", "白石县交通运输局",
]))


@pytest.mark.parametrize(("asked", "searched"), [
    ("石林卫健局成立的小组谁挂帅？", "石林卫生健康局成立的小组谁挂帅？"),
    ("国家卫健委怎么答复的", "国家卫生健康委怎么答复的"),
    ("莱芜区教体局哪天答复的", "莱芜区教育体育局哪天答复的"),
    ("省发改委对特色小镇有什么要求", "省发展和改革委对特色小镇有什么要求"),
    ("青河市场监管局查了几家", "青河市场监督管理局查了几家"),
    ("医保局报销比例多少", "医疗保障局报销比例多少"),
    ("花都卫健局那个提案的文号", "花都区卫生健康局那个提案的文号"),  # the place named as the issuer names it
    # The place before a short name is the question's own: 涵江 is not 临江县's 江.
    ("涵江住建局打算怎么加强管护", "涵江住房和城乡建设局打算怎么加强管护"),
])
def test_a_short_unit_name_is_written_out(asked: str, searched: str) -> None:
    assert spell_out(asked, NAMES) == searched


@pytest.mark.parametrize("asked", [
    "临江县水利局怎么答复的",  # the name as the issuers write it
    "政府办怎么说的",  # part of 县政府办公室 as written
    "这件事下一步怎么办",  # ends like a unit (办), is none
    "民政厅说了什么",  # written as 东川省民政厅 writes it
    "有什么好处",
])
def test_words_that_are_no_short_unit_name_are_left_as_asked(asked: str) -> None:
    assert spell_out(asked, NAMES) == asked


def test_a_short_name_two_units_share_is_left_as_asked() -> None:
    """卫健局 of two differently written units (卫生健康局, 卫生和健康局): which one is not known."""
    names = "临江县卫生健康局\n白石县卫生和健康局"
    assert spell_out("卫健局答复了吗", names) == "卫健局答复了吗"
    assert spell_out("卫健局答复了吗", "") == "卫健局答复了吗"
