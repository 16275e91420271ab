"""Answers that list letters, and the follow-up that asks each listed letter again."""

from __future__ import annotations

import re

from assistant.service import ReplyQA


def test_a_list_names_each_letter_that_says_the_topic(sample_app: ReplyQA) -> None:
    answer = sample_app.ask("哪些答复提到了新能源公交车辆？")
    assert answer.found and answer.kind == "list", answer.text
    letters = {c.letter for c in answer.citations}
    assert {"qh-jt-2023-058", "bs-jt-2021-036"} <= letters
    assert all("新能源" in c.quote for c in answer.citations if c.letter in ("qh-jt-2023-058", "bs-jt-2021-036"))


def test_how_many_letters_is_a_list_question(sample_app: ReplyQA) -> None:
    answer = sample_app.ask("有几封答复提到了给乡村医生的补助？")
    assert answer.kind == "list" and answer.found, answer.text


def test_a_follow_up_to_a_list_asks_every_letter_listed(sample_app: ReplyQA) -> None:
    listed = sample_app.ask("哪些答复提到了新能源公交车辆？")
    follow = sample_app.ask("下一步呢？", [sample_app.turn_of(listed)])
    assert follow.found, follow.text
    cited = [c.letter for c in follow.citations]
    assert cited and set(cited) <= {c.letter for c in listed.citations}
    assert follow.text.startswith("上述答复中有")
    assert all(re.search(r"下一步|将|计划|预计|拟", c.quote) for c in follow.citations), follow.text


def test_a_list_of_one_place_s_letters_quotes_where_each_names_its_issuer(sample_app: ReplyQA) -> None:
    """临江县的答复有哪些？ lists letters for who wrote them: the body sentence that happens to
    hold the place is not what was asked; the title or signature naming the issuer is."""
    answer = sample_app.ask("临江县的答复有哪些？")
    assert answer.found and answer.kind == "list", answer.text
    cited = {c.letter for c in answer.citations}
    assert {"lj-sl-2022-015", "lj-wj-2024-022", "lj-zr-2019-027"} <= cited, answer.text
    for citation in answer.citations:
        assert citation.issuer and citation.issuer in citation.quote, citation.quote


def test_a_list_of_a_kind_of_unit_in_one_place_is_of_that_place_s_letters(sample_app: ReplyQA) -> None:
    """省直厅局, 各部门 say which kind of unit, not which: the list is of the province's letters,
    and 答复过哪几件 asks for one as 有哪些 does."""
    for question in ("东川省直厅局的答复有哪几件？", "东川省厅答复过哪几件？"):
        answer = sample_app.ask(question)
        assert answer.found and answer.kind == "list", (question, answer.text)
        letters = {c.letter for c in answer.citations}
        assert len(letters) >= 3 and all(x.startswith("dc-") for x in letters), (question, letters)
