"""Property-based tests (hypothesis) of the text stages, on letters made of the pieces real
letters are made of (salutations, numbered headings, sentences, dates, signatures) shuffled and
mixed with arbitrary text: no exception escapes but `LoadError`, every span points at its text,
and the chunks cover every sentence of every section, repeating no more than the stated overlap.
Fast on purpose (modest example counts): they run with the fast tests."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.chunk import chunk_letter
from index.reading.clean import clean_text
from index.reading.letter import ReplyLetter, parse_text
from index.reading.load import LoadError, load_bytes

PIECES = [
    "关于市十五届人大三次会议第58号建议的答复", "张代表：", "您提出的《关于加快农村公路建设的建议》收悉，现答复如下：",
    "一、", "二、关于资金保障", "（一）", "（二）加强监管。", "1.", "2．", "一是", "二是加大投入，", "第一，",
    "三、下一步工作",
    "今年全市完成农村公路改造120公里，总投资3.5亿元。", "我局将继续推进相关工作；", "感谢您对交通工作的关心和支持！",
    "青河市交通运输局", "2023年6月18日", "（联系人：王明，电话：0571-12345678）", "抄送：市人大常委会人代工委",
    "首页 > 政务公开 > 建议提案", "【字体：大 中 小】", "打印本页", "\n", "\n", "\n", "　　", " ", "。", "，", "？",
]
TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=40)), max_size=60).map("".join)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _letter(raw: str) -> ReplyLetter:
    cleaned = clean_text(raw)
    return parse_text(cleaned.text, source="prop.txt", letter_id="prop", fields=cleaned.page_fields,
                      breaks=cleaned.breaks)


@FAST
@given(TEXT)
def test_the_cleaner_and_parser_never_raise_and_sections_point_at_their_text(raw: str) -> None:
    letter = _letter(raw)
    n = len(letter.text)
    for top in letter.sections:
        for section in top.walk():
            assert 0 <= section.start <= section.end <= n
            assert letter.text[section.start:section.end] == section.text
            for child in section.children:
                assert section.start <= child.start <= child.end <= section.end


@FAST
@given(TEXT, st.integers(min_value=40, max_value=400), st.integers(min_value=0, max_value=80))
def test_chunks_point_at_their_text_and_cover_every_sentence(raw: str, max_chars: int, overlap: int) -> None:
    overlap = min(overlap, max_chars // 2)
    letter = _letter(raw)
    chunks = chunk_letter(letter, "v", max_chars=max_chars, overlap=overlap)
    text = letter.text
    covered = [False] * len(text)
    for i, chunk in enumerate(chunks):
        assert chunk.ordinal == i
        assert text[chunk.start:chunk.end] == chunk.text and chunk.text.strip()
        assert chunk.end - chunk.start <= max_chars
        for pos in range(chunk.start, chunk.end):
            covered[pos] = True
    for top in letter.sections:
        for pos in range(top.start, top.end):
            assert covered[pos] or text[pos].isspace(), f"{text[pos]!r} at {pos} is in no chunk"
    for a, b in itertools.pairwise(chunks):
        shared = min(a.end, b.end) - max(a.start, b.start)
        assert shared <= overlap, "consecutive chunks repeat no more than the stated overlap"


@FAST
@given(TEXT, st.sampled_from(["letter.txt", "letter.TXT", "答复.txt"]))
def test_load_bytes_of_utf8_text_gives_text_or_a_load_error(raw: str, name: str) -> None:
    try:
        loaded = load_bytes(raw.encode("utf-8"), name)
    except LoadError as exc:
        assert exc.reason and name in exc.path
        return
    assert isinstance(loaded.text, str)
    _letter(loaded.text)  # and whatever it read parses
