"""Is a sentence written by an LLM backed by the span it cites?

The check is deliberately narrow and mechanical: the *facts* of the sentence — numbers with
their units, dates, quoted titles (`《…》`), short quoted names (`“…”`) and named places and
organisations — must each occur in the cited span (or in what identifies the cited letter:
its title, issuer, date, number). A model that paraphrases the wording is fine; a model that
changes 320个 into 300个, moves a number to the wrong source, or names another bureau is not.
What this cannot catch is a changed claim around correct facts (已完成 for 尚未完成): that is
why every kept sentence carries its quote, for the reader to see.

Text on both sides is compared after NFKC, OpenCC t2s (traditional letters, simplified
answers) and removal of whitespace. Numbers compare by value with their unit, so 1.37亿元 and
13700万元 are the same fact, and 二〇二〇年八月二十日 matches 2020年8月20日; 1.9万户 never matches
1.9万站. Everything here is a pure function of its arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

from index.numerals import CN_DIGITS, chinese_to_number
from index.tokenizer import ChineseTokenizer
from index.vocab import load_vocabulary

_VOCAB = load_vocabulary(Path(__file__).with_name("vocab") / "facts.toml")
UNITS = _VOCAB["units"]
"""Longest first: the regex alternation takes the first that matches."""
_ORG_SUFFIX = _VOCAB["organisation_suffixes"]
_PLACE_SUFFIX = _VOCAB["place_suffixes"]
_GENERIC_PREFIX = _VOCAB["generic_prefixes"]
_NOT_NAMES = frozenset(_VOCAB["not_names"])

FactKind = Literal["number", "date", "title", "name", "entity"]

_MAGNITUDE = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}

_UNIT_RE = "|".join(re.escape(u) for u in UNITS)
_APPROX = "(?:余|多|来)?"
_ARABIC = re.compile(
    rf"(?<![\d.])(?P<num>\d+(?:,\d{{3}})*(?:\.\d+)?){_APPROX}(?P<mag>(?:[百千万亿](?![米瓦克]))*){_APPROX}(?P<unit>{_UNIT_RE})?"
)
_CN_NUM_CHARS = "零〇一二两三四五六七八九十百千万亿"
_CHINESE = re.compile(
    rf"(?<![\d.{_CN_NUM_CHARS}第])(?P<num>[{_CN_NUM_CHARS}]+){_APPROX}(?P<unit>{_UNIT_RE})"
)
_PERCENT = re.compile(rf"百分之(?P<num>\d+(?:\.\d+)?|[{_CN_NUM_CHARS}点]+)")
_DATE = re.compile(r"(?<!\d)(?:\d{4}年\d{1,2}月(?:\d{1,2}日)?|\d{1,2}月\d{1,2}日)")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_CN_YEAR = re.compile(r"([〇零一二三四五六七八九]{4})年")
_CN_MONTH = re.compile(r"(?<![一二三四五六七八九十个第])([一二三四五六七八九十]{1,2})月")
_CN_DAY = re.compile(r"(?<=月)([一二三四五六七八九十]{1,3})日")
_LEADING_ZERO = re.compile(r"(?<!\d)0(\d)(?=[月日])")
_TITLE = re.compile(r"《([^《》]{1,80})》")
_NAME = re.compile(r"[“\"]([^“”\"]{2,12})[”\"]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")

_NEGATION = re.compile(
    r"未(?!来|成年|列入计划外)|没有|没能|无法|不能|不予|不再|不具备|不符合|不属于|不宜|不得|不可|不足|不够|不同意|暂不|并非|非法"
)
_INSTRUCTION = re.compile(
    r"忽略(?:以上|上述|之前|前面|前述|所有|全部)[^。]{0,8}(?:指令|指示|提示|要求|规则|内容)|无视[^。]{0,8}(?:指令|提示|规则)"
    r"|(?:系统|system)\s*(?:提示|prompt)|ignore\s*(?:all\s*)?(?:previous|above|prior)|你(?:现在)?是一个|请(?:直接)?(?:回答|输出|回复)[“\"]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Fact:
    """One checkable piece of a sentence."""

    kind: FactKind
    text: str
    """As written in the sentence, normalised."""
    value: Decimal | None = None
    """Numbers only: the value in base units (1.9万 → 19000)."""
    unit: str = ""


@dataclass(frozen=True)
class Check:
    facts: tuple[Fact, ...]
    missing: tuple[Fact, ...]

    @property
    def ok(self) -> bool:
        return not self.missing


def canonical(text: str, tokenizer: ChineseTokenizer) -> str:
    """`normalize`, then dates written in Chinese numerals or ISO form as `2020年8月20日`."""
    text = tokenizer.compact(text)
    text = _ISO_DATE.sub(lambda m: f"{m[1]}年{int(m[2])}月{int(m[3])}日", text)
    text = _CN_YEAR.sub(lambda m: f"{chinese_to_number(m[1])}年", text)
    text = _CN_MONTH.sub(lambda m: _month_or_keep(m), text)
    text = _CN_DAY.sub(lambda m: _day_or_keep(m), text)
    return _LEADING_ZERO.sub(r"\1", text)


def _month_or_keep(m: re.Match[str]) -> str:
    value = chinese_to_number(m[1])
    return f"{value}月" if value is not None and 1 <= value <= 12 else m[0]


def _day_or_keep(m: re.Match[str]) -> str:
    value = chinese_to_number(m[1])
    return f"{value}日" if value is not None and 1 <= value <= 31 else m[0]


def _scale(mag: str) -> Decimal:
    out = Decimal(1)
    for ch in mag:
        out *= _MAGNITUDE[ch]
    return out


@dataclass(frozen=True)
class _Number:
    start: int
    end: int
    text: str
    value: Decimal
    unit: str


def _numbers(text: str) -> tuple[_Number, ...]:
    """Every number of a canonical text, with its value in base units and its unit."""
    found: list[_Number] = []
    taken: list[tuple[int, int]] = []
    for m in _PERCENT.finditer(text):
        raw = m["num"]
        value = _decimal(raw) if raw[0].isdigit() else _chinese_decimal(raw)
        if value is not None:
            found.append(_Number(m.start(), m.end(), m[0], value, "%"))
            taken.append(m.span())
    for m in _ARABIC.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        value = _decimal(m["num"].replace(",", ""))
        if value is None:
            continue
        found.append(_Number(m.start(), m.end(), m[0], value * _scale(m["mag"]), m["unit"] or ""))
    for m in _CHINESE.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        raw = m["num"]
        value = chinese_to_number(raw)
        if value is None or value == 0 or (raw in ("一", "两") and m["unit"] != "元"):
            continue  # 一个/一批/两类: an article more often than a figure
        found.append(_Number(m.start(), m.end(), m[0], value, m["unit"]))
    return tuple(sorted(found, key=lambda n: n.start))


def _decimal(raw: str) -> Decimal | None:
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def _chinese_decimal(raw: str) -> Decimal | None:
    whole, _, frac = raw.partition("点")
    value = chinese_to_number(whole)
    if value is None:
        return None
    if frac:
        digits = "".join(str(CN_DIGITS.get(ch, "")) for ch in frac)
        return _decimal(f"{value}.{digits}") if digits else value
    return value


def _units_agree(a: str, b: str) -> bool:
    if not a or not b or a == b:
        return True
    same = ({"公里", "千米"}, {"公斤", "千克"}, {"平方公里", "平方千米"})
    return any(a in group and b in group for group in same)


def extract_facts(sentence: str, tokenizer: ChineseTokenizer) -> list[Fact]:
    """The numbers, dates, titles, quoted names and named places/organisations of a sentence."""
    text = canonical(sentence, tokenizer)
    facts: list[Fact] = []
    masked = text
    for m in _DATE.finditer(text):
        facts.append(Fact("date", m[0]))
    masked = _DATE.sub("；", masked)
    for m in _TITLE.finditer(text):
        facts.append(Fact("title", m[1]))
    masked = _TITLE.sub("；", masked)
    for m in _NAME.finditer(masked):
        facts.append(Fact("name", m[1]))
    for n in _numbers(masked):
        facts.append(Fact("number", n.text, n.value, n.unit))
    facts.extend(Fact("entity", e) for e in named_entities(masked, tokenizer))
    return list(dict.fromkeys(facts))


def named_entities(text: str, tokenizer: ChineseTokenizer) -> list[str]:
    """Places, organisations and people, as far as jieba's tags can be trusted.

    Kept: words jieba tags ns/nt/nr (minus common words its dictionary mistags, such as 城市 or
    新建; nz is left out, its dictionary gives it to verbs like 印发), such a word joined to a
    one-character place or bureau suffix after it (青河 + 市 → 青河市), nouns ending like a bureau
    (水利局, 建设局, 市政府), and a noun joined to a one-character bureau suffix (交通运输 + 局).
    """
    tokens = [(w, f) for w, f in tokenizer.tag(text) if w.strip()]
    found: list[str] = []
    for i, (word, flag) in enumerate(tokens):
        if not _CJK_RUN.fullmatch(word):
            continue
        nxt = tokens[i + 1][0] if i + 1 < len(tokens) else ""
        prev, prev_flag = tokens[i - 1] if i > 0 else ("", "")
        if len(nxt) == 1 and nxt in _PLACE_SUFFIX + _ORG_SUFFIX and flag in ("ns", "nz", "nr", "nt"):
            if word not in _NOT_NAMES:
                found.append(word + nxt)
            continue
        if len(word) == 1 and word in _ORG_SUFFIX and prev and _CJK_RUN.fullmatch(prev) and len(prev) >= 2 and (
            prev_flag.startswith("n") or prev_flag in ("j", "vn")
        ) and not prev.startswith(_GENERIC_PREFIX):
            found.append(prev + word)
            continue
        if len(word) < 2 or word in _NOT_NAMES or word.startswith(_GENERIC_PREFIX):
            continue
        if flag in ("ns", "nt") or (flag == "nr" and len(word) >= 2) or (
            len(word) >= 3 and word.endswith(_ORG_SUFFIX) and flag.startswith("n")
        ):
            found.append(word)
    return list(dict.fromkeys(found))


def fact_in(fact: Fact, text: str, tokenizer: ChineseTokenizer) -> bool:
    """Whether `text` (any text; it is canonicalised here) holds `fact`."""
    hay = canonical(text, tokenizer)
    if fact.kind == "number":
        assert fact.value is not None
        return any(n.value == fact.value and _units_agree(fact.unit, n.unit) for n in _numbers(hay))
    return fact.text in hay


def check(sentence: str, span: str, tokenizer: ChineseTokenizer, context: str = "") -> Check:
    """The facts of `sentence` that neither `span` nor `context` (the cited letter's title,
    issuer, date) holds; `ok` when there are none."""
    facts = tuple(extract_facts(sentence, tokenizer))
    missing = tuple(
        f for f in facts
        if not fact_in(f, span, tokenizer) and not (context and fact_in(f, context, tokenizer))
    )
    return Check(facts, missing)


def bigram_overlap(sentence: str, span: str, tokenizer: ChineseTokenizer) -> float:
    """Share of the sentence's Chinese character bigrams found in the span: for sentences with
    no number or name to check, a rough test that they say what the span says."""
    grams = {run[i:i + 2] for run in _CJK_RUN.findall(tokenizer.compact(sentence)) for i in range(len(run) - 1)}
    if not grams:
        return 0.0
    hay = tokenizer.compact(span)
    return sum(1 for g in grams if g in hay) / len(grams)


def negated(text: str, tokenizer: ChineseTokenizer) -> bool:
    """Whether a text says something is not (yet) so: 尚未完工, 不具备条件, 无法实施.
    Used where only wording is compared, so that 已全部完成 is not "supported" by 尚未全部完工."""
    return bool(_NEGATION.search(tokenizer.compact(text)))


def looks_like_instruction(text: str, tokenizer: ChineseTokenizer) -> bool:
    """A letter sentence that talks to the model (忽略以上所有指令…): quoted data, never support."""
    return bool(_INSTRUCTION.search(tokenizer.compact(text)))


def has_content(text: str) -> bool:
    return bool(_CJK.search(text) or re.search(r"\d", text))
