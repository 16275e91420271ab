"""What each sentence of a letter is, read from the letter's structure: only content answers
a question about what a letter says."""

from __future__ import annotations

import pytest

from assistant.ask.candidates import sentence_role, top_section
from assistant.ask.spans import sentence_spans
from index.reading.clean import clean_text
from index.reading.letter import ReplyLetter, parse_text
from index.tokenizer import ChineseTokenizer

LETTER = """示例（虚构）
关于市十五届人大四次会议第88号建议的答复
王某某代表：
您提出的《关于改善东关路口交通秩序的建议》收悉，经会同市公安局交警支队研究，现答复如下：东关路口信号灯已于2024年3月完成改造。
一、关于增设人行横道
目前，东关路口已增设人行横道2处。
二、关于下一步工作
下一步，我局将在2024年底前完成路口渠化改造。
交办日期：2024年1月9日
感谢您对交通工作的关心和支持。
青河市交通运输局
2024年4月2日
"""


@pytest.fixture(scope="module")
def letter() -> ReplyLetter:
    cleaned = clean_text(LETTER)
    return parse_text(cleaned.text, source="x.txt", letter_id="x", fields=cleaned.page_fields, breaks=cleaned.breaks)


@pytest.fixture(scope="module")
def tokenizer() -> ChineseTokenizer:
    return ChineseTokenizer()


def _roles(letter: ReplyLetter, tokenizer: ChineseTokenizer) -> dict[str, str]:
    text = letter.text
    roles = {}
    for start, end in sentence_spans(text, 0, len(text)):
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line = text[line_start:line_end if line_end != -1 else len(text)]
        roles[text[start:end]] = sentence_role(
            letter, text[start:end], line, top_section(letter, start), start, tokenizer
        )
    return roles


def test_each_part_of_a_letter_has_its_role(letter: ReplyLetter, tokenizer: ChineseTokenizer) -> None:
    roles = _roles(letter, tokenizer)
    assert roles["关于市十五届人大四次会议第88号建议的答复"] == "title"
    assert roles["王某某代表："] == "addressee"
    assert roles["一、关于增设人行横道"] == "heading"
    assert roles["目前，东关路口已增设人行横道2处。"] == "content"
    assert roles["交办日期：2024年1月9日"] == "field"
    assert roles["感谢您对交通工作的关心和支持。"] == "courtesy"
    assert roles["青河市交通运输局"] == "signature"
    assert roles["2024年4月2日"] == "date"


def test_the_answer_after_the_reply_formula_is_a_candidate_of_its_own(
    letter: ReplyLetter, tokenizer: ChineseTokenizer
) -> None:
    """`…收悉，…现答复如下：东关路口信号灯已于…` is an acknowledgement and an answer."""
    from assistant.ask.candidates import _split_after_formula

    text = letter.text
    spans = _split_after_formula(text, sentence_spans(text, 0, len(text)))
    pieces = [text[a:b] for a, b in spans]
    assert "东关路口信号灯已于2024年3月完成改造。" in pieces
    assert any(p.startswith("您提出的") and p.endswith("收悉，") for p in pieces)
