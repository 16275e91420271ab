"""The dropdowns' choices stay a page's worth however large the index grows, and a letter
already chosen stays choosable."""

from __future__ import annotations

from assistant.web.facets import ALL, facet_choices, letters_info
from index.storage.records import LetterRecord


def _record(n: int, issuer: str) -> LetterRecord:
    day = f"2024-{1 + n // 28 % 12:02d}-{1 + n % 28:02d}"
    return LetterRecord(id=f"l{n:04d}", version="v", source=f"/x/{n}.txt", title=f"答复{n}", issuer=issuer,
                        date=f"{2000 + n // 336}{day[4:]}", year=2000 + n // 336)


def test_a_small_index_lists_every_issuer_and_letter_without_a_note() -> None:
    records = [_record(n, f"单位{n % 3}") for n in range(10)]
    choices = facet_choices(records)
    assert [v for _, v in choices["issuer"]] == [ALL, "单位0", "单位1", "单位2"]
    assert len(choices["letters"]) == 10
    assert letters_info(records) is None


def test_a_large_index_lists_the_busiest_issuers_and_the_newest_letters() -> None:
    # 40 issuers: "多k" wrote 5 letters each, the others one each.
    records = [_record(n, f"多{n % 10}") for n in range(50)] + [_record(50 + n, f"少{n:02d}") for n in range(30)]
    choices = facet_choices(records, limit=12)
    issuers = [v for _, v in choices["issuer"]][1:]
    assert issuers == sorted(issuers), "still in name order"
    assert {f"多{k}" for k in range(10)} <= set(issuers) and len(issuers) == 12
    letters = [v for _, v in choices["letters"]]
    newest = [r.id for r in sorted(records, key=lambda r: r.date, reverse=True)[:12]]
    assert letters == newest
    assert letters_info(records, limit=12) is not None and "信件浏览" in letters_info(records, limit=12)


def test_a_chosen_letter_beyond_the_newest_stays_among_the_choices() -> None:
    records = [_record(n, "单位") for n in range(40)]
    oldest = min(records, key=lambda r: r.date).id
    plain = [v for _, v in facet_choices(records, limit=5)["letters"]]
    kept = [v for _, v in facet_choices(records, keep_letters=[oldest, "gone"], limit=5)["letters"]]
    assert oldest not in plain
    assert kept == [*plain, oldest], "the newest first, then the chosen one; an id no longer indexed is not offered"
