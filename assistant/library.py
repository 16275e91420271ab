"""The letters of the index as the assistant sees them: one consistent version (`Snapshot`) of
what is committed, with the keyword index, the word index and the filter columns over it.

Nothing per letter is held for the whole archive except its lean record: letters' text and
section trees, and chunks, are read from Chroma when a question needs them (the passages it
cites) and kept in small caches keyed by (id, version), which are content-addressed and so
shared by every version. Word statistics come from `index.storage.words`, filters from
`assistant.columns`, keyword search from `index.storage.bm25`; each is brought up to date
letter by letter when the store changes (its own commits, or other processes' ones that
`Library.watch` notices), never rebuilt from scratch while a cache exists.

Readers go through `Snapshot`'s methods (and its read-only `letters` / `chunks` mappings), so
how much of it is in memory can change without touching them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from assistant.columns import LetterColumns
from assistant.lru import LRU
from index.reading.letter import ReplyLetter
from index.settings import Settings
from index.storage import bm25_cache
from index.storage.bm25 import BM25Index
from index.storage.cachefiles import CacheMiss, default_cache_dir
from index.storage.records import LetterRecord, StoredChunk, StoreError, chunk_id, split_chunk_id
from index.storage.store import ChunkStore
from index.storage.words import WordIndex, stale_letters
from index.tokenizer import ChineseTokenizer

log = logging.getLogger(__name__)

SEARCHABLE_RECIPE = "identity+text/compact/v1"
"""Names how `searchable_text` is made; part of the word index's cache key."""
WORDS_STEM = "letter-words"
LETTERS_CACHED = 2048
CHUNKS_CACHED = 16384
WATCH_INTERVAL_S = 1.0
"""How often a watching library asks the store whether another process committed something."""
SPECIFIC_LETTERS = 3


class StaleLetter(StoreError):
    """The letter changed or went away after this version of the index was taken."""

    def __init__(self, letter_id: str) -> None:
        super().__init__(f"答复 {letter_id} 刚刚被更新或移除，请重新提问。")


@dataclass
class _Caches:
    letters: LRU = field(default_factory=lambda: LRU(LETTERS_CACHED))
    chunks: LRU = field(default_factory=lambda: LRU(CHUNKS_CACHED))
    issuer_names: str | None = None


def searchable_text(letter: ReplyLetter, tokenizer: ChineseTokenizer) -> str:
    """The letter's identity and text, compacted as `ChineseTokenizer.compact` does."""
    return tokenizer.compact(letter.identity_text() + " " + letter.text)


def letter_of(record: LetterRecord, *, validate: bool = True) -> ReplyLetter:
    """The parsed letter a full record (payload and text) holds. Unvalidated it is only fit for
    reading its fields (what the word index needs), not its section tree."""
    data = json.loads(record.payload or "{}")
    data["text"] = record.text or ""
    data.setdefault("id", record.id)
    data.setdefault("source", record.source)
    return ReplyLetter.model_validate(data) if validate else ReplyLetter.model_construct(**data)


@dataclass(frozen=True)
class Snapshot:
    """One consistent version of the index."""

    fingerprint: str
    records: Mapping[str, LetterRecord]
    """The committed letters' lean records (no text, no tree)."""
    bm25: BM25Index
    words: WordIndex
    columns: LetterColumns
    store: ChunkStore
    caches: _Caches = field(default_factory=_Caches)
    generation: int = -1

    # -- letters ---------------------------------------------------------------------------

    def has_letter(self, letter_id: str) -> bool:
        return letter_id in self.records

    def letter(self, letter_id: str) -> ReplyLetter:
        """The whole parsed letter (KeyError for one this version does not have)."""
        found = self.letters_by_id([letter_id])
        if letter_id not in found:
            raise KeyError(letter_id)
        return found[letter_id]

    def letters_by_id(self, letter_ids: Sequence[str]) -> dict[str, ReplyLetter]:
        """Several letters with one read for those not cached; unknown ids are left out."""
        out: dict[str, ReplyLetter] = {}
        missing: list[str] = []
        for letter_id in dict.fromkeys(letter_ids):
            record = self.records.get(letter_id)
            if record is None:
                continue
            cached = self.caches.letters.get((letter_id, record.version))
            if cached is None:
                missing.append(letter_id)
            else:
                out[letter_id] = cached
        if missing:
            for letter_id, full in self.store.letters_by_id(missing).items():
                if full.version != self.records[letter_id].version:
                    continue
                letter = letter_of(full)
                self.caches.letters.put((letter_id, full.version), letter)
                out[letter_id] = letter
            for letter_id in missing:
                if letter_id not in out:
                    raise StaleLetter(letter_id)
        return out

    @property
    def letters(self) -> Mapping[str, ReplyLetter]:
        """Letter id → parsed letter, read when looked up."""
        return _Letters(self)

    # -- chunks ----------------------------------------------------------------------------

    def visible(self, chunk_id_: str) -> bool:
        letter_id, version = split_chunk_id(chunk_id_)
        record = self.records.get(letter_id)
        return record is not None and record.version == version

    def chunk(self, chunk_id_: str) -> StoredChunk:
        found = self.chunks_by_id([chunk_id_])
        if chunk_id_ not in found:
            raise KeyError(chunk_id_)
        return found[chunk_id_]

    def chunks_by_id(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        """Visible chunks among `chunk_ids`, with one read for those not cached."""
        out: dict[str, StoredChunk] = {}
        missing: list[str] = []
        for cid in dict.fromkeys(chunk_ids):
            if not self.visible(cid):
                continue
            cached = self.caches.chunks.get(cid)
            if cached is None:
                missing.append(cid)
            else:
                out[cid] = cached
        if missing:
            for cid, chunk in self.store.chunks_by_id(missing).items():
                if self.visible(cid):
                    self.caches.chunks.put(cid, chunk)
                    out[cid] = chunk
        return out

    def remember_chunks(self, chunks: Sequence[StoredChunk]) -> None:
        """Chunks read some other way (they are the same for every version that shows them)."""
        for chunk in chunks:
            self.caches.chunks.put(chunk.id, chunk)

    def letter_chunks(self, letter_id: str) -> list[StoredChunk]:
        record = self.records.get(letter_id)
        if record is None:
            return []
        found = self.chunks_by_id(record.chunk_ids())
        return [found[c] for c in record.chunk_ids() if c in found]

    @property
    def chunks(self) -> Mapping[str, StoredChunk]:
        """Chunk id → visible chunk, read when looked up (iterating it lists every id)."""
        return _Chunks(self)

    # -- words -----------------------------------------------------------------------------

    def searchable_text(self, letter_id: str) -> str:
        """The letter's identity and text, compacted as `ChineseTokenizer.compact` does."""
        if letter_id not in self.records:
            return ""
        return self.words.text(letter_id) or ""

    def letter_count(self, word: str) -> int:
        """In how many letters a word occurs (as written, not only as a token)."""
        return self.words.count(word)

    def issuer_names(self, simplify: Callable[[str], str]) -> str:
        """The distinct issuers' names, simplified, one a line (made once per version): what a
        question's short unit names are looked up in (`assistant.ask.unit_names`)."""
        if self.caches.issuer_names is None:
            names = {simplify(r.issuer) for r in self.records.values() if r.issuer}
            self.caches.issuer_names = "\n".join(sorted(names))
        return self.caches.issuer_names

    def is_specific(self, word: str) -> bool:
        """A word found in only a few letters: naming it says which letters a question is about."""
        return 1 <= self.letter_count(word) <= SPECIFIC_LETTERS


class _Letters(Mapping[str, ReplyLetter]):
    def __init__(self, snapshot: Snapshot) -> None:
        self._s = snapshot

    def __getitem__(self, key: str) -> ReplyLetter:
        return self._s.letter(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._s.has_letter(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._s.records)

    def __len__(self) -> int:
        return len(self._s.records)


class _Chunks(Mapping[str, StoredChunk]):
    def __init__(self, snapshot: Snapshot) -> None:
        self._s = snapshot

    def __getitem__(self, key: str) -> StoredChunk:
        return self._s.chunk(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._s.visible(key)

    def __iter__(self) -> Iterator[str]:
        for record in self._s.records.values():
            yield from (chunk_id(record.id, record.version, n) for n in range(record.n_chunks))

    def __len__(self) -> int:
        return self._s.columns.chunk_total


class Library:
    """Hands out the current `Snapshot`, bringing it up to date when the store's content changed."""

    def __init__(self, settings: Settings, store: ChunkStore, tokenizer: ChineseTokenizer) -> None:
        self.settings = settings
        self.store = store
        self.tokenizer = tokenizer
        self.cache_dir = default_cache_dir(settings)
        self._snapshot: Snapshot | None = None
        self._building = threading.Lock()
        self._caches = _Caches()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def snapshot(self, *, refresh: bool = False, wait: bool = False) -> Snapshot:
        """The current version. While another thread brings it up to date, the one before is
        handed out rather than keeping a question waiting — unless `wait`: after a write of its
        own a process must read what it wrote (a corrected field shown as saved)."""
        if refresh:
            self.store.poll()
        current = self._snapshot
        if current is not None and current.generation == self.store.generation:
            return current
        if not self._building.acquire(blocking=current is None or wait):
            assert current is not None
            return current
        try:
            current = self._snapshot
            if current is None or current.generation != self.store.generation:
                current = self._snapshot = self._build(current)
            return current
        finally:
            self._building.release()

    @property
    def has_snapshot(self) -> bool:
        return self._snapshot is not None

    def records(self) -> list[LetterRecord]:
        """The committed letters' lean records in id order, as of the last change seen."""
        return sorted(self.store.records().values(), key=lambda r: r.id)

    # -- building --------------------------------------------------------------------------

    def _build(self, previous: Snapshot | None) -> Snapshot:
        started = time.perf_counter()
        generation = self.store.generation
        records = self.store.records()
        fingerprint = self.store.fingerprint()
        if previous is None:
            bm25 = bm25_cache.load_or_build(
                self.store, self.cache_dir, bigrams=self.tokenizer.bigrams, tokenizer=self.tokenizer, records=records
            )
            words = self._load_words(records)
        else:
            bm25 = bm25_cache.update(previous.bm25, self.store, records)
            words = self._update_words(previous.words, records)
        snapshot = Snapshot(fingerprint, records, bm25, words, LetterColumns(records, bm25.letter_names), self.store,
                            self._caches, generation)
        log.info("index version %s: %d letters, %.2f s", fingerprint, len(records), time.perf_counter() - started)
        return snapshot

    def _load_words(self, records: Mapping[str, LetterRecord]) -> WordIndex:
        try:
            base = WordIndex.load(self.cache_dir, WORDS_STEM, self._words_recipe())
        except CacheMiss as miss:
            log.info("word index cache %s: %s; building", self.cache_dir, miss)
            base = WordIndex([])
        words = self._update_words(base, records)
        if words.added_letters - words.saved_at >= bm25_cache.SAVE_AFTER_LETTERS or not base.loaded_from_cache:
            self._save_words(words)
        return words

    def _update_words(self, words: WordIndex, records: Mapping[str, LetterRecord]) -> WordIndex:
        removed, added = stale_letters(words, {i: r.version for i, r in records.items()})
        if not removed and not added:
            return words
        items = []
        step = max(1, self.store.max_batch_size)
        for lo in range(0, len(added), step):
            for letter_id, full in self.store.letters_by_id(added[lo : lo + step]).items():
                text = searchable_text(letter_of(full, validate=False), self.tokenizer)
                items.append((letter_id, full.version, text))
        return words.apply(items, removed=removed)

    def _words_recipe(self) -> str:
        return f"{SEARCHABLE_RECIPE}|{self.tokenizer.signature}"

    def _save_words(self, words: WordIndex) -> None:
        try:
            words.save(self.cache_dir, WORDS_STEM, self._words_recipe())
        except OSError as exc:
            log.warning("word index cache not written to %s: %s", self.cache_dir, exc)

    def save_if_due(self) -> None:
        """Write the caches back once enough letters were added since they were written, so
        that the next process starts from them (called by the watcher, off the question path)."""
        snapshot = self._snapshot
        if snapshot is None:
            return
        if snapshot.bm25.tokenized_letters - snapshot.bm25.saved_at >= bm25_cache.SAVE_AFTER_LETTERS:
            bm25_cache.save_quietly(snapshot.bm25, self.cache_dir, bm25_cache.cache_stem(self.tokenizer.bigrams))
        if snapshot.words.added_letters - snapshot.words.saved_at >= bm25_cache.SAVE_AFTER_LETTERS:
            self._save_words(snapshot.words)

    # -- watching other processes ------------------------------------------------------------

    def watch(self, interval: float = WATCH_INTERVAL_S) -> None:
        """Notice, in the background, what other processes commit (and bring the snapshot up
        to date off the question path); a page serving many users runs one of these."""
        if self._watcher is not None:
            return

        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.store.poll()
                    self.snapshot()
                    self.save_if_due()
                except Exception:  # the next round tries again; questions keep the last version
                    log.exception("checking the index for changes failed")

        self._watcher = threading.Thread(target=run, name="replyqa-library-watch", daemon=True)
        self._watcher.start()

    def close(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
            self._watcher = None
