"""The letters of the index as the assistant sees them: parsed letters, their chunks and the
BM25 index over those chunks, all derived from Chroma and rebuilt when it changes.

Citations need a letter's title, issuer, date, section tree and exact text; retrieval filters
need each chunk's issuer, year and channel. Reading them once per index version (the store's
fingerprint) keeps every question free of extra round trips to Chroma. Readers go through
`Snapshot`'s methods, not its dictionaries, so how much of it is held in memory can change
without touching them.
"""

from __future__ import annotations

import json
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

    def letter(self, letter_id: str) -> ReplyLetter:
        return self.letters[letter_id]

    def has_letter(self, letter_id: str) -> bool:
        return letter_id in self.letters

    def chunk(self, chunk_id: str) -> StoredChunk:
        return self.chunks[chunk_id]

    def searchable_text(self, letter_id: str) -> str:
        """The letter's identity and text, compacted as `ChineseTokenizer.compact` does."""
        return self.searchable.get(letter_id, "")

    def letter_chunks(self, letter_id: str) -> list[StoredChunk]:
        return [c for c in self.chunks.values() if c.letter_id == letter_id]

    def letter_count(self, word: str) -> int:
        """In how many letters a word occurs (as written, not only as a token)."""
        return sum(1 for text in self.searchable.values() if word in text)

    def is_specific(self, word: str) -> bool:
        """A word found in only a few letters: naming it says which letters a question is about."""
        return 1 <= self.letter_count(word) <= 3


class Library:
    """Hands out the current `Snapshot`, rebuilding it when the store's content changed."""

    def __init__(self, settings: Settings, store: ChunkStore, tokenizer: ChineseTokenizer) -> None:
        self.settings = settings
        self.store = store
        self.tokenizer = tokenizer
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
            letter_id: self.tokenizer.compact(letter.identity_text() + " " + letter.text)
            for letter_id, letter in letters.items()
        }
        return Snapshot(fingerprint, letters, chunks, bm25, searchable)
