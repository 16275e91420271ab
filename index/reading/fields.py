"""The fields of a letter, each looked for where letters actually put it, most reliable place first.

The title in the heading lines (joined when split over two lines), the issuer in the signature,
the date next to the signature, then the same facts in the page's own metadata as a fallback.
Every extractor reads the cleaned lines (and the harvested page fields); `index.reading.letter`
decides where the header, salutation and closing are and calls them in turn.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from index.reading.clean import CJK, RECORD_KEYS, is_spam, is_title_like
from index.reading.dates import DATE_PATTERN, parse_date
from index.reading.units import UNIT_SUFFIXES
from index.vocab import alternation, load_vocabulary

Channel = Literal["NPC", "CPPCC", "other"]

# The key lists and title words (and what each one means) are in fields.toml.
_VOCAB = load_vocabulary(Path(__file__).with_name("fields.toml"))

_UNIT_FULL = re.compile(f"[{CJK}（）()·]{{2,40}}{UNIT_SUFFIXES}")
_REPLY_END = re.compile(f"(?:{alternation(_VOCAB['title.reply_endings'])})" r"(?:[（(][^（）()]{1,20}[）)])?$")
_TITLE_START = re.compile(r"^(?:关于|關於|關于|对|對|[（(]\d{4}年[）)])")
_TITLE_TAIL = re.compile(
    r"^(?:第?[^，。；：]{0,24}?(?:号|號))?(?:[^，。；：]{0,12}?)"
    r"(?:答复|答覆|答復|复函|復函|答复函|答復函|的函|意见|意見)"
)
_FIELD_LINE = re.compile(f"^[{CJK}]{{2,8}}[:：]")
_SEVERAL_UNITS = re.compile(f"{UNIT_SUFFIXES}(?:市|县|縣|区|區|省)[{CJK}]{{2,}}{UNIT_SUFFIXES}$")
_GENERIC_SOURCES = re.compile(r"办公室|辦公室|政府办|政府辦|系统管理员|网$|網$|^本站|^区政府$|^县政府$|^市政府$")
_SALUTATION = re.compile(
    r"^(?:尊敬的)?(?P<who>[^，。；：:！？]{1,80}?)(?:您好|你好)?[:：]$"
)
_PERSON_ROLE = re.compile(r"(?:代表|委员|委員|代表們|代表们|委员们|委員們|同志|先生|女士)$")
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
_DOC_NUMBER = re.compile(f"[{CJK}]{{1,12}}(?:[〔\\[(（]\\d{{4}}[〕\\])）])[{CJK}]?\\d+[号號]")


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
            re.search(r"(?:代表|委员|委員|同志|先生|女士)(?:们|們)?(?:并附议人|並附議人|等)?$", who)
            or re.fullmatch(f"[{CJK}（）()·]{{1,40}}{UNIT_SUFFIXES}", who)
        ):
            return i
        if len(compact) <= 60 and re.fullmatch(
            rf"(?:尊敬的)?[{CJK}、·]{{1,50}}(?:代表|委员|委員|代表們|代表们|委员们)", compact
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


def _title_candidates(header: list[str], breaks: set[int]) -> list[str]:
    """Titles in the heading lines, with a split title (or an issuer line above it) joined."""
    found: list[str] = []
    i = 0
    while i < len(header):
        line = _compact(header[i])
        starts = (_TITLE_START.match(line) or is_title_like(line)) and not (
            line.startswith((*RECORD_KEYS, "【"))
            or _FIELD_LINE.match(line)
            or _DOC_NUMBER.search(line)
            or re.search("[。，]", line)
            or len(line) > 90
        )
        if (
            _UNIT_FULL.fullmatch(line)
            and i + 1 < len(header)
            and i + 1 not in breaks
            and _TITLE_START.match(_compact(header[i + 1]))
        ):
            line = line + _compact(header[i + 1])
            i += 1
            starts = True
        if not starts or is_spam(line) or len(line) < 6:
            i += 1
            continue
        while not _REPLY_END.search(line) and i + 1 < len(header):
            nxt = _compact(header[i + 1])
            if _TITLE_TAIL.match(nxt) and len(nxt) <= 16 and not _TITLE_START.match(nxt):
                line += nxt
                i += 1
            else:
                break
        found.append(line)
        i += 1
    return found


def _field_value(lines: list[str], keys: tuple[str, ...]) -> str | None:
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


def _quoted_title(text: str) -> str | None:
    m = re.search(r"《([^《》]{4,80})》", text)
    return m.group(1) if m else None


def extract_title(
    header: list[str], lines: list[str], fields: dict[str, str], breaks: set[int]
) -> tuple[str | None, str | None]:
    """(reply title, suggestion title)."""
    candidates = _title_candidates(header, breaks)
    reply = [c for c in candidates if _REPLY_END.search(c)]
    record_reply = _field_value(lines, _VOCAB["title.reply_keys"])
    summary = _field_value(lines, _VOCAB["title.summary_keys"])
    suggestion = (
        _field_value(lines, _VOCAB["title.suggestion_keys"])
        or fields.get("标题") if not reply else None
    )
    if suggestion:
        suggestion = _quoted_title(suggestion) or suggestion
    title: str | None = None
    if record_reply:
        title = record_reply
    elif reply:
        title = max(reply, key=len)
    elif summary and _quoted_title(summary):
        title = _quoted_title(summary)
    else:
        for key in _VOCAB["title.page_keys"]:
            value = fields.get(key)
            if value and _REPLY_END.search(value):
                title = value
                break
    if title is None:
        suggestion_lines = [c for c in candidates if re.search(r"建议|建議|提案|议案|議案", c)]
        attached = next(
            (m.group(1) for line in lines if (m := re.search(r"标题[:：](.{4,80})$", _compact(line)))),
            None,
        )
        title = suggestion_lines[0] if suggestion_lines else suggestion or attached
    opening = "\n".join(lines[:12])
    quoted = re.search(r"(?:提出的?|提交的?)[^《“\n]{0,10}[《“]([^《》“”\n]{4,80})[》”]", opening)
    bare = re.search(r"提出(?:的)?(关于[^，。；\n《》“”]{4,60}?的(?:建议|提案|意见|议案))", opening)
    suggestion_title = suggestion or (quoted.group(1) if quoted else bare.group(1) if bare else None)
    return title, suggestion_title


def extract_issuer(title: str | None, header: list[str], lines: list[str], closing_from: int,
                   fields: dict[str, str]) -> str | None:
    for line in reversed(lines[closing_from:]):
        compact = _compact(line)
        if " " in line.strip() or "：" in compact or ":" in compact:
            continue
        m = re.match(rf"^({_UNIT_FULL.pattern})(?:{DATE_PATTERN.pattern})?$", compact)
        if m and not _PERSON_ROLE.search(m.group(1)) and not _SEVERAL_UNITS.search(m.group(1)):
            return m.group(1)
    for line in reversed(lines[closing_from:]):
        m = re.search(rf"(?:^|\s)({_UNIT_FULL.pattern})\s*(?:{DATE_PATTERN.pattern}|\d{{4}}年)$", line)
        if m and not _SEVERAL_UNITS.search(m.group(1)):
            return m.group(1)
    if title:
        m = re.match(rf"^([{CJK}（）()·]{{2,40}}?{UNIT_SUFFIXES})(?:关于|關於|關于|对|對)", title)
        if m:
            return m.group(1)
    for line in header:
        compact = _compact(line)
        if _UNIT_FULL.fullmatch(compact) and not _PERSON_ROLE.search(compact):
            return compact
    for key in _VOCAB["issuer.record_keys"]:
        value = _field_value(lines[closing_from:], (key,)) or _field_value(lines, (key,))
        if value and "、" not in value and _UNIT_FULL.fullmatch(value):
            return value
    for key in _VOCAB["issuer.page_keys"]:
        value = _compact(fields.get(key, ""))
        if value and not _GENERIC_SOURCES.search(value) and not re.search(r"\d", value) and (
            _UNIT_FULL.fullmatch(value) or value.endswith(("局", "厅", "委"))
        ):
            return value
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
        value = _field_value(lines, (key,)) or fields.get(key)
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
        who = re.sub(r"^尊敬的", "", who)
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
    record = _field_value(lines, _VOCAB["session.record_keys"])
    sources = [s for s in (record, title, "\n".join(lines[:14])) if s]
    for source in sources:
        for m in SESSION_RE.finditer(_compact(source) if source is not sources[-1] else source):
            session = _SESSION_TRIM.sub("", m.group(0))
            session = re.sub(r"^(?:人大代表|代表|委员|委員)", "", session)
            if len(session) < 5:
                continue
            tail = (_compact(source) if source is not sources[-1] else source)[m.end():m.end() + 30]
            n = _NUMBER_AFTER_SESSION.match(tail)
            return session, n.group(1) if n else None, m.end()
    return None, None, -1


def with_di(number: str | None, text: str) -> str | None:
    """`27号` is written `第27号` elsewhere in the letter: prefer the complete form."""
    if number and not number.startswith("第") and f"第{number}" in _compact(text):
        return f"第{number}"
    return number


def extract_number(lines: list[str], title: str | None) -> str | None:
    value = _field_value(lines, _VOCAB["number.record_keys"])
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


def extract_category(lines: list[str], closing_from: int, salutation: int | None) -> str | None:
    for line in _header_and_footer_lines(lines, closing_from, salutation):
        compact = _compact(line)
        m = _CATEGORY.search(compact)
        if m:
            return m.group("c") or m.group("d")
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
    head = lines[: salutation if salutation is not None else 6]
    for line in head:
        m = _DOC_NUMBER.search(_compact(line))
        if m:
            return tidy_doc_number(m.group(0))
    for key in _VOCAB["doc_number.page_keys"]:
        value = fields.get(key)
        if value and re.search(r"\d", value):
            return tidy_doc_number(value)
    return None


def tidy_doc_number(value: str) -> str:
    """The number itself: a page's `文号` label glued in front (`文号永农函〔2024〕66号`) and an empty
    bracket pair left by its table (`〔〕恰水建字〔2023〕2号`) are not part of it."""
    labels = "|".join(re.escape(k) for k in sorted(_VOCAB["doc_number.page_keys"], key=len, reverse=True))
    value = re.sub(f"^(?:{labels})[:：]?", "", _compact(value))
    return re.sub(r"^[〔\[(（][〕\])）]", "", value) or value

