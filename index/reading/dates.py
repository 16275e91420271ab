"""Dates as letters write them, including the damaged forms web captures produce.

`2017年8月9日`, `2017-08-28`, `二○一一年五月十日`, `2019年 10月14日`, and digits whose 年/月/日
were lost on the way (`20211026`, `2017821`) or mistyped (`2019月6月11日`). Everything becomes ISO `YYYY-MM-DD`, or None
when the string does not hold a real calendar date.
"""

from __future__ import annotations

import re
from datetime import date

from index.numerals import chinese_int

# `2019月6月11日`: a 年 typed as 月 is read as 年 when another 月 follows.
YMD = re.compile(r"(\d{4})\s*(?:[年\-/.]|月(?=\s*\d{1,2}\s*月))\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")
CN_YMD = re.compile(
    r"([〇○零一二三四五六七八九OＯ]{4})\s*年\s*([一二三四五六七八九十]{1,2})\s*月"
    r"\s*([一二三四五六七八九十]{1,3})\s*日"
)
DIGITS_ONLY = re.compile(r"(?<!\d)(\d{7,8})(?!\d)")
DATE_PATTERN = re.compile(f"{YMD.pattern}|{CN_YMD.pattern}")


def _iso(year: int, month: int, day: int) -> str | None:
    if not 1900 <= year <= 2100:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(text: str) -> str | None:
    """The first date in `text`, as ISO; None if there is none."""
    m = YMD.search(text)
    if m:
        return _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = CN_YMD.search(text)
    if m:
        year = chinese_int(m.group(1))
        return _iso(year, chinese_int(m.group(2)), chinese_int(m.group(3)))
    m = DIGITS_ONLY.search(text)
    if m:
        return parse_glued_digits(m.group(1))
    return None


def parse_glued_digits(digits: str) -> str | None:
    """`20211026` → 2021-10-26; `2017821` → 2017-08-21 (the only valid reading of 8/21, 82/1)."""
    year, rest = int(digits[:4]), digits[4:]
    if len(rest) == 4:
        return _iso(year, int(rest[:2]), int(rest[2:]))
    readings = {_iso(year, int(rest[:1]), int(rest[1:])), _iso(year, int(rest[:2]), int(rest[2:]))}
    readings.discard(None)
    return readings.pop() if len(readings) == 1 else None
