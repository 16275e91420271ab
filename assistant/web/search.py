"""The letter browser's search: every word the user typed must be found in the letter — in its
title, the suggestion it answers, the deputy or member it is addressed to, its 文号, number,
session, issuer or id, or anywhere in its text — and the letter must pass the chosen facets.

Fields are matched here, loosely (full/half-width and the three bracket forms of a 文号 are
alike: 粤卫案函[2020]208号 finds 粤卫案函〔2020〕208号). The text is searched by Chroma's own
full-text filter over the letters' cleaned texts (`Catalog.containing`), as written, with the
word's upper- and lower-case forms for Latin letters (5g finds 5G). A hit in the text carries a
snippet around its first occurrence, so the list shows why the letter is there.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.catalog import Catalog, Entry
from assistant.web.facets import ALL

SNIPPET = 24
"""Characters shown either side of a hit in the text."""
_OPEN = re.compile(r"[〔［\[（(【]")
_CLOSE = re.compile(r"[〕］\]）)】]")


@dataclass(frozen=True)
class Hit:
    """A listed letter, with where the first word found only in its text occurs."""

    entry: Entry
    snippet: tuple[str, str, str] | None = None
    """(before, the word, after) from the letter's text."""


def fold(text: str) -> str:
    """For comparing fields: NFKC, lower case, no spaces, one kind of bracket."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _CLOSE.sub("〕", _OPEN.sub("〔", re.sub(r"\s+", "", text)))


def field_text(entry: Entry) -> str:
    r = entry.record
    return fold(" ".join((r.id, r.title, r.issuer, r.date, entry.suggestion_title, entry.addressee,
                          entry.doc_number, entry.number, entry.session)))


def spellings(word: str) -> list[str]:
    """The forms a word is looked for in the text as written."""
    forms = [word, unicodedata.normalize("NFKC", word)]
    if re.search("[A-Za-z]", word):
        forms += [f.upper() for f in forms] + [f.lower() for f in forms]
    return list(dict.fromkeys(f for f in forms if f))


def passes_facets(entry: Entry, issuer: str | None, year: str | None, channel: str | None) -> bool:
    r = entry.record
    if issuer and issuer != ALL and issuer.strip() not in r.issuer:
        return False
    if year and year != ALL and str(r.year) != str(year):
        return False
    return not (channel and channel != ALL and r.channel != channel)


def search(
    catalog: Catalog, entries: Sequence[Entry], text: str | None, issuer: str | None, year: str | None,
    channel: str | None, *, snippets: int = 50,
) -> list[Hit]:
    """Matching letters, newest first; the first `snippets` text hits carry a snippet."""
    words = (text or "").split()
    candidates = [e for e in entries if passes_facets(e, issuer, year, channel)]
    in_text: dict[str, set[str]] = {}
    for word in words:
        ids: set[str] = set()
        for form in spellings(word):
            ids |= catalog.containing(form)
        in_text[word] = ids
    found: list[tuple[Entry, str | None]] = []
    for entry in candidates:
        fields = field_text(entry)
        text_only: str | None = None
        for word in words:
            if fold(word) in fields:
                continue
            if entry.id not in in_text[word]:
                break
            text_only = text_only or word
        else:
            found.append((entry, text_only))
    found.sort(key=lambda pair: (pair[0].record.date or "", pair[0].id), reverse=True)
    wanted = [entry.id for entry, word in found if word][:snippets]
    texts = catalog.texts(wanted)
    return [Hit(entry, _snippet(texts.get(entry.id, ""), word) if word else None) for entry, word in found]


def _snippet(text: str, word: str) -> tuple[str, str, str] | None:
    for form in spellings(word):
        at = text.find(form)
        if at >= 0:
            end = at + len(form)
            before = ("…" if at > SNIPPET else "") + " ".join(text[max(0, at - SNIPPET):at].split())
            after = " ".join(text[end:end + SNIPPET].split()) + ("…" if end + SNIPPET < len(text) else "")
            return before, form, after
    return None
