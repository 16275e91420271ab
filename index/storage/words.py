"""In how many letters a word occurs, as a substring of each letter's searchable text, without
reading any letter: a positional index of character bigrams.

Each letter's text is stored as code points followed by a separator (code 0), all letters one
after another. For every position the bigram starting there is a 42-bit key; positions sorted
by key give each bigram's sorted position list. A word of n ≥ 2 characters occurs at position p
exactly when its i-th bigram occurs at p + i for every i: starting from the word's rarest bigram,
each other bigram's list is probed with one binary search per candidate. A one-character word is
every bigram it starts (the separator makes the last character of a letter start one too).
The separator is in no word, so no match runs from one letter into the next. Which letter a
position lies in is one more binary search over the letters' offsets.

Like the BM25 index it is immutable segments with live masks (`apply` gives the next version),
is derived from Chroma, cached with the letter versions it covers, and memory-mapped when loaded:
a question touches the pages of its own words' bigrams only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.storage.cachefiles import load_bundle, pack_strings, save_bundle, unpack_strings

FORMAT = 1
SEPARATOR = 0
_SHIFT = 21  # code points are below 2**21
MAX_SEGMENTS = 6


@dataclass(frozen=True)
class WordSegment:
    letters: list[str]
    versions: list[str]
    offsets: np.ndarray
    """Where each letter's text starts in `codes` (int64, len(letters) + 1)."""
    codes: np.ndarray
    keys: np.ndarray
    """Sorted distinct bigram keys (int64)."""
    starts: np.ndarray
    """Where each key's positions start in `positions` (int64, len(keys) + 1)."""
    positions: np.ndarray
    rows: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.rows:
            self.rows.update({letter_id: i for i, letter_id in enumerate(self.letters)})

    @property
    def size(self) -> int:
        return len(self.letters)

    def text(self, row: int) -> str:
        lo, hi = int(self.offsets[row]), int(self.offsets[row + 1]) - 1
        return np.asarray(self.codes[lo:hi], dtype=np.int32).tobytes().decode("utf-32-le")

    def _postings(self, key: int) -> np.ndarray | None:
        j = int(np.searchsorted(self.keys, key))
        if j >= len(self.keys) or int(self.keys[j]) != key:
            return None
        return self.positions[int(self.starts[j]) : int(self.starts[j + 1])]

    def rows_with(self, word: str) -> np.ndarray:
        """The rows (letters) whose text contains `word` (a non-empty word without separator)."""
        w = [ord(ch) for ch in word]
        if len(w) == 1:
            lo = int(np.searchsorted(self.keys, w[0] << _SHIFT))
            hi = int(np.searchsorted(self.keys, (w[0] + 1) << _SHIFT))
            found = np.asarray(self.positions[int(self.starts[lo]) : int(self.starts[hi])])
            return np.unique(np.searchsorted(self.offsets, found, side="right") - 1)
        lists = []
        for i in range(len(w) - 1):
            post = self._postings((w[i] << _SHIFT) | w[i + 1])
            if post is None:
                return np.zeros(0, dtype=np.int64)
            lists.append(post)
        rarest = min(range(len(lists)), key=lambda i: len(lists[i]))
        starts = np.asarray(lists[rarest], dtype=np.int64) - rarest
        for i, post in enumerate(lists):
            if i == rarest or not starts.size:
                continue
            target = starts + i
            at = np.searchsorted(post, target)
            inside = at < len(post)
            ok = np.zeros(starts.size, dtype=bool)
            ok[inside] = np.asarray(post)[at[inside]] == target[inside]
            starts = starts[ok]
        rows = np.searchsorted(self.offsets, starts, side="right") - 1
        if rows.size:
            rows = rows[np.concatenate([[True], np.diff(rows) != 0])]
        return rows


def build_segment(items: Sequence[tuple[str, str, str]]) -> WordSegment:
    """A segment of (letter id, version, searchable text) items."""
    pieces = []
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    for i, (_, _, text) in enumerate(items):
        codes = np.frombuffer((text.replace("\x00", "") + "\x00").encode("utf-32-le"), dtype=np.uint32)
        pieces.append(codes)
        offsets[i + 1] = offsets[i] + len(codes)
    codes = np.concatenate(pieces).astype(np.int32) if pieces else np.zeros(0, dtype=np.int32)
    if len(codes) > 1:
        keys_all = (codes[:-1].astype(np.int64) << _SHIFT) | codes[1:].astype(np.int64)
        order = np.argsort(keys_all, kind="stable")
        sorted_keys = keys_all[order]
        keys, first = np.unique(sorted_keys, return_index=True)
        starts = np.append(first, len(order)).astype(np.int64)
        dtype = np.int32 if len(codes) < 2**31 else np.int64
        positions = order.astype(dtype)
    else:
        keys = np.zeros(0, dtype=np.int64)
        starts = np.zeros(1, dtype=np.int64)
        positions = np.zeros(0, dtype=np.int32)
    return WordSegment(letters=[i for i, _, _ in items], versions=[v for _, v, _ in items], offsets=offsets,
                       codes=codes, keys=keys, starts=starts, positions=positions)


class WordIndex:
    """Letter counts of words over live letters of immutable segments."""

    def __init__(
        self, segments: Sequence[WordSegment], *, alive: Sequence[np.ndarray] | None = None,
        loaded_from_cache: bool = False, added_letters: int = 0, saved_at: int = 0,
    ) -> None:
        self.segments = tuple(segments)
        self.alive = tuple(alive) if alive is not None else tuple(np.ones(s.size, dtype=bool) for s in segments)
        self.versions: dict[str, str] = {}
        self._where: dict[str, tuple[int, int]] = {}
        for n, (seg, live) in enumerate(zip(self.segments, self.alive, strict=True)):
            for row in np.flatnonzero(live):
                self.versions[seg.letters[row]] = seg.versions[row]
                self._where[seg.letters[row]] = (n, int(row))
        self.loaded_from_cache = loaded_from_cache
        self.added_letters = added_letters
        """Letters whose text was added since it was loaded or built."""
        self.saved_at = saved_at
        """`added_letters` when the cache was last written from it (or its ancestors)."""

    def __len__(self) -> int:
        return len(self.versions)

    def count(self, word: str) -> int:
        """In how many live letters `word` occurs (every letter contains the empty word)."""
        if not word:
            return len(self.versions)
        if "\x00" in word:
            return 0
        total = 0
        for seg, live in zip(self.segments, self.alive, strict=True):
            rows = seg.rows_with(word)
            if rows.size:
                total += int(live[rows].sum())
        return total

    def text(self, letter_id: str) -> str | None:
        where = self._where.get(letter_id)
        if where is None:
            return None
        return self.segments[where[0]].text(where[1])

    def apply(self, added: Sequence[tuple[str, str, str]], *, removed: Iterable[str] = ()) -> WordIndex:
        """After removing letters and adding (letter id, version, searchable text) items (a
        changed letter is both)."""
        gone = set(removed) | {letter_id for letter_id, _, _ in added}
        alive = []
        for seg, live in zip(self.segments, self.alive, strict=True):
            rows = [seg.rows[i] for i in gone if i in seg.rows]
            if rows:
                live = live.copy()
                live[rows] = False
            alive.append(live)
        segments = list(self.segments)
        if added:
            segments.append(build_segment(added))
            alive.append(np.ones(len(added), dtype=bool))
        segments, alive = _merged_if_many(segments, alive)
        return WordIndex(segments, alive=alive, loaded_from_cache=self.loaded_from_cache,
                         added_letters=self.added_letters + len(added), saved_at=self.saved_at)

    def compacted(self) -> WordSegment:
        if len(self.segments) == 1 and bool(self.alive[0].all()):
            return self.segments[0]
        return _merge(self.segments, self.alive)

    # -- cache -----------------------------------------------------------------------------

    def save(self, cache_dir: Path, stem: str, recipe: str) -> None:
        seg = self.compacted()
        letters_blob, letters_offsets = pack_strings(seg.letters)
        versions_blob, versions_offsets = pack_strings(seg.versions)
        arrays = {"offsets": seg.offsets, "codes": seg.codes, "keys": seg.keys, "starts": seg.starts,
                  "positions": seg.positions, "letters_blob": letters_blob, "letters_offsets": letters_offsets,
                  "versions_blob": versions_blob, "versions_offsets": versions_offsets}
        save_bundle(cache_dir, stem, arrays, {"format": FORMAT, "recipe": recipe, "n_letters": seg.size})
        self.saved_at = self.added_letters

    @classmethod
    def load(cls, cache_dir: Path, stem: str, recipe: str) -> WordIndex:
        """Raises `CacheMiss` unless intact and made by the same recipe; memory-mapped."""
        arrays, _ = load_bundle(cache_dir, stem, {"format": FORMAT, "recipe": recipe}, mmap=True)
        letters = unpack_strings(arrays["letters_blob"], arrays["letters_offsets"])
        versions = unpack_strings(arrays["versions_blob"], arrays["versions_offsets"])
        seg = WordSegment(letters=letters, versions=versions, offsets=np.asarray(arrays["offsets"]),
                          codes=arrays["codes"], keys=arrays["keys"], starts=arrays["starts"],
                          positions=arrays["positions"])
        return cls([seg], loaded_from_cache=True)


def _merge(segments: Sequence[WordSegment], alive: Sequence[np.ndarray]) -> WordSegment:
    items = [(seg.letters[row], seg.versions[row], seg.text(int(row)))
             for seg, live in zip(segments, alive, strict=True) for row in np.flatnonzero(live)]
    return build_segment(items)


def _merged_if_many(
    segments: list[WordSegment], alive: list[np.ndarray]
) -> tuple[list[WordSegment], list[np.ndarray]]:
    if len(segments) <= MAX_SEGMENTS:
        return segments, alive
    big = max(range(len(segments)), key=lambda i: segments[i].size)
    rest = [i for i in range(len(segments)) if i != big]
    if sum(segments[i].size for i in rest) * 10 > segments[big].size:
        merged = _merge(segments, alive)
        return [merged], [np.ones(merged.size, dtype=bool)]
    merged = _merge([segments[i] for i in rest], [alive[i] for i in rest])
    return [segments[big], merged], [alive[big], np.ones(merged.size, dtype=bool)]


def stale_letters(index: WordIndex, versions: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(letters to drop, letters to add) to bring `index` to these committed versions."""
    removed = [i for i, v in index.versions.items() if versions.get(i) != v]
    added = [i for i, v in versions.items() if index.versions.get(i) != v]
    return removed, added
