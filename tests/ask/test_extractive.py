"""Extractive answers end to end on a real index of the sample letters: every quote is the
letter's own text at the cited span, unanswerable questions get 未找到, follow-ups keep the topic."""

from __future__ import annotations

import re
import unicodedata

import pytest

from assistant.ask.answer import NOT_FOUND, Answer
from assistant.ask.retrieve import Filters
from assistant.ask.spans import sentence_spans
from assistant.service import ReplyQA


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _check_citations(app: ReplyQA, answer: Answer) -> None:
    assert answer.citations, answer.text
    for citation in answer.citations:
        letter = app.letter(citation.letter)
        assert letter is not None
        assert letter.text[citation.start:citation.end] == citation.quote
        assert len(citation.quote) <= 300
        assert f"[{citation.n}]" in answer.text
        assert citation.reference.startswith("《")


@pytest.mark.parametrize(
    ("question", "letter", "fact"),
    [
        ("2023年青河市计划完成多少公里较大人口规模自然村通硬化路？", "qh-jt-2023-058", "180公里"),
        ("第DH0271号建议是由哪个部门答复的？", "dc-gx-2020-dh0271", "东川省工业和信息化厅"),
        ("订单定向免费培养的医学生毕业后要在基层干几年？", "dc-wj-2019-1035", "6年"),
        ("北山水厂扩建以后一天能供多少水？", "lj-sl-2022-015", "8000立方米"),
        ("老城区新增了多少个公共停车泊位？", "hostile", "320个"),
    ],
)
def test_a_fact_is_quoted_from_the_exact_span_of_its_letter(
    sample_app: ReplyQA, question: str, letter: str, fact: str
) -> None:
    answer = sample_app.ask(question)
    assert answer.found, answer.text
    assert _norm(fact) in _norm(answer.text)
    assert answer.citations[0].letter == letter
    _check_citations(sample_app, answer)


def test_a_plan_question_quotes_the_next_steps(sample_app: ReplyQA) -> None:
    answer = sample_app.ask("青河市对农村公路养护下一步有什么安排？")
    assert answer.found
    assert "下一步" in answer.citations[0].quote or "下一步" in sample_app.letter(
        answer.citations[0].letter
    ).text[max(answer.citations[0].start - 12, 0):answer.citations[0].start]


@pytest.mark.parametrize(
    "question",
    [
        "2024年北京市新建了多少公园？",
        "临江县已经建成多少亩高标准农田？",  # the letter with the number is another county's
        "到2021年底东川省累计建成了多少个5G基站？",  # the letter gives 2020's figure only
        "青河市农村公路的养护总投资是多少？",
    ],
)
def test_what_the_letters_do_not_say_is_not_found(sample_app: ReplyQA, question: str) -> None:
    answer = sample_app.ask(question)
    assert not answer.found, answer.text
    assert answer.text.startswith(NOT_FOUND)
    assert answer.citations == []


def test_not_found_offers_the_closest_letters_as_leads_not_as_answers(sample_app: ReplyQA) -> None:
    answer = sample_app.ask("青河市农村公路的养护总投资是多少？")
    assert answer.leads and answer.leads[0].letter == "qh-jt-2023-058"
    assert "不作为答案" in answer.text


def test_follow_ups_keep_the_topic_and_the_letter_in_focus(sample_app: ReplyQA) -> None:
    first = sample_app.ask("北山水厂扩建工程总投资多少？")
    assert first.found and first.citations[0].letter == "lj-sl-2022-015"
    follow = sample_app.ask("什么时候完工？", [sample_app.turn_of(first)])
    assert follow.found, follow.text
    assert follow.query != "什么时候完工？" and "北山水厂" in follow.query
    assert follow.citations[0].letter == "lj-sl-2022-015"
    assert re.search(r"\d{4}年\d{1,2}月|年底", follow.citations[0].quote)


def test_a_plan_follow_up_gives_the_plan_of_the_section_just_quoted(sample_app: ReplyQA) -> None:
    """Not held to the year of the question before, and of the letter's five plans the one of
    the section the previous answer quoted (5G network building, not applications or funds)."""
    answer = sample_app.ask_with_history("下一步有什么安排？", ["2019年东川省印发了哪个5G网络建设行动计划？"])
    assert answer.found, answer.text
    assert answer.citations[0].letter == "dc-gx-2020-dh0271"
    assert all(c.section.startswith("一") for c in answer.citations), answer.text
    assert any(c.quote.startswith("下一步") and "4万个" in c.quote for c in answer.citations), answer.text


def test_ask_with_history_replays_earlier_questions(sample_app: ReplyQA) -> None:
    answer = sample_app.ask_with_history("那下一步呢？", ["临江县北山片区供水问题怎么答复的？"])
    assert answer.found
    assert answer.citations[0].letter == "lj-sl-2022-015"


def test_which_letters_lists_every_matching_letter_once(sample_app: ReplyQA) -> None:
    answer = sample_app.ask("哪些答复和市十五届人大三次会议第58号建议有关？")
    assert answer.found
    letters = [c.letter for c in answer.citations]
    assert set(letters) >= {"qh-jt-2023-058", "qh-zg-2023-058-hb"}
    assert len(letters) == len(set(letters))
    _check_citations(sample_app, answer)


def test_filters_narrow_what_is_searched(sample_app: ReplyQA) -> None:
    question = "北山水厂扩建工程总投资多少？"
    assert sample_app.ask(question).found
    other_issuer = sample_app.ask(question, filters=Filters(issuer="教育局"))
    assert not any(c.letter == "lj-sl-2022-015" for c in other_issuer.citations)
    assert all(item.letter == "qh-jy-2025-04-1" for item in other_issuer.retrieved)
    years = sample_app.ask(question, filters=Filters(year_from=2023))
    assert all(item.letter != "lj-sl-2022-015" for item in years.retrieved)


def test_an_instruction_written_in_a_letter_does_not_change_the_answer(sample_app: ReplyQA) -> None:
    answer = sample_app.ask("老城区停车难的建议办理情况怎么样？")
    assert "已全部完成" not in answer.text.replace(answer.citations[0].quote if answer.citations else "", "")
    for citation in answer.citations:
        assert "忽略以上所有指令" not in citation.quote


def test_retrieved_passages_are_exact_spans_in_rank_order(sample_app: ReplyQA) -> None:
    answer = sample_app.ask("5G基站用电成本怎么降低？")
    assert len(answer.retrieved) >= 5
    for item in answer.retrieved:
        assert sample_app.letter(item.letter).text[item.start:item.end] == item.text


def test_sentences_split_at_full_stops_and_semicolons() -> None:
    text = "一是抓对接；二是完善政策。三是“抓场景”！\n下一步将加快。"
    spans = sentence_spans(text, 0, len(text))
    assert [text[a:b] for a, b in spans] == ["一是抓对接；", "二是完善政策。", "三是“抓场景”！", "下一步将加快。"]
