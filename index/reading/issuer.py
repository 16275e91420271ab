"""Who answered: the unit that signs the letter, read from the letter's own structure first.

A reply names its unit in a few fixed places: the signature block at the end, the letterhead
above the title (`潼关县民政局文件`, or the unit on its own line directly over `关于…`), and the
head of the title itself (`…局关于…的答复`, or a `（水利局）` suffix). Only when none of them
does is a page field (`发布机构`, `来源`) taken, and never a line of page chrome: a site's
banner (`某某县人民政府` above the menus) sits where a letterhead would, but page chrome separates
it from the title.

A signature that gives only the bare unit (`水利局`) is completed with the place the letter
itself names for the unit's level (`我县…`, `杭埠河是舒城县的母亲河` → `舒城县水利局`); see
`complete_place`.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from index.reading.clean import CJK, is_site_name
from index.reading.dates import DATE_PATTERN
from index.reading.units import LETTERHEAD_WORDS, UNIT_SUFFIXES
from index.vocab import alternation, load_vocabulary, table

_VOCAB = load_vocabulary(Path(__file__).with_name("fields.toml"))

UNIT_FULL = re.compile(f"[{CJK}（）()·]{{2,40}}{UNIT_SUFFIXES}")
_PERSON_ROLE = re.compile(r"(?:代表|委员|委員|代表們|代表们|委员们|委員們|同志|先生|女士)$")
_SEVERAL_UNITS = re.compile(f"{UNIT_SUFFIXES}(?:市|县|縣|区|區|省)[{CJK}]{{2,}}{UNIT_SUFFIXES}$")
_GENERIC_SOURCES = re.compile(r"办公室|辦公室|政府办|政府辦|系统管理员|网$|網$|^本站|^区政府$|^县政府$|^市政府$")
# `某某局（盖章）`: the seal's note after a signature.
_SEAL = re.compile(f"[（(](?:{alternation(_VOCAB['issuer.seal_notes'])})[）)]$")
# The letterhead's own words after the unit (`潼关县民政局文件`).
_LETTERHEAD = re.compile(f"^({UNIT_FULL.pattern}){LETTERHEAD_WORDS}$")
_TITLE_HEAD = re.compile(f"^([{CJK}（）()·]{{2,40}}?{UNIT_SUFFIXES})(?:关于|關於|關于|对|對)")
_TITLE_SUFFIX = re.compile(f"[（(]([{CJK}·]{{2,30}}?{UNIT_SUFFIXES})[）)]$")
_TITLE_START = re.compile(r"^(?:关于|關於|關于|对|對)")
_DOC_NUMBER_LINE = re.compile(r"[〔\[(（【]\d{4}[〕\])）】]")


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def extract_issuer(
    title: str | None,
    header: list[str],
    lines: list[str],
    closing_from: int,
    fields: dict[str, str],
    breaks: set[int] | None = None,
) -> str | None:
    unit = (
        signature_unit(lines, closing_from, len(header))
        or letterhead_unit(header, breaks or set())
        or heading_unit(title)
        or _record_unit(lines, closing_from)
    )
    page = _page_unit(fields)
    if page and not speaks_as(page, "\n".join(lines)):
        page = None
    if not unit:
        return page
    completed = complete_place(unit, "\n".join(lines))
    if completed == unit and page and page.endswith(unit) and is_bare(unit):
        return page
    return completed


def signature_unit(lines: list[str], closing_from: int, body_from: int) -> str | None:
    """The unit of the signature block: a line that is only a unit (perhaps with its date or a
    seal note), else a unit right before the date at the end of a line. A letter whose closing
    was not recognised still ends with its signature, so its last lines after the header are
    read then."""
    start = closing_from if closing_from < len(lines) else len(lines) - 8
    tail = lines[max(body_from, start, 0):]
    for line in reversed(tail):
        compact = _SEAL.sub("", _compact(line))
        if " " in line.strip() or "：" in compact or ":" in compact:
            continue
        m = re.match(rf"^({UNIT_FULL.pattern})(?:{DATE_PATTERN.pattern})?$", compact)
        if m and not _PERSON_ROLE.search(m.group(1)) and not _SEVERAL_UNITS.search(m.group(1)) and (
            not is_site_name(m.group(1))
        ):
            return m.group(1)
    for line in reversed(lines[closing_from:]):
        m = re.search(rf"(?:^|\s)({UNIT_FULL.pattern})\s*(?:{DATE_PATTERN.pattern}|\d{{4}}年)$", line)
        if m and not _SEVERAL_UNITS.search(m.group(1)):
            return m.group(1)
    return None


def letterhead_unit(header: list[str], breaks: set[int]) -> str | None:
    """The unit heading the letter: `…文件`, or a unit line directly above the title or the
    document number. A unit line cut off from what follows by page chrome is a site's banner."""
    for i, line in enumerate(header):
        compact = _compact(line)
        m = _LETTERHEAD.match(compact)
        if m and not _TITLE_START.match(compact):
            return m.group(1)
        if not UNIT_FULL.fullmatch(compact) or _PERSON_ROLE.search(compact) or is_site_name(compact):
            continue
        nxt = _compact(header[i + 1]) if i + 1 < len(header) else ""
        if i + 1 not in breaks and (_TITLE_START.match(nxt) or _DOC_NUMBER_LINE.search(nxt)):
            return compact
    return None


def heading_unit(title: str | None) -> str | None:
    """`某某局关于…的答复`, or the title's `（水利局）` suffix."""
    if not title:
        return None
    m = _TITLE_HEAD.match(title) or _TITLE_SUFFIX.search(_compact(title))
    return m.group(1) if m else None


def _record_unit(lines: list[str], closing_from: int) -> str | None:
    """A record page's own `承办单位：…` field — as written, even when the capture cut its last
    character off (`…住房和城乡建设`) — else the letter's own contact unit (`联系单位：某某局`),
    when it names a whole unit and not one of its offices."""
    # A last line may be cut off by the end of the capture (`承办单位：某某县退役`): only a whole
    # unit name is trusted there.
    last = _compact(lines[-1]) if lines else ""
    for key in _VOCAB["issuer.record_keys"]:
        value = _cell(lines[closing_from:], key) or _cell(lines, key)
        if not value or "、" in value:
            continue
        if UNIT_FULL.fullmatch(value) or (_PLACED_NAME.fullmatch(value) and not last.endswith(value)):
            return value
    for key in _VOCAB["issuer.contact_keys"]:
        value = _cell(lines[closing_from:], key)
        if value and UNIT_FULL.fullmatch(value) and not value.endswith(_VOCAB["issuer.office_endings"]):
            return value
    return None


# A name that starts with its place (`清原满族自治县住房和城乡建设`), for a field that says it is
# the unit even where the unit's ending is lost.
_PLACED_NAME = re.compile(f"[{CJK}]{{2,10}}?(?:省|市|县|縣|区|區|州|旗|盟)[{CJK}]{{2,20}}")


_NEXT_FIELD = re.compile(f"(?:{alternation(_VOCAB['issuer.next_fields'])})")


def _cell(lines: list[str], key: str) -> str | None:
    """The value of `key：value` up to the next space or the next field on the line
    (`…交通运输局联系电话：…`), or the next line when the key stands alone."""
    for i, line in enumerate(lines):
        m = re.match(rf"\s*{re.escape(key)}\s*[:：]?\s*(\S*)", line)
        if not m:
            continue
        if m.group(1):
            nxt = _NEXT_FIELD.search(m.group(1), 1)
            return m.group(1)[: nxt.start()] if nxt else m.group(1)
        if i + 1 < len(lines) and len(lines[i + 1]) <= 80:
            return _compact(lines[i + 1])
    return None


def _page_unit(fields: dict[str, str]) -> str | None:
    for key in _VOCAB["issuer.page_keys"]:
        value = _compact(fields.get(key, ""))
        if not value or _GENERIC_SOURCES.search(value) or is_site_name(value) or re.search(r"\d", value):
            continue
        if UNIT_FULL.fullmatch(value) or value.endswith(("局", "厅", "委")):
            return value
    return None


# `我局` → the unit is a …局: what a letter calls itself, and the endings of units that do.
_SELF_REFERENCE = table(_VOCAB, "self_reference")
_SELF_WORD = re.compile(f"我(?:{alternation(tuple(sorted(_SELF_REFERENCE, key=len, reverse=True)))})")


def speaks_as(unit: str, text: str) -> bool:
    """False when the letter plainly speaks as another kind of unit than `unit` (a page's
    `来源：某某县人民政府` on a letter that says `我局`): the page names its site, not the writer.
    True when the letter does not say what it is."""
    said = Counter(m.group(0)[1:] for m in _SELF_WORD.finditer(text))
    if not said:
        return True
    kind, _ = said.most_common(1)[0]
    return unit.endswith(_SELF_REFERENCE[kind])


# Where the place of a bare unit is looked for: the levels a local unit belongs to, and what
# the letter calls its own (`我县`, `本市`, `全区`).
_LEVELS = _VOCAB["place.levels"]
_LEVEL_CLASS = "".join(_LEVELS)
_SELF = re.compile(f"(?:{alternation(_VOCAB['place.self_words'])})([{_LEVEL_CLASS}])")
_SESSION_LEVEL = re.compile(f"(?:^|[对對于於])([{_LEVEL_CLASS}])(?:政协|政協|人大|第?[一二三四五六七八九十]+[届屆])")
_NOT_LOCAL = re.compile(alternation(_VOCAB["place.not_local"]))
_BOUNDARY = frozenset(_VOCAB["place.boundary_chars"])
_NOT_A_PLACE = tuple(_VOCAB["place.not_places"])
_SAME_LEVEL = {"縣": "县", "區": "区", "鎮": "镇", "鄉": "乡"}


def is_bare(unit: str) -> bool:
    """A local unit named without its place or level (`水利局`, `交通运输局`)."""
    return not (re.search(f"[{_LEVEL_CLASS}]", unit) or _NOT_LOCAL.search(unit) or len(unit) > 12)


def complete_place(unit: str, text: str) -> str:
    """`水利局` → `舒城县水利局` when the unit names no place and the letter names exactly one
    place for the level it speaks as (`我县`, a `县…人大` session). Units that carry a place or a
    level (`省交通运输厅`, `县水利局`) are as the letter names itself and stay."""
    if not is_bare(unit):
        return unit
    level = _own_level(text)
    if level is None:
        return unit
    place = _only_place(text, level)
    return f"{place}{unit}" if place else unit


def _own_level(text: str) -> str | None:
    found = Counter(_SAME_LEVEL.get(m.group(1), m.group(1)) for m in _SELF.finditer(text))
    for line in text.split("\n")[:6]:
        m = _SESSION_LEVEL.search(_compact(line))
        if m:
            found[_SAME_LEVEL.get(m.group(1), m.group(1))] += 1
    return _sole_best(found)


def _only_place(text: str, level: str) -> str | None:
    """The place name written before `level` (either script) that the letter uses most: the
    shortest run of 2–6 characters preceded by punctuation, a line start, a higher level or a
    function word (`是舒城县`, `安徽省舒城县`). None when two places tie."""
    marks = {level} | {k for k, v in _SAME_LEVEL.items() if v == level}
    names: Counter[str] = Counter()
    for m in re.finditer(f"[{''.join(marks)}]", text):
        p = m.start()
        if text[p:p + 2].startswith(_NOT_A_PLACE) or text[max(0, p - 1):p + 1].startswith(_NOT_A_PLACE):
            continue
        for k in range(2, 7):
            name = text[max(0, p - k):p]
            if len(name) < k or not re.fullmatch(f"[{CJK}]+", name):
                break
            if any(c in _BOUNDARY or c in _LEVEL_CLASS for c in name):
                break
            before = text[p - k - 1] if p - k - 1 >= 0 else "\n"
            if before in _BOUNDARY or before in _LEVEL_CLASS or not re.match(f"[{CJK}]", before):
                names[name + text[p]] += 1
                break
    best = _sole_best(Counter({name: text.count(name) for name in names}))
    return best if best and text.count(best) >= 2 else None


def _sole_best(counts: Counter[str]) -> str | None:
    """The most common entry, or None when there is none or two share the top."""
    top = counts.most_common(2)
    if not top or (len(top) == 2 and top[0][1] == top[1][1]):
        return None
    return top[0][0]
