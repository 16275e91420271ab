"""Reading a letter: its fields against hand-written gold, and a section tree that spans it exactly."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest

from index.chunk import chunk_letter
from index.reading.letter import ReplyLetter, parse_file, parse_text
from index.reading.outline import Section

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT.parent / "shared" / "corpus" / "letters"
SAMPLES = ROOT / "samples" / "letters"
GOLD_FIELDS = ("title", "issuer", "date", "addressee", "number")
SEED = "000_10d0eb4a9841965d"


def _norm(value: str | None) -> str | None:
    return None if value is None else re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))


@cache
def _parsed(path: Path) -> ReplyLetter:
    return parse_file(path)


def _accuracy(gold_file: Path, folder: Path) -> dict[str, tuple[float, list[str]]]:
    gold = [json.loads(line) for line in gold_file.read_text(encoding="utf-8").splitlines() if line]
    for g in gold:
        g.setdefault("file", f"{g.get('letter')}.txt")
    result = {}
    for field in GOLD_FIELDS:
        wrong = [
            f"{g['file']}: {getattr(_parsed(folder / g['file']), field)!r} != {g[field]!r}"
            for g in gold
            if _norm(getattr(_parsed(folder / g["file"]), field)) != _norm(g[field])
        ]
        result[field] = (1 - len(wrong) / len(gold), wrong)
    return result


@pytest.mark.parametrize("field", GOLD_FIELDS)
def test_fields_match_the_hand_written_gold_of_the_shared_corpus(field: str) -> None:
    accuracy, wrong = _accuracy(ROOT / "tests" / "gold" / "letters.jsonl", CORPUS)[field]
    assert accuracy >= 0.95, f"{field}: {accuracy:.2%}\n" + "\n".join(wrong)


# The 20 letters added to the shared corpus with field labels written by someone who never saw
# the parser (`gold-fields.jsonl`, the issue's own measurement). The floors are what the parser
# reaches; the one date it misses (055) is a page date the labels leave out on purpose, where our
# own gold takes the page date when the letter has none.
SHARED_GOLD_FLOORS = {"title": 1.0, "issuer": 1.0, "date": 0.95, "addressee": 1.0, "number": 1.0}


@pytest.mark.parametrize("field", GOLD_FIELDS)
def test_fields_match_the_independent_labels_of_the_added_letters(field: str) -> None:
    accuracy, wrong = _accuracy(CORPUS.parent / "gold-fields.jsonl", CORPUS)[field]
    assert accuracy >= SHARED_GOLD_FLOORS[field], f"{field}: {accuracy:.2%}\n" + "\n".join(wrong)


BLIND = ROOT / "tests" / "fixtures" / "blind"


@pytest.mark.parametrize("field", GOLD_FIELDS)
def test_fields_on_letters_written_blind_to_the_parser(field: str) -> None:
    accuracy, wrong = _accuracy(BLIND / "gold.jsonl", BLIND / "letters")[field]
    assert accuracy >= 0.90, f"{field}: {accuracy:.2%}\n" + "\n".join(wrong)


def _all_letters() -> list[Path]:
    return sorted(CORPUS.glob("*.txt")) + sorted(SAMPLES.iterdir())


def _check_tree(sections: list[Section], text: str, lo: int, hi: int) -> None:
    previous_end = lo
    for section in sections:
        assert lo <= section.start < section.end <= hi
        assert section.start >= previous_end, "sections overlap or are out of order"
        assert text[section.start:section.end] == section.text
        assert section.text == section.text.strip()
        previous_end = section.end
        _check_tree(section.children, text, section.start, section.end)


@pytest.mark.parametrize("path", _all_letters(), ids=lambda p: p.name)
def test_every_letter_parses_and_its_sections_are_exact_spans(path: Path) -> None:
    letter = _parsed(path)
    assert letter.text
    _check_tree(letter.sections, letter.text, 0, len(letter.text))
    top = [s for s in letter.sections]
    assert top[0].start == letter.text.index(letter.text.strip()[0])
    covered = "".join(letter.text[s.start:s.end] for s in top)
    assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", letter.body), "letter text outside any section"
    if letter.page_info_start is not None:  # the page's lines follow, in no section
        assert top[-1].end <= letter.page_info_start and letter.text[letter.page_info_start:].strip()


def test_seed_letter_has_four_numbered_sections_answering_each_point() -> None:
    letter = _parsed(CORPUS / f"{SEED}.txt")
    numbered = [s for s in letter.sections if s.kind == "numbered"]
    assert [s.label for s in numbered] == ["一", "二", "三", "四"]
    assert all(s.heading.startswith("关于贵委提出的") for s in numbered)
    third = numbered[2]
    assert [c.label for c in third.children] == ["一是", "二是", "三是", "四是"]
    assert "2019年全省共建成5G基站超1万个" in third.text
    assert letter.sections[0].kind == "preamble" and "现答复如下" in letter.sections[0].text


def test_nested_numbering_becomes_a_tree() -> None:
    letter = _parsed(SAMPLES / "dc-gx-2020-dh0271.txt")
    first = next(s for s in letter.sections if s.label == "一")
    second = first.children[1]
    assert second.label == "（二）"
    assert [c.label for c in second.children] == ["1", "2", "3"]
    assert second.children[0].path == ["一", "（二）", "1"]


def test_numbers_inside_sentences_are_not_sections() -> None:
    text = (
        "关于县十届人大一次会议第3号建议的答复\n李某某代表：\n您提出的建议收悉，现答复如下：\n"
        "我局已完成道路硬化2.3公里。\n3.5米宽的路面已经铺设完成。\n感谢您的关心。"
    )
    letter = parse_text(text, source="x.txt", letter_id="x")
    assert [s.kind for s in letter.sections] == ["preamble", "body", "closing"]


def test_title_split_over_two_lines_is_joined() -> None:
    letter = _parsed(CORPUS / "003.txt")
    assert letter.title == "关于对平江县十七届人大一次会议第82号建议的答复"
    assert letter.category == "B"


def test_spam_headers_and_neighbour_links_never_become_the_title() -> None:
    for name in ("049.txt", "078.txt", "054.txt", "066.txt", "061.txt"):
        title = _parsed(CORPUS / name).title or ""
        assert not re.search(r"无码|毛片|伊人|一区|上一|下一", title), (name, title)
    assert _parsed(CORPUS / "054.txt").title is None


def test_sample_letters_fields() -> None:
    split = _parsed(SAMPLES / "bs-jt-2021-036.txt")
    assert split.title == "关于白石县十七届人大五次会议第36号建议的答复"
    assert split.date == "2021-08-12"
    pdf = _parsed(SAMPLES / "dc-wj-2019-1035.pdf")
    assert (pdf.number, pdf.category, pdf.date) == ("第1035号", "B", "2019-07-15")
    gbk = _parsed(SAMPLES / "wx-nync-2023-036.txt")
    assert gbk.number == "温36号"
    handled = _parsed(SAMPLES / "qh-zg-2023-058-hb.txt")
    assert handled.title is not None and handled.title.endswith("会办意见")
    assert handled.addressee == "市交通运输局"
    docx = _parsed(SAMPLES / "qh-jy-2025-04-1.docx")
    assert (docx.channel, docx.number) == ("CPPCC", "第04-1号")
    html = _parsed(SAMPLES / "qh-zj-2022-027.html")
    assert html.issuer == "青河市住房和城乡建设局"


def test_document_numbers_are_the_number_alone() -> None:
    """The 文号 goes into draft references: a page's `文号` label glued to it, or the empty bracket
    pair its table left, is not part of it; a real one stays as written."""
    from index.reading.fields import tidy_doc_number

    assert tidy_doc_number("文号永农函〔2024〕66号") == "永农函〔2024〕66号"
    assert tidy_doc_number("〔〕恰水建字〔2023〕2号") == "恰水建字〔2023〕2号"
    assert tidy_doc_number("发文字号：武农复〔2020〕11号") == "武农复〔2020〕11号"
    assert tidy_doc_number("粤卫案函〔2020〕208号") == "粤卫案函〔2020〕208号"
    assert _parsed(SAMPLES / "qh-jt-2023-058.txt").doc_number == "青交建议复〔2023〕41号"
    for name in ("072.txt", "076.txt"):
        number = _parsed(CORPUS / name).doc_number
        assert number and not number.startswith(("文号", "〔〕")), number


def test_the_page_s_lines_follow_the_letter_and_are_never_chunked() -> None:
    letter = parse_file(ROOT / "samples" / "letters" / "qh-zj-2022-027.html")
    assert letter.page_info_start is not None
    page = letter.text[letter.page_info_start:]
    assert "文号：青建建议复〔2022〕11号" in page.split("\n")
    assert letter.doc_number == "青建建议复〔2022〕11号" and letter.issuer == "青河市住房和城乡建设局"
    assert letter.body.endswith("（联系人：曹某某，联系电话：0531-8xxxxxxx）"), "the letter ends where it did"
    chunks = chunk_letter(letter, "v")
    assert chunks and all(c.end <= len(letter.body) for c in chunks)
    assert not any("索引号" in c.embed_text for c in chunks)
