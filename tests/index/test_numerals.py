"""Chinese numerals both ways: figures, section labels and dates read, section numbers written."""

from __future__ import annotations

import pytest

from index.numerals import chinese_int, chinese_to_number, int_to_chinese


@pytest.mark.parametrize(
    ("text", "value"),
    [("三千二百", 3200), ("一万二千", 12000), ("两万", 20000), ("一百零五", 105), ("十二", 12),
     ("三亿五千万", 350_000_000), ("二〇二〇", 2020), ("七", 7)],
)
def test_chinese_numerals(text: str, value: int) -> None:
    assert chinese_to_number(text) == value


@pytest.mark.parametrize("text", ["", "三五千", "十二月", "12"])
def test_what_is_not_one_unambiguous_number_reads_as_none(text: str) -> None:
    assert chinese_to_number(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("一", 1), ("十", 10), ("十二", 12), ("二十三", 23), ("九十九", 99), ("二○一一", 2011), ("〇", 0)],
)
def test_section_labels_and_date_parts(text: str, value: int) -> None:
    assert chinese_int(text) == value


def test_a_label_that_is_no_numeral_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a Chinese numeral"):
        chinese_int("甲")


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "零"), (3, "三"), (10, "十"), (12, "十二"), (20, "二十"), (23, "二十三"), (99, "九十九"),
     (100, "100"), (128, "128")],
)
def test_section_numbers_are_written_in_chinese_below_a_hundred(value: int, text: str) -> None:
    assert int_to_chinese(value) == text


@pytest.mark.parametrize("value", range(100))
def test_writing_and_reading_agree(value: int) -> None:
    assert chinese_int(int_to_chinese(value)) == value
