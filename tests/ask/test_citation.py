"""Citations: the exact span, and the reference a member of staff pastes into a draft."""

from __future__ import annotations

from pathlib import Path

from assistant.ask.citation import make_citation, reference_text, references_block, section_at, section_words
from index.reading.letter import parse_file

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "letters"


def test_the_reference_of_the_design() -> None:
    assert (
        reference_text("关于加强科技创新推进山东省5G产业布局的建议", "2020-08-28", "三")
        == "《关于加强科技创新推进山东省5G产业布局的建议》的答复（2020年8月28日）第三部分"
    )


def test_titles_that_name_the_reply_are_not_doubled_and_sections_read_naturally() -> None:
    assert reference_text("关于对平江县十七届人大一次会议第82号建议的答复", None, "正文") == (
        "《关于对平江县十七届人大一次会议第82号建议的答复》正文"
    )
    assert section_words("三/一是") == "第三部分一是"
    assert section_words("1") == "第一部分"
    assert section_words("第四、第五") == "第四、第五部分"
    assert section_words("开头") == "开头部分"


def test_a_citation_points_at_the_exact_span_of_its_section() -> None:
    letter = parse_file(CORPUS / "000_10d0eb4a9841965d.txt")
    quote = "2019年全省共建成5G基站超1万个、完成投资近33亿元。"
    start = letter.text.index(quote)
    citation = make_citation(1, letter, start, start + len(quote))
    assert citation.quote == quote == letter.text[citation.start:citation.end]
    assert citation.section == "三"
    assert citation.heading.startswith("关于贵委提出的")
    assert citation.reference.endswith("第三部分")
    assert section_at(letter, start, start + len(quote)).label == "三"
    block = references_block([citation])
    assert block.startswith("[1] 《关于加强科技创新推进山东省5G产业布局的建议》的答复（2020年8月28日）")
