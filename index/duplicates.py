"""The same letter under two file names: which file's letter is the original of a text.

Two files are the same letter when their cleaned text is the same (`text_hash`), whatever their
names, formats or bytes. The original of a text is the letter committed first whose source file
still exists; another file with that text is a duplicate and is not indexed (and a letter such a
file held before is removed). A letter whose file is gone is nobody's original: the file that
now holds its text takes its place once that file's letter is committed, so a renamed or moved
file is neither lost (with `--prune`) nor listed twice (without it).

Records written before text hashes were stored get theirs from their stored text when an ingest
starts (`legacy_hashes`, once: the hash is then stored in the record), so that duplicates
indexed back then are found too, as their files come up again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from index.storage.records import LetterRecord
from index.storage.store import ChunkStore

Letter = tuple[str, str]
"""(letter id, source file)."""


def text_hash(text: str) -> str:
    """What makes two files the same letter: their cleaned text, whatever the files' names,
    formats or bytes (a .docx re-saved, or exported again as .txt, is still the same letter)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def legacy_hashes(store: ChunkStore, records: Iterable[LetterRecord]) -> dict[str, str]:
    """Letter id → text hash for the records that carry none, from their stored text, which is
    then stored with them (the caller holds the ingest lock)."""
    missing = [r.id for r in records if not r.text_hash]
    out: dict[str, str] = {}
    step = max(1, store.max_batch_size)
    for lo in range(0, len(missing), step):
        for letter_id, full in store.letters_by_id(missing[lo : lo + step]).items():
            out[letter_id] = text_hash(full.text or "")
    if out:
        store.add_text_hashes(out)
    return out


class Originals:
    """The original of each text among the committed letters, then as this run goes on.

    Whether a letter's file still exists is asked only for the texts this run meets: a stat
    of every indexed letter's file cost ~1 s an ingest at 25 k letters."""

    def __init__(self, records: Iterable[LetterRecord], hashes: Mapping[str, str]) -> None:
        self._first: dict[str, Letter] = {}
        self._orphans: dict[str, list[Letter]] = {}
        self._hash: dict[str, str] = {}
        self._unresolved: dict[str, list[tuple[float, str, str]]] = {}
        for r in records:
            digest = r.text_hash or hashes.get(r.id, "")
            if digest:
                self._hash[r.id] = digest
                self._unresolved.setdefault(digest, []).append((r.committed_at, r.id, r.source))

    def _resolve(self, digest: str) -> None:
        """Sort out the committed letters of this text: the first committed whose file exists is
        its original, those whose files are gone are orphans."""
        for _, letter_id, source in sorted(self._unresolved.pop(digest, [])):
            if Path(source).exists():
                self._first.setdefault(digest, (letter_id, source))
            else:
                self._orphans.setdefault(digest, []).append((letter_id, source))

    def hash_of(self, letter_id: str) -> str | None:
        """The text hash of a committed letter (or one claimed in this run)."""
        return self._hash.get(letter_id)

    def original(self, digest: str, letter_id: str) -> Letter | None:
        """The original of this text when it is another letter than `letter_id`."""
        self._resolve(digest)
        first = self._first.get(digest)
        return first if first is not None and first[0] != letter_id else None

    def claim(self, digest: str, letter_id: str, source: str) -> list[Letter]:
        """`letter_id` (from `source`) is the original of this text from now on; returns the
        letters with this text whose files are gone, which it replaces once committed."""
        old = self._hash.get(letter_id)
        self._resolve(digest)
        if old is not None:
            self._resolve(old)
        if old is not None and old != digest and self._first.get(old, ("",))[0] == letter_id:
            del self._first[old]  # its text changed: no longer the original of the old one
        self._hash[letter_id] = digest
        self._first[digest] = (letter_id, source)
        return [o for o in self._orphans.pop(digest, []) if o[0] != letter_id]
