"""The page's metadata table (索引号 | 发布机构 | 发布日期 | …): which lines belong to it, and the
values it gives.

The cleaner drops these lines from the letter's text but keeps what they say: `名称`, `发布机构`,
`发布日期`, `文号` and friends are fallbacks for the letter's own fields, and the lines that say
them (`tidy_page_line`) are kept after the letter, where an answer about those fields can quote
them. Tables come as `key：value` pairs (several to a line, or the value on the next line),
behind list bullets, and as rows of keys and values without colons.
"""

from __future__ import annotations

import re
from pathlib import Path

from index.vocab import load_vocabulary

_VOCAB = load_vocabulary(Path(__file__).with_name("page_meta.toml"))
_PAGE_KEYS = _VOCAB["keys"]
_CITABLE_KEYS = frozenset(_VOCAB["citable"])
# Any key, spaces inside allowed, longest first.
_ANY_KEY = "|".join(sorted(("\\s*".join(map(re.escape, k)) for k in _PAGE_KEYS), key=len, reverse=True))
_PAGE_KEY_RE = re.compile("(" + _ANY_KEY + r")\s*[:：|]")
# In harvesting, long keys and keys written with spaces inside (`名 称`) need no colon.
_HARVEST_KEY_RE = re.compile(
    "|".join(
        sorted(
            [f"({re.escape(k)})\\s*[:：|]?" for k in _PAGE_KEYS if len(k) >= 4]
            + [f"({' +'.join(map(re.escape, k))})\\s*[:：|]?" for k in _PAGE_KEYS if len(k) in (2, 3)]
            + [f"({re.escape(k)})\\s*[:：|]" for k in _PAGE_KEYS if len(k) < 4],
            key=len,
            reverse=True,
        )
    )
)
_LONG_KEYS = [k for k in _PAGE_KEYS if len(k) >= 4]
_PAGE_KEY_BARE = re.compile(
    "^(" + "|".join(map(re.escape, sorted(_LONG_KEYS, key=len, reverse=True))) + "|"
    + "|".join(" ".join(map(re.escape, k)) for k in _PAGE_KEYS if len(k) in (2, 3)) + ")"
)
# A table row written without colons (`索引号 640323004/2022-00062 发文时间 2021-10-22`): a key,
# a space, its value, and further keys with theirs.
_PAGE_ROW_START = re.compile("^(?:" + _ANY_KEY + r")\s")
_PAGE_KEY_ANY = re.compile("|".join(map(re.escape, _PAGE_KEYS)))
_SENTENCE = re.compile(r"[，。；！？]")
_WEB_ADDRESS = re.compile(r"[A-Za-z0-9-]+\.[A-Za-z]{2,}")
# A list bullet in front of a metadata line (`- 索引号：…`).
_LIST_MARK = re.compile(r"^[-*]\s*")
_PAGE_LINE_START = re.compile(
    r"^(?:\d{4}[-年./]\d{1,2}[-月./]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*)?"
    + _PAGE_KEY_RE.pattern
)


# `[ 索引号 ] | 1150…/2025-00185 | [ 发文字号 ] | …`: keys in brackets, cells between bars.
_BRACKETED_KEY = re.compile(r"[\[【［]\s*(" + _ANY_KEY + r")\s*[\]】］]\s*\|?\s*")


def unbracket_keys(line: str) -> str:
    """`[ 成文日期 ] | 2025-05-13 |` → `成文日期：2025-05-13 |`: a table that writes its keys in
    brackets reads like any other `key：value` row. Only page keys are unbracketed."""
    return _BRACKETED_KEY.sub(lambda m: re.sub(r"\s", "", m.group(1)) + "：", line)


def is_page_meta(line: str) -> bool:
    """A line of the table: it starts with a key and its colon (a date may come first), or with a
    long key, or is a row of keys without colons, or holds two `key：` pairs. Long lines are
    prose, whatever they start with."""
    if len(line) > 160:
        return False
    line = _LIST_MARK.sub("", line)
    if _PAGE_LINE_START.match(line) or _PAGE_KEY_BARE.match(line) or _is_page_row(line):
        return True
    return len(_PAGE_KEY_RE.findall(line)) >= 2


def _is_page_row(line: str) -> bool:
    """Keys and values without colons: the line starts with a key and a space, names another key
    further on, and holds no sentence (a value may list items with 、)."""
    start = _PAGE_ROW_START.match(line)
    return bool(start and not _SENTENCE.search(line) and _PAGE_KEY_ANY.search(line, start.end()))


def page_pairs(line: str) -> list[tuple[str, str]]:
    """The (key, value) pairs of a metadata line, in order; a value ends where the next field
    starts, even one that is not a known key (`作者：`), and may be empty."""
    matches = list(_HARVEST_KEY_RE.finditer(line))
    pairs = []
    for i, m in enumerate(matches):
        key = re.sub(r"\s", "", next(g for g in m.groups() if g))
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        value = re.split(r"【|\s{2,}|字体|字號|打印|浏览|\s[^\s:：]{1,6}[:：]", line[m.end():end])[0]
        pairs.append((key, value.strip(" |:：\u3000")))
    return pairs


def _citable_pairs(line: str) -> list[tuple[str, str]]:
    return [(key, value) for key, value in page_pairs(line)
            if key in _CITABLE_KEYS and value and not _WEB_ADDRESS.search(value)]


def tidy_page_line(line: str) -> str:
    """A metadata line as it is kept after the letter: the fields it gives that say something
    about the letter (its publisher, number, dates or name) with their values, as `key：value`
    cells (`名 称：| 关于…` → `名称：关于…`); counters, editors, empty cells and web addresses (a
    mirror's `来源：m.example.cn`) left out — "" when nothing is left. The line is our rendering
    of the page's table; what it says is unchanged."""
    return "　".join(f"{key}：{value}" for key, value in _citable_pairs(line))


def harvest_page_meta(line: str, fields: dict[str, str]) -> str | None:
    """Collect `key: value` pairs from a page-metadata line (several may be glued together).

    Returns the key whose value is missing (a table that puts the value on the next line).
    """
    missing = None
    for key, value in page_pairs(line):
        if value and key not in fields:
            fields[key] = value
        missing = None if value else key
    any_date = re.search(r"\d{4}[-年./]\d{1,2}[-月./]\d{1,2}日?", line)
    if any_date and "页面日期" not in fields:
        fields["页面日期"] = any_date.group(0)
    return missing
