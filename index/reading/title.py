"""The letter's title, found by structure: the first heading-like lines after the page chrome.

A heading may be wrapped over several lines (`…会议` / `第15号建议的` / `答    复`), stand under
its unit's line (joined in front of it), carry a page's field name (`- 名称：`, `信息名称：`) or
category label (`【人大建议】`), or end with its document number in brackets. Record pages state
the reply's title (or only the suggestion's) in fields, and the page's metadata and HTML title
are the last resort. Spam and navigation are never a title.
"""

from __future__ import annotations

import re
from pathlib import Path

from index.reading.clean import CJK, RECORD_KEYS, is_site_name, is_spam, is_title_like
from index.reading.dates import DATE_PATTERN
from index.reading.fields import DOC_NUMBER, field_value
from index.reading.issuer import UNIT_FULL
from index.vocab import alternation, load_vocabulary

# The title words and key lists are in fields.toml (`[title]`).
_VOCAB = load_vocabulary(Path(__file__).with_name("fields.toml"))

# A title may end with a note in brackets (`（B）`, `（水利局）`) or its document number
# (`…的答复[浙交建〔2018〕101号]`).
_REPLY_END = re.compile(
    f"(?:{alternation(_VOCAB['title.reply_endings'])})"
    r"(?:[（(][^（）()]{1,20}[）)]|[\[［【][^\[\]［］【】]{1,24}[\]］】])?$"
)
# `- 名称：`, `信息名称：`, `标题：` in front of a heading copied from the page's table.
_TITLE_PREFIX = re.compile(
    r"^(?:[-*•·]\s*)?(?:" + alternation(_VOCAB["title.field_prefixes"]) + r")\s*[:：]\s*"
)
# A page's category label in front of the heading (`【人大建议】关于…`).
_LABEL = re.compile(r"^【[^【】]{1,10}】(?=\S{6})")
# A document number standing in brackets at the end of a title.
_BRACKETED_DOC_NUMBER = re.compile(r"[\[［【][^\[\]［］【】]{1,24}[\]］】]$")
_TITLE_START = re.compile(r"^(?:关于|關於|關于|对|對|[（(]\d{4}年[）)])")
_TITLE_TAIL = re.compile(
    r"^(?:第?[^，。；：]{0,24}?(?:号|號))?(?:[^，。；：]{0,12}?)"
    r"(?:答复|答覆|答復|复函|復函|答复函|答復函|的函|意见|意見|回复|回覆)"
)
_FIELD_LINE = re.compile(f"^[{CJK}]{{2,8}}[:：]")


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _title_candidates(header: list[str], breaks: set[int]) -> list[str]:
    """Titles in the heading lines, with a split title (or an issuer line above it) joined."""
    found: list[str] = []
    header = [_LABEL.sub("", _TITLE_PREFIX.sub("", _compact(line))) for line in header]
    i = 0
    while i < len(header):
        line = header[i]
        starts = (_TITLE_START.match(line) or is_title_like(line)) and not (
            line.startswith((*RECORD_KEYS, "【"))
            or _FIELD_LINE.match(line)
            or DOC_NUMBER.search(_BRACKETED_DOC_NUMBER.sub("", line))
            or re.search("[。，|｜>»]", line)
            or len(line) > 90
        )
        if (
            UNIT_FULL.fullmatch(line)
            and not is_site_name(line)
            and i + 1 < len(header)
            and i + 1 not in breaks
            and _TITLE_START.match(header[i + 1])
        ):
            line = line + header[i + 1]
            i += 1
            starts = True
        if not starts or is_spam(line) or len(line) < 6:
            i += 1
            continue
        if not _REPLY_END.search(line) and (wrapped := _wrapped_title(header, i, line, breaks)):
            line, i = wrapped
        while not _REPLY_END.search(line) and i + 1 < len(header):
            nxt = header[i + 1]
            if _TITLE_TAIL.match(nxt) and len(nxt) <= 16 and not _TITLE_START.match(nxt):
                line += nxt
                i += 1
            else:
                break
        found.append(line)
        i += 1
    return found


def _wrapped_title(header: list[str], i: int, line: str, breaks: set[int]) -> tuple[str, int] | None:
    """A heading wrapped over up to three more lines (`…会议` / `第15号建议的` / `答复`): the
    pieces follow without page chrome between them, none reads as a sentence, a field, a date or a
    new heading, and together they end the way a reply's title ends."""
    joined = line
    for j in range(i + 1, min(i + 4, len(header))):
        piece = header[j]
        if (
            j in breaks
            or not piece
            or len(piece) > 30
            or _TITLE_START.match(piece)
            or re.search("[。，；：:]", piece)
            or DOC_NUMBER.search(piece)
            or piece.startswith(RECORD_KEYS)
            or DATE_PATTERN.search(piece)
            or UNIT_FULL.fullmatch(piece)
        ):
            return None
        joined += piece
        if _REPLY_END.search(joined):
            return (joined, j) if len(joined) <= 100 else None
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
    record_reply = field_value(lines, _VOCAB["title.reply_keys"])
    summary = field_value(lines, _VOCAB["title.summary_keys"])
    suggestion = (
        field_value(lines, _VOCAB["title.suggestion_keys"])
        or fields.get("标题") if not reply else None
    )
    if suggestion:
        suggestion = _quoted_title(suggestion) or suggestion
    title: str | None = None
    if record_reply:
        title = record_reply
    elif reply:
        title = max(reply, key=lambda c: (_names_a_letter(c), len(c)))
    elif summary and _quoted_title(summary):
        title = _quoted_title(summary)
    else:
        for key in _VOCAB["title.page_keys"]:
            value = fields.get(key)
            if value and _REPLY_END.search(value):
                title = value
                break
        else:
            title = _page_title(fields.get("页面标题", ""))
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


def _names_a_letter(candidate: str) -> bool:
    """A reply's title says which suggestion it answers (`关于…`, `对…`, a number, a session); a
    section label that merely ends the same way (`人大代表建议和政协委员提案答复`) does not."""
    return bool(re.search(r"关于|關於|關于|对|對|[号號]|[届屆]", candidate))


def _page_title(value: str) -> str | None:
    """The HTML page's own title (`关于…的答复_某某县人民政府`) without the site's name, when the
    letter's text carries no heading."""
    for part in re.split(r"\s*(?:_|\||｜|--|——| - )\s*", value.strip()):
        if _REPLY_END.search(part) and (_TITLE_START.match(part) or is_title_like(part)):
            return _compact(part)
    return None
