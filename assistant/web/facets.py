"""The dropdowns both tabs narrow by (答复单位, 年份, 渠道, the letters themselves), and what
their values mean.

`ALL` is the value of every 全部/不限 entry. The chat's filters become `retrieve.Filters`
(what the search is allowed to see), shown as chips by the question box (`describe_scope`); the
browse tab's narrow its list (`search`). Both come from the index as it is now, so they are
rebuilt after every import.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from assistant.ask.retrieve import Filters
from index.storage.records import LetterRecord

CHANNEL_ZH = {"NPC": "人大建议", "CPPCC": "政协提案", "other": "其他"}
ALL = "__all__"
CHANNEL_CHOICES = [("全部", ALL), *((name, code) for code, name in CHANNEL_ZH.items())]

Choices = list[tuple[str, str]]


CHOICES_LIMIT = 300
"""At most this many issuers or letters in a dropdown, as the browse list shows at most 300
rows. A dropdown's choices are in the page's config, which every visitor downloads and gradio
copies for each page load: with all of them it was 9 MB at 28 k letters (a second of the start
at 100 k chunks), and a dropdown of thousands of titles is not something anyone picks from.
Other issuers are typed (part of a name); other letters are asked about from 信件浏览."""


def facet_choices(records: Sequence[LetterRecord], *, keep_letters: Sequence[str] = (),
                  limit: int = CHOICES_LIMIT) -> dict[str, Choices]:
    """Dropdown choices from what is indexed: issuers by name (the `limit` with most letters),
    years newest first, and the `limit` newest letters (for 只在这些答复中检索) with the letters of
    `keep_letters` after them, so that a letter already chosen stays a valid choice."""
    counts = Counter(r.issuer for r in records if r.issuer)
    issuers = sorted(sorted(counts, key=lambda i: (-counts[i], i))[:limit])
    years = sorted({r.year for r in records if r.year > 0}, reverse=True)
    newest = sorted(records, key=lambda r: r.date or "", reverse=True)
    shown = newest[:limit]
    listed = {r.id for r in shown}
    kept = set(keep_letters) - listed
    shown += [r for r in newest[limit:] if r.id in kept]
    return {
        "issuer": [("全部单位", ALL)] + [(i, i) for i in issuers],
        "year": [("不限", ALL)] + [(str(y), str(y)) for y in years],
        "letters": [(f"{r.title}（{r.date or '日期不详'}）", r.id) for r in shown],
    }


def letters_info(records: Sequence[LetterRecord], limit: int = CHOICES_LIMIT) -> str | None:
    """The note under 只在这些答复中检索 when it does not list every letter."""
    return f"列出最近的 {limit} 封；其他答复请在“信件浏览”中打开后点“就这封答复提问”" if len(records) > limit else None


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


SCOPE_KEYS = ("letters", "issuer", "years", "channel")


def describe_scope(filters: Filters, titles: Mapping[str, str]) -> list[tuple[str, str]]:
    """The active parts of a chat's scope, as (key, words for a chip): what the next question
    will be searched in. `titles` names the letters of 只在这些答复中检索."""
    parts: list[tuple[str, str]] = []
    if filters.letters:
        names = [f"《{titles.get(i, i)}》" for i in filters.letters]
        parts.append(("letters", names[0] if len(names) == 1 else f"{names[0]}等 {len(names)} 封答复"))
    if filters.issuer:
        parts.append(("issuer", f"答复单位含“{filters.issuer}”"))
    if filters.year_from or filters.year_to:
        lo, hi = filters.year_from, filters.year_to
        years = f"{lo}年" if lo == hi else f"{lo}年起" if not hi else f"至{hi}年" if not lo else f"{lo}—{hi}年"
        parts.append(("years", years))
    if filters.channel:
        parts.append(("channel", CHANNEL_ZH.get(filters.channel, filters.channel)))
    return parts


def scope_words(filters: Filters, titles: Mapping[str, str]) -> str:
    """The scope in one phrase (for a 未找到 that happened under it): `答复单位含“交通”、2024年起`."""
    return "、".join(label for _, label in describe_scope(filters, titles))
