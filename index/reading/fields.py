"""The fields of a letter, each looked for where letters actually put it, most reliable place first.

The date next to the signature, the addressee in the salutation, the session and number in the
title or opening, the document number above the salutation, then the same facts in the page's
own metadata as a fallback (the title is `index.reading.title`'s, the issuer
`index.reading.issuer`'s). Every extractor reads the cleaned lines (and the harvested page
fields); `index.reading.letter` decides where the header, salutation and closing are and calls
them in turn.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from index.reading.clean import CJK, RECORD_KEYS, is_title_like
from index.reading.dates import DATE_PATTERN, parse_date
from index.reading.units import UNIT_SUFFIXES
from index.vocab import alternation, load_vocabulary

Channel = Literal["NPC", "CPPCC", "other"]

# The key lists and title words (and what each one means) are in fields.toml.
_VOCAB = load_vocabulary(Path(__file__).with_name("fields.toml"))

# `尊敬的`, `尊敬地` before the name greeted: not part of the addressee.
_HONORIFIC = f"(?:{alternation(_VOCAB['addressee.honorifics'])})"
# `某某委员（区应急管理局）：`: the member's work unit noted after the role.
_UNIT_NOTE = r"(?:[（(][^（）()]{1,20}[）)])?"
_HEADING_HALF = re.compile(r"^(?:关于|關於|關于|对|對)|会议|會議|[届屆]")
_SALUTATION = re.compile(
    f"^{_HONORIFIC}?" r"(?P<who>[^，。；：:！？]{1,80}?)(?:您好|你好)?[:：]$"
)
_NUM = r"[一二三四五六七八九十〇零○0-9]{1,4}"
SESSION_RE = re.compile(
    rf"(?:政协|政協)?[{CJK}]{{0,10}}?(?:人大|政协|政協)?第?{_NUM}[届屆]"
    rf"(?:全国|全國|[{CJK}]{{1,4}}?[区區县縣市])?"
    rf"(?:人大|人民代表大会|人民代表大會|政协|政協|全国委员会|全國委員會|委员会|委員會|政治协商会议|政治協商會議)?"
    rf"(?:第?{_NUM}[届屆])?第?{_NUM}次(?:全体|全體)?(?:会议|會議)"
    rf"|(?:政协|政協)?[{CJK}]{{0,8}}?(?:政协|政協)第{_NUM}[届屆](?:委员会|委員會)"
)
_SESSION_TRIM = re.compile(
    r"^(?:.*?(?:的|於|于|在|上|对|對|关于|關於|關于|期间|期間|参加|出席)(?=[^的於于在上对對]))?"
)
_NUMBER_AFTER_SESSION = re.compile(
    rf"^(?:代表建议|代表建議|建议|建議|委员提案|委員提案|提案|议案|議案|[{CJK}]{{0,8}}类|[:：\s]|--)*"
    r"(第[^\s，。；、“”《》（）()]{1,8}?(?:号|號)|[A-Za-z\u4e00-\u9fff]?\d+(?:-\d+)?(?:号|號))"
)
# `…会议苏溪镇13号建议`: a number given after the delegation that made the suggestion.
_DELEGATION_NUMBER = re.compile(
    rf"^(?:(?!第)[{CJK}]){{2,6}}?(\d+(?:-\d+)?(?:号|號))(?:代表)?(?:建议|建議|提案|议案|議案)"
)
_NUMBER_ANY = re.compile(
    r"(?<![〔\[〕\]\d])(第[A-Z]{0,4}\d+(?:-\d+)?(?:号|號))(?=[^〕\]]{0,4}?(?:代表)?(?:建议|建議|提案|议案|議案|）|\)|“|《|的|，))"
)
_CATEGORY = re.compile(
    r"(?:^|[^A-Za-z])[（(]?(?P<c>[ABC])[）)]?\s*(?:类|類)"
    r"|(?:类\s*别|類\s*別|办理结果|辦理結果|办理类型|辦理類型|办复类别|辦復類別)[:：]?\s*[（(]?(?P<d>[ABC])(?![A-Za-z])"
)
_DISCLOSURE = re.compile(
    f"(?:{alternation(_VOCAB['disclosure.keys'])})" r"[:：]\s*(?P<v>[^\s，。；]{1,8})"
    f"|(?P<w>{alternation(_VOCAB['disclosure.phrases'])})"
)
_CONTACT = re.compile(f"^[（(]?(?:{alternation(_VOCAB['contact.keys'])})")
# A document number (`粤卫案函〔2020〕208号`), also what the title reader refuses as a heading.
DOC_NUMBER = re.compile(f"[{CJK}]{{1,12}}(?:[〔\\[(（【]\\d{{4}}[〕\\])）】])[{CJK}]?\\d+[号號]")
_BARE_DOC_NUMBER = re.compile(r"[〔\[(（【]\d{4}[〕\])）】]\d+[号號]")
# `文号：`, `发文字号` written in front of the number on the same line.
_DOC_KEY = re.compile(
    "^(?:" + alternation(_VOCAB["doc_number.page_keys"] + _VOCAB["doc_number.record_keys"]) + ")[:：]?"
)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def salutation_index(lines: list[str]) -> int | None:
    """The line greeting the deputy or member (`张某某代表：`), or None: the header ends there and
    the addressee is read from it. Only the opening lines are searched, and a greeting counts only
    when the answer follows it, so a `某某：` field line is not taken for one."""
    limit = max(12, first_paragraph(lines) + 1)
    for i, line in enumerate(lines[:limit]):
        compact = _compact(line)
        if compact.startswith(RECORD_KEYS):
            continue
        m = _SALUTATION.match(compact)
        who = m.group("who") if m else ""
        nxt = next((_compact(x) for x in lines[i + 1:] if x.strip()), "")
        if m and not (len(nxt) >= 15 or re.match(r"[您你贵貴在关關现現]", nxt)):
            continue
        if m and len(compact) <= 90 and (
            re.search(r"(?:代表|委员|委員|同志|先生|女士)(?:们|們)?(?:并附议人|並附議人|等)?" + _UNIT_NOTE + "$", who)
            or re.fullmatch(f"[{CJK}（）()·]{{1,40}}{UNIT_SUFFIXES}", who)
        ):
            return i
        # Without a colon, a line that is only a name and a role greets the reader — unless it is
        # the first half of a wrapped heading (`对某某省三届人大五次会议代表` / `建议第5号的答复`).
        if len(compact) <= 60 and not _HEADING_HALF.search(compact) and re.fullmatch(
            rf"{_HONORIFIC}?[{CJK}、·]{{1,50}}(?:代表|委员|委員|代表們|代表们|委员们)", compact
        ):
            return i
    return None


def first_paragraph(lines: list[str]) -> int:
    """The first line that reads as prose, not a heading: where the header ends when a letter
    greets nobody."""
    for i, line in enumerate(lines):
        if len(line) >= 40 and re.search("[。，]", line) and not is_title_like(line[:40]):
            return i
    return len(lines)


def field_value(lines: list[str], keys: tuple[str, ...]) -> str | None:
    """`key：value` or a key on its own line with the value on the next one."""
    for i, line in enumerate(lines):
        compact = _compact(line)
        for key in keys:
            if compact.startswith(key):
                rest = compact[len(key):].lstrip(":：")
                if rest:
                    return rest
                if i + 1 < len(lines) and len(lines[i + 1]) <= 80:
                    return _compact(lines[i + 1])
    return None


_OWN_DATE_KEYS = _VOCAB["date.own_keys"]
_PAGE_DATE_KEYS = _VOCAB["date.page_keys"]


def extract_date(lines: list[str], closing_from: int, fields: dict[str, str]) -> str | None:
    for line in reversed(lines[min(closing_from, max(0, len(lines) - 8)):]):
        compact = _compact(line)
        if len(compact) > 60 or re.match(r"^(?:抄送|抄报|联系|聯系|附件)", compact):
            continue
        m = re.search(rf"(?:{DATE_PATTERN.pattern}|^\d{{7,8}}$)", compact)
        if m and m.end() >= len(compact) - 1:
            date = parse_date(m.group(0))
            if date:
                return date
    for key in _OWN_DATE_KEYS:
        value = field_value(lines, (key,)) or fields.get(key)
        if value and (date := parse_date(value)):
            return date
    for key in _PAGE_DATE_KEYS:
        value = fields.get(key)
        if value and (date := parse_date(value)):
            return date
    return None


def extract_addressee(lines: list[str], salutation: int | None, title: str | None) -> str | None:
    if salutation is not None:
        who = _compact(lines[salutation]).rstrip("：:")
        who = re.sub(f"^{_HONORIFIC}", "", who)
        who = re.sub(r"(?:您好|你好)$", "", who)
        return who or None
    if title:
        m = re.search(
            rf"(?:对|對)([{CJK}、·]{{1,30}}?(?:等\d+(?:名|位))?(?:代表|委员|委員))", title
        )
        if m:
            return m.group(1)
    return None


def extract_session(title: str | None, lines: list[str]) -> tuple[str | None, str | None, int]:
    """(session, number, end offset of the session match in the searched text or -1)."""
    record = field_value(lines, _VOCAB["session.record_keys"])
    sources = [s for s in (record, title, "\n".join(lines[:14])) if s]
    for source in sources:
        for m in SESSION_RE.finditer(_compact(source) if source is not sources[-1] else source):
            session = _SESSION_TRIM.sub("", m.group(0))
            session = re.sub(r"^(?:人大代表|代表|委员|委員)", "", session)
            if len(session) < 5:
                continue
            tail = (_compact(source) if source is not sources[-1] else source)[m.end():m.end() + 30]
            n = _NUMBER_AFTER_SESSION.match(tail) or _DELEGATION_NUMBER.match(tail)
            return session, n.group(1) if n else None, m.end()
    return None, None, -1


def with_di(number: str | None, text: str) -> str | None:
    """`27号` is written `第27号` elsewhere in the letter: prefer the complete form."""
    if number and not number.startswith("第") and f"第{number}" in _compact(text):
        return f"第{number}"
    return number


def extract_number(lines: list[str], title: str | None) -> str | None:
    value = field_value(lines, _VOCAB["number.record_keys"])
    if value:
        m = re.match(r"第?[A-Za-z]{0,4}\d+(?:-\d+)?(?:号|號)?", value)
        if m:
            return m.group(0)
    for source in (title or "", "\n".join(lines[:16])):
        m = _NUMBER_ANY.search(source)
        if m:
            return m.group(1)
    return None


def extract_channel(session: str | None, title: str | None, addressee: str | None, text: str) -> Channel:
    for source in (session or "", title or ""):
        if re.search(r"政协|政協|政治协商|政治協商", source):
            return "CPPCC"
        if re.search(r"人大|人民代表大会|人民代表大會|全国人大", source):
            return "NPC"
    if addressee:
        if re.search(r"委员|委員", addressee):
            return "CPPCC"
        if re.search(r"代表", addressee):
            return "NPC"
    head = (title or "") + text[:400]
    if re.search(r"政协|政協|提案", head):
        return "CPPCC"
    if re.search(r"人大|代表建议|代表建議|议案|議案|建议|建議", head):
        return "NPC"
    return "other"


def _header_and_footer_lines(lines: list[str], closing_from: int, salutation: int | None) -> list[str]:
    head_end = salutation if salutation is not None else min(first_paragraph(lines), 8)
    return lines[:head_end] + lines[closing_from:]


def stated_category(line: str) -> str | None:
    """The category (A, B or C) a line states (`湘交建议复〔2017〕98号 A类`, `办理结果：（C）`)."""
    m = _CATEGORY.search(_compact(line))
    return (m.group("c") or m.group("d")) if m else None


def extract_category(lines: list[str], closing_from: int, salutation: int | None) -> str | None:
    for line in _header_and_footer_lines(lines, closing_from, salutation):
        category = stated_category(line)
        if category:
            return category
    head_end = salutation if salutation is not None else 0
    for line in lines[:head_end]:
        if _compact(line) in ("A", "B", "C"):
            return _compact(line)
    for i, line in enumerate(lines):
        if _compact(line) in _VOCAB["category.record_keys"] and i + 1 < len(lines):
            nxt = _compact(lines[i + 1]).strip("（）()")
            if nxt in ("A", "B", "C"):
                return nxt
    return None


def extract_disclosure(lines: list[str], fields: dict[str, str]) -> str | None:
    for line in lines:
        m = _DISCLOSURE.search(_compact(line))
        if m:
            return m.group("v") or m.group("w")
    return fields.get("公开类型") or fields.get("公开方式")


def extract_contact(lines: list[str], closing_from: int) -> str | None:
    found = [_compact(line).strip("（）()") for line in lines[closing_from:] if _CONTACT.match(_compact(line))]
    return "；".join(found) if found else None


def extract_doc_number(lines: list[str], fields: dict[str, str], salutation: int | None) -> str | None:
    """The reply's own document number (`粤卫案函〔2020〕208号`) in the lines above the salutation,
    else a record's `建议字：〔2023〕8号`, else the page's `文号`; never its field name."""
    head = lines[: salutation if salutation is not None else 6]
    for line in head:
        m = DOC_NUMBER.search(_DOC_KEY.sub("", _compact(line)))
        if m:
            return tidy_doc_number(m.group(0))
    record = field_value(head, _VOCAB["doc_number.record_keys"])
    if record and (m := _BARE_DOC_NUMBER.match(record)):
        return m.group(0)
    for key in _VOCAB["doc_number.page_keys"]:
        value = _compact(fields.get(key, ""))
        if value and re.search(r"\d", value):
            m = DOC_NUMBER.search(value)
            return tidy_doc_number(m.group(0) if m else value)
    return None


def tidy_doc_number(value: str) -> str:
    """The number itself: a page's `文号` label glued in front (`文号永农函〔2024〕66号`) and an empty
    bracket pair left by its table (`〔〕恰水建字〔2023〕2号`) are not part of it."""
    labels = "|".join(re.escape(k) for k in sorted(_VOCAB["doc_number.page_keys"], key=len, reverse=True))
    value = re.sub(f"^(?:{labels})[:：]?", "", _compact(value))
    return re.sub(r"^[〔\[(（][〕\])）]", "", value) or value
