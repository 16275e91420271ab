"""Dates as letters write them, the damaged forms of web captures included."""

from __future__ import annotations

import pytest

from index.reading.dates import parse_date


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("2017年8月9日", "2017-08-09"),
        ("2019年 10月14日", "2019-10-14"),
        ("二○一一年五月十日", "2011-05-10"),
        ("二〇二一年十二月三十一日", "2021-12-31"),
        ("20211026", "2021-10-26"),
        ("2017821", "2017-08-21"),
        ("2019月6月11日", "2019-06-11"),
        ("2019月6日", None),
        ("2017111", None),
        ("2023年", None),
        ("2023年2月30日", None),
    ],
)
def test_dates_including_damaged_forms(written: str, iso: str | None) -> None:
    assert parse_date(written) == iso
