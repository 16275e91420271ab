"""Chinese numerals, both ways: 二〇二〇 → 2020, 三千二百 → 3200, 十二 → 12, and 12 → 十二.

Letters write numbers in section labels (十二、), dates (二〇二〇年八月二十日) and figures
(三千二百万元); the parser, the citation references and the facts check all read them here.
"""

from __future__ import annotations

from decimal import Decimal

CN_DIGITS = {
    "零": 0, "〇": 0, "○": 0, "O": 0, "Ｏ": 0,
    "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
_SMALL = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_WRITTEN = "零一二三四五六七八九"


def chinese_to_number(text: str) -> Decimal | None:
    """三千二百 → 3200, 十二 → 12, 二〇二〇 → 2020 (a run of digits reads digit by digit);
    None for what is not a number we read unambiguously (三五千, 一万二)."""
    if not text:
        return None
    if all(ch in CN_DIGITS for ch in text):
        if len(text) == 1:
            return Decimal(CN_DIGITS[text])
        return Decimal("".join(str(CN_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in CN_DIGITS:
            if digit is not None and digit != 0 and CN_DIGITS[ch] != 0:
                return None
            digit = CN_DIGITS[ch]
        elif ch in _SMALL:
            section += (1 if digit is None else digit) * _SMALL[ch]
            digit = None
        elif ch in _BIG:
            section += digit or 0
            total = (total + section) * _BIG[ch] if ch == "亿" else total + section * _BIG[ch]
            section, digit = 0, None
        else:
            return None
    return Decimal(total + section + (digit or 0))


def chinese_int(text: str) -> int:
    """A section label's or a date's number (一 … 九十九); ValueError when it is none."""
    value = chinese_to_number(text)
    if value is None:
        raise ValueError(f"not a Chinese numeral: {text!r}")
    return int(value)


def int_to_chinese(n: int) -> str:
    """12 → 十二, 23 → 二十三; from 100 on, Arabic digits (no letter numbers its parts that far)."""
    if n < 10:
        return _WRITTEN[n]
    if n < 20:
        return "十" + (_WRITTEN[n % 10] if n % 10 else "")
    if n < 100:
        return _WRITTEN[n // 10] + "十" + (_WRITTEN[n % 10] if n % 10 else "")
    return str(n)
