"""A unit's short name in a question written out as the index's issuers spell it: 卫健局 →
卫生健康局, 住建局 → 住房和城乡建设局, 教体局 → 教育体育局.

Staff name units the way they say them, and a short name shares no word with the full one, so
neither the keyword search nor the letter a question names (`letter_fields`, the anchors of the
answer model) sees it. No list of short names is kept: a short name is a few characters ending
in a unit's last character (局, 委, 厅, …) that stand, in order and with the same first and last
character, in one issuer's name, and in no name as written. The full form is the shortest stretch
of that name holding them; when the issuers disagree on it (two different units), nothing is
changed.
"""

from __future__ import annotations

import re

UNIT_ENDS = "局委厅办院部处所站会队社"
"""Last characters of a unit's name (卫生健康局, 发展和改革委员会 → 发改委, 教育体育局)."""
SHORT_MIN, SHORT_MAX = 3, 5
"""Characters of a short name: two are too often a word of their own (健局 is none, 政协 is one);
five for 市场监管局."""
UNIT_STARTS = "省市县区州旗盟镇乡家"
"""What a unit's name follows in an issuer's: its place (临江县, 国家). A short name must start
there, so that the place a question puts before it (涵江住建局) is never taken for the end of
another (临江县住房和城乡建设局)."""
STRETCH_MAX = 4
"""At most this many characters left out between two kept ones (住建局: 住[房和城乡]建[设]局)."""

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def spell_out(question: str, names: str) -> str:
    """The question with each short unit name it uses written out (see the module's docstring);
    `names` holds the issuers' names one a line (`Snapshot.issuer_names`)."""
    if not names:
        return question
    replacements: dict[str, str] = {}
    for run in _CJK_RUN.findall(question):
        for end in range(len(run)):
            if run[end] not in UNIT_ENDS:
                continue
            for size in range(SHORT_MAX, SHORT_MIN - 1, -1):  # the longest short name first
                start = end + 1 - size
                if start < 0:
                    continue
                short = run[start:end + 1]
                full = _full_form(short, names)
                if full is not None:
                    replacements[short] = full
                    break
    for short, full in sorted(replacements.items(), key=lambda pair: -len(pair[0])):
        question = question.replace(short, full)
    return question


def _full_form(short: str, names: str) -> str | None:
    if short in names:
        return None  # written as the issuers write it
    gap = f"[\u4e00-\u9fff]{{0,{STRETCH_MAX}}}?"
    start = f"(?:^|(?<=[{UNIT_STARTS}]))"
    forms = set(re.findall(start + gap.join(map(re.escape, short)), names, flags=re.MULTILINE))
    return forms.pop() if len(forms) == 1 else None
