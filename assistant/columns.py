"""The committed letters as columns, so that a filter over the whole archive is a few array
operations rather than a loop over every letter.

Columns are aligned with the BM25 index's letter codes (`BM25Index.letter_names`): a mask
computed here is what `BM25Index.search(letter_mask=...)` takes as it is. Built once per index
version (`assistant.library.Snapshot`), never per question.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from index.storage.records import LetterRecord

CHANNELS = ("NPC", "CPPCC", "other")


class LetterColumns:
    def __init__(self, records: Mapping[str, LetterRecord], names: Sequence[str]) -> None:
        self.ids: list[str] = list(names)
        self.codes: dict[str, int] = {name: code for code, name in enumerate(self.ids)}
        for letter_id in records:
            if letter_id not in self.codes:
                self.codes[letter_id] = len(self.ids)
                self.ids.append(letter_id)
        n = len(self.ids)
        self.live = np.zeros(n, dtype=bool)
        self.year = np.full(n, -1, dtype=np.int32)
        self.channel = np.full(n, -1, dtype=np.int8)
        self.issuer = np.full(n, -1, dtype=np.int32)
        self.n_chunks = np.zeros(n, dtype=np.int64)
        issuers: dict[str, int] = {}
        for letter_id, record in records.items():
            code = self.codes[letter_id]
            self.live[code] = True
            self.year[code] = record.year
            self.channel[code] = CHANNELS.index(record.channel) if record.channel in CHANNELS else len(CHANNELS)
            self.issuer[code] = issuers.setdefault(record.issuer, len(issuers))
            self.n_chunks[code] = record.n_chunks
        self.issuer_names = list(issuers)
        self.chunk_total = int(self.n_chunks[self.live].sum())
        self._issuer_match = lru_cache(maxsize=256)(self._match_issuers)

    def mask(
        self,
        *,
        letters: Sequence[str] = (),
        issuer: str | None = None,
        year_from: int | None = None,
        year_to: int | None = None,
        channel: str | None = None,
    ) -> np.ndarray:
        """Which letters (by code) a filter lets through; the same rule as `Filters.allows`."""
        keep = self.live.copy()
        if letters:
            chosen = np.zeros_like(keep)
            chosen[[self.codes[i] for i in letters if i in self.codes]] = True
            keep &= chosen
        if issuer:
            matches = self._issuer_match(issuer)
            if not len(matches):
                return np.zeros_like(keep)
            keep &= (self.issuer >= 0) & matches[np.maximum(self.issuer, 0)]
        if year_from:
            keep &= (self.year >= 0) & (self.year >= year_from)
        if year_to:
            keep &= (self.year >= 0) & (self.year <= year_to)
        if channel:
            code = CHANNELS.index(channel) if channel in CHANNELS else len(CHANNELS)
            keep &= self.channel == code
        return keep

    def _match_issuers(self, part: str) -> np.ndarray:
        """Which distinct issuer names contain `part` (cached: staff narrow by a few issuers)."""
        return np.fromiter((part in name for name in self.issuer_names), dtype=bool, count=len(self.issuer_names))

    def letters_of(self, mask: np.ndarray) -> list[str]:
        return [self.ids[code] for code in np.flatnonzero(mask)]

    def chunk_count(self, mask: np.ndarray) -> int:
        return int(self.n_chunks[mask].sum())
