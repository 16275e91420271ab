"""The letters of the index as the assistant sees them: parsed letters, their chunks and the
BM25 index over those chunks, all derived from Chroma and rebuilt when it changes.

Citations need a letter's title, issuer, date, section tree and exact text; retrieval filters
need each chunk's issuer, year and channel. Reading them once per index version (the store's
fingerprint) keeps every question free of extra round trips to Chroma.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field

from index.reading.letter import ReplyLetter
from index.settings import Settings
from index.storage.bm25 import BM25Index, default_cache_dir, load_or_build
from index.storage.records import StoredChunk
from index.storage.store import ChunkStore
from index.tokenizer import ChineseTokenizer


@dataclass(frozen=True)
class Snapshot:
    """One consistent version of the index."""

    fingerprint: str
    letters: dict[str, ReplyLetter]
    chunks: dict[str, StoredChunk]
    bm25: BM25Index
    searchable: dict[str, str] = field(default_factory=dict)
    """Each letter's text as words are matched against it: simplified, NFKC, lower case, no spaces."""

    def letter_chunks(self, letter_id: str) -> list[StoredChunk]:
        return [c for c in self.chunks.values() if c.letter_id == letter_id]

    def letter_count(self, word: str) -> int:
        """In how many letters a word occurs (as written, not only as a token)."""
        return sum(1 for text in self.searchable.values() if word in text)


class Library:
    """Hands out the current `Snapshot`, rebuilding it when the store's content changed."""

    def __init__(self, settings: Settings, store: ChunkStore, tokenizer: ChineseTokenizer | None = None) -> None:
        self.settings = settings
        self.store = store
        self.tokenizer = tokenizer or ChineseTokenizer(
            bigrams=settings.bm25_bigrams, cache_dir=default_cache_dir(settings)
        )
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def snapshot(self, *, refresh: bool = False) -> Snapshot:
        with self._lock:
            if refresh or self._snapshot is None:
                self.store.refresh()
            current = self.store.fingerprint()
            if self._snapshot is None or self._snapshot.fingerprint != current:
                self._snapshot = self._load(current)
            return self._snapshot

    def _load(self, fingerprint: str) -> Snapshot:
        letters: dict[str, ReplyLetter] = {}
        for record in self.store.letters(with_text=True):
            data = json.loads(record.payload)
            data["text"] = record.text or ""
            letters[record.id] = ReplyLetter.model_validate(data)
        chunks = {c.id: c for c in self.store.committed_chunks() if c.letter_id in letters}
        bm25 = load_or_build(
            self.store, default_cache_dir(self.settings), bigrams=self.tokenizer.bigrams, tokenizer=self.tokenizer
        )
        searchable = {
            letter_id: re.sub(r"\s+", "", self.tokenizer.normalize(_identity_text(letter) + " " + letter.text))
            for letter_id, letter in letters.items()
        }
        return Snapshot(fingerprint, letters, chunks, bm25, searchable)


def _identity_text(letter: ReplyLetter) -> str:
    parts = (letter.title, letter.suggestion_title, letter.issuer, letter.addressee, letter.session, letter.number)
    return " ".join(p for p in parts if p)
