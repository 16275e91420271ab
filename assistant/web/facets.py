"""The dropdowns both tabs narrow by (答复单位, 年份, 渠道, the letters themselves), and what
their values mean.

`ALL` is the value of every 全部/不限 entry. The chat's filters become `retrieve.Filters`
(what the search is allowed to see); the browse tab's become a filter over the letter records
(what the list shows). Both come from the index as it is now, so they are rebuilt after every
import.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.ask.retrieve import Filters
from assistant.web.render import CHANNEL_ZH
from index.storage.records import LetterRecord

ALL = "__all__"
CHANNEL_CHOICES = [("全部", ALL), *((name, code) for code, name in CHANNEL_ZH.items())]

Choices = list[tuple[str, str]]


def facet_choices(records: Sequence[LetterRecord]) -> dict[str, Choices]:
    """Dropdown choices from what is indexed: issuers by name, years newest first, and the
    letters newest first (for 只在这些答复中检索)."""
    issuers = sorted({r.issuer for r in records if r.issuer})
    years = sorted({r.year for r in records if r.year > 0}, reverse=True)
    return {
        "issuer": [("全部单位", ALL)] + [(i, i) for i in issuers],
        "year": [("不限", ALL)] + [(str(y), str(y)) for y in years],
        "letters": [(f"{r.title}（{r.date or '日期不详'}）", r.id)
                    for r in sorted(records, key=lambda r: r.date or "", reverse=True)],
    }


def make_filters(
    issuer: str | None, year_from: str | None, year_to: str | None, channel: str | None,
    letters: Sequence[str] | None = None,
) -> Filters:
    """The chat's filters as the search takes them. The issuer may be typed (part of a name),
    and a range given backwards is meant the right way round."""

    def year(value: str | None) -> int | None:
        return int(value) if value and value != ALL and str(value).isdigit() else None

    lo, hi = year(year_from), year(year_to)
    if lo and hi and lo > hi:
        lo, hi = hi, lo
    return Filters(
        letters=tuple(letters or ()),
        issuer=issuer.strip() if issuer and issuer != ALL and issuer.strip() else None,
        year_from=lo, year_to=hi,
        channel=channel if channel and channel != ALL else None,
    )


def match_letters(
    records: Sequence[LetterRecord], text: str | None, issuer: str | None, year: str | None, channel: str | None
) -> list[LetterRecord]:
    """The browse tab's list: every word of `text` in the title, id or issuer, and the chosen
    facets; newest first."""
    words = (text or "").split()
    out = []
    for r in records:
        hay = f"{r.title} {r.id} {r.issuer}"
        if any(w not in hay for w in words):
            continue
        if issuer and issuer != ALL and issuer.strip() not in r.issuer:
            continue
        if year and year != ALL and str(r.year) != str(year):
            continue
        if channel and channel != ALL and r.channel != channel:
            continue
        out.append(r)
    return sorted(out, key=lambda r: (r.date or "", r.id), reverse=True)
