"""Questions about the letter itself are answered from its fields, quoted from the line where the
letter states them — and a follow-up naming nothing asks about the letter in focus."""

from __future__ import annotations

import pytest

from assistant.service import ReplyQA


@pytest.mark.parametrize(("question", "letter", "fact"), [
    ("青河市水利局对第112号建议的答复文号是多少？", "qh-sl-2024-112", "青水建议复〔2024〕19号"),
    ("东川省民政厅答复第0312号提案是哪天？", "dc-mz-2021-0312", "2021年7月26日"),
    ("白石县第36号建议是哪个单位答复的？", "bs-jt-2021-036", "白石县交通运输局"),
    ("临江县第27号建议是哪些代表提的？", "lj-zr-2019-027", "杨某某等3名代表"),
    # asked with 哪类, by the key of one of the letter's own `key：value` lines
    ("东川省民政厅第0312号提案的答复属于哪类公开？", "dc-mz-2021-0312", "主动公开"),
    # the category of the reply (A/B/C类) and how many deputies proposed it
    ("青河市人力资源和社会保障局那件办理结果是几类？", "qh-rs-2025-021", "A类"),
    ("东川省第1035号建议的答复是A类还是B类？", "dc-wj-2019-1035", "B类"),
    ("临江县第27号建议是几位代表提的？", "lj-zr-2019-027", "杨某某等3名代表"),
])
def test_a_field_of_the_letter_is_quoted_where_it_stands(
    sample_app: ReplyQA, question: str, letter: str, fact: str
) -> None:
    answer = sample_app.ask(question)
    assert answer.found, answer.text
    (citation,) = answer.citations
    assert citation.letter == letter
    assert fact in citation.quote
    indexed = sample_app.letter(letter)
    assert indexed is not None and indexed.text[citation.start:citation.end] == citation.quote
    assert "\n" not in citation.quote and len(citation.quote) <= 80, "the line, not a paragraph"


def test_a_follow_up_about_the_letter_means_the_letter_in_focus(sample_app: ReplyQA) -> None:
    first = sample_app.ask("青河市2023年完成了多少座小型水库除险加固？")
    assert first.found and first.citations[0].letter == "qh-sl-2024-112"
    follow = sample_app.ask("这件是哪个单位答复的？", [sample_app.turn_of(first)])
    assert follow.found, follow.text
    assert follow.citations[0].letter == "qh-sl-2024-112"
    assert "青河市水利局" in follow.citations[0].quote


def test_a_date_in_the_letter_s_body_is_not_taken_for_its_date(sample_app: ReplyQA) -> None:
    """什么时候开工 asks about the work, not the reply: the field lookup stays out of it."""
    answer = sample_app.ask("白石河临江段综合治理工程计划什么时候开工？")
    assert answer.found, answer.text
    assert "2024年10月" in answer.text


def test_who_replied_asked_colloquially(sample_app: ReplyQA) -> None:
    answer = sample_app.ask("北山片区供水那件是谁家答复的？")
    assert answer.found and answer.citations[0].letter == "lj-sl-2022-015", answer.text
    assert answer.citations[0].quote == "临江县水利局" or "临江县水利局" in answer.citations[0].quote, answer.text
    assert answer.citations[0].section in ("结尾", "开头"), answer.citations[0]


def test_a_field_only_the_page_states_is_quoted_from_the_page_s_lines(sample_app: ReplyQA) -> None:
    """qh-zj-2022-027's 文号 stands only in the page's table (文号：青建建议复〔2022〕11号), which is
    kept after the letter: the answer quotes that line and names it as the page's, not the letter's."""
    letter = sample_app.letter("qh-zj-2022-027")
    assert letter is not None and letter.page_info_start is not None
    assert "青建建议复〔2022〕11号" not in letter.body
    answer = sample_app.ask("青河市住建局答复第27号建议的文号是多少？")
    assert answer.found, answer.text
    (citation,) = answer.citations
    assert citation.letter == "qh-zj-2022-027" and "青建建议复〔2022〕11号" in citation.quote
    assert citation.section == "网页信息" and citation.start >= letter.page_info_start


def test_a_field_the_letter_states_is_quoted_from_the_letter_not_the_page(sample_app: ReplyQA) -> None:
    """The same letter's page says 发布机构：青河市住房和城乡建设局 too; the signature says it first."""
    answer = sample_app.ask("青河市加装电梯那件建议是哪个单位答复的？")
    assert answer.found, answer.text
    citation = answer.citations[0]
    letter = sample_app.letter("qh-zj-2022-027")
    assert letter is not None and letter.page_info_start is not None
    assert citation.letter == "qh-zj-2022-027" and "青河市住房和城乡建设局" in citation.quote
    assert citation.end <= letter.page_info_start and citation.section != "网页信息"


@pytest.mark.parametrize(("question", "letter", "fact"), [
    ("青河人社局的答复文号是多少？", "qh-rs-2025-021", "青人社建议复〔2025〕14号"),  # 人力资源和社会保障局
    ("东川卫健委那件的文号是多少？", "dc-wj-2019-1035", "东卫建议复〔2019〕57号"),  # 卫生健康委员会
    ("青河住建局那件是哪天答复的？", "qh-zj-2022-027", "2022年7月20日"),  # 住房和城乡建设局
])
def test_a_unit_named_by_its_short_name_is_the_letter_asked_about(
    sample_app: ReplyQA, question: str, letter: str, fact: str
) -> None:
    """Staff say 人社局, 卫健委, 住建局; each of these was refused while the short name matched
    no issuer."""
    answer = sample_app.ask(question)
    assert answer.found, answer.text
    assert answer.citations[0].letter == letter and fact in answer.citations[0].quote
    assert answer.question == question, "the answer still shows the question as asked"
