"""An open store: the Chroma client, its collections, and the committed catalog.

The committed catalog (letter id → its lean committed record) is what every read filters by and
what lists and filters are computed from. It is read once when the store opens (from the copy
this machine saved last, `catalog_cache`, brought up to date by `poll()`), kept current by
the store's own commits and removals, and by `poll()` (cheap: what was committed lately, and how
many records there are) or `refresh()` (everything again) when another process may have written.
`StoreWrites` and `StoreReads` build on this; `index.storage.store.ChunkStore` is the two together.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from index.settings import Settings
from index.storage import catalog_cache
from index.storage.cachefiles import default_cache_dir
from index.storage.chroma import (
    check_collection_name,
    close_client,
    connect,
    delete_ids,
    open_collection,
    open_journal,
    pages,
)
from index.storage.records import LetterRecord, StoreError, record_from_meta, record_metadata

POLL_OVERLAP_S = 30.0
"""`poll` asks for records committed since the newest it has seen minus this much: a commit
stamped earlier may become visible later (a slow upsert, another host's clock a little behind)."""
RECONCILE_S = 300.0
"""`poll` reads every record again this often anyway, so that nothing a clock far off hid stays
unseen for long."""


def _pair_hash(letter_id: str, version: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{letter_id}\t{version}".encode(), digest_size=8).digest(), "big")


class StoreConnection:
    """The state the store's reads and writes share, and its opening, closing and refreshing.

    The internal lock serialises readers in other threads with `refresh()`.
    """

    def __init__(
        self,
        client: ClientAPI,
        settings: Settings,
        *,
        model_id: str,
        dimension: int,
    ) -> None:
        self._client = client
        self._settings = settings
        self.model_id = model_id
        self.dimension = dimension
        self.chunks_name = f"{settings.collection}-chunks"
        self.letters_name = f"{settings.collection}-letters"
        self.journal_name = f"{settings.collection}-journal"
        self._lock = threading.RLock()
        self._chunks: Collection
        self._letters: Collection
        self._journal: Collection
        self._records: dict[str, LetterRecord] = {}
        self._fp = 0
        self._generation = 0
        self._seen_at = 0.0
        self._reconciled = 0.0
        self.max_batch_size = max(1, int(client.get_max_batch_size()))
        """Upsert/delete batch and read page size; lowered in tests to exercise paging."""
        self._saved_generation = -1
        self._attach()
        self._open_catalog()

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings, *, model_id: str, dimension: int) -> Self:
        if dimension <= 0:
            raise StoreError(f"向量维度必须是正整数，得到 {dimension}。")
        check_collection_name(settings.collection)
        client = connect(settings)
        try:
            return cls(client, settings, model_id=model_id, dimension=dimension)
        except BaseException:
            close_client(client)
            raise

    @property
    def is_embedded(self) -> bool:
        return not self._settings.chroma_host

    def _attach(self) -> None:
        """Get or create the collections and check the two of vectors were built with our model."""
        self._chunks = open_collection(
            self._client, self.chunks_name, model_id=self.model_id, dimension=self.dimension
        )
        self._letters = open_collection(
            self._client, self.letters_name, model_id=self.model_id, dimension=self.dimension
        )
        self._journal = open_journal(self._client, self.journal_name)

    def _reconnect(self) -> None:
        """An embedded Chroma keeps its vector index in memory: another process's writes reach
        `get` but not `query` until the client is opened again."""
        close_client(self._client)
        self._client = connect(self._settings)
        self._attach()

    def close(self) -> None:
        with self._lock:
            if self._generation != self._saved_generation:
                self._save_catalog()
            close_client(self._client)

    # -- the catalog cache ---------------------------------------------------------------

    def _catalog_key(self) -> dict[str, Any]:
        return {"collection": self._settings.collection, "model_id": self.model_id, "dimension": self.dimension}

    def _open_catalog(self) -> None:
        """The catalog as last saved on this machine brought up to date by `poll` (what was
        committed since, and the count; everything is read again when those disagree), or
        read whole when there is no usable saved one."""
        metas = catalog_cache.load(default_cache_dir(self._settings), self._catalog_key())
        catalog = None if metas is None else {
            letter_id: record for letter_id, meta in metas.items()
            if (record := record_from_meta(letter_id, meta, None)) is not None
        }
        if catalog is None:
            self._set_catalog(self._read_catalog())
            self._save_catalog()
            return
        self._set_catalog(catalog)
        self._saved_generation = self._generation
        self.poll()

    def _save_catalog(self) -> None:
        metas = {letter_id: record_metadata(record) for letter_id, record in self._records.items()}
        catalog_cache.save(default_cache_dir(self._settings), self._catalog_key(), metas)
        self._saved_generation = self._generation

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the committed catalog -----------------------------------------------------------

    def refresh(self) -> bool:
        """Re-read every committed record, for when another process may have written.

        Returns whether the visible content changed (the client is reopened then, see
        `_reconnect`).
        """
        with self._lock:
            self._attach()
            catalog = self._read_catalog()
            changed = self._versions_of(catalog) != self.committed_versions()
            if changed and self.is_embedded:
                self._reconnect()
                catalog = self._read_catalog()
            self._set_catalog(catalog)
            if changed:
                self._save_catalog()
            return changed

    def poll(self) -> bool:
        """What `refresh` finds, for a fraction of its cost: the records committed lately and
        the number of records. Only when those disagree with the catalog (a removal, or a
        commit stamped long before the newest one seen) is everything read again.

        Returns whether the visible content changed.
        """
        with self._lock:
            now = time.time()
            if now - self._reconciled > RECONCILE_S:
                return self.refresh()
            since = self._seen_at - POLL_OVERLAP_S
            recent: dict[str, LetterRecord] = {}
            for ids, metas, _ in pages(
                self._letters, ["metadatas"], self.max_batch_size, where={"committed_at": {"$gte": since}}
            ):
                for letter_id, meta in zip(ids, metas, strict=True):
                    record = record_from_meta(letter_id, meta, None)
                    if record is not None:
                        recent[letter_id] = record
            count = self._letters.count()
            news = {i: r for i, r in recent.items() if self._version(i) != r.version}
            expected = len(self._records) + sum(1 for i in news if i not in self._records)
            if count == expected and not news:
                return False
            if count != expected:
                return self.refresh()
            if self.is_embedded:
                self._reconnect()
            for record in news.values():
                self._put_record(record)
            return True

    def committed_versions(self) -> dict[str, str]:
        """Letter id → committed version, as of the last commit, removal, `poll()` or `refresh()`."""
        with self._lock:
            return {letter_id: record.version for letter_id, record in self._records.items()}

    def records(self) -> dict[str, LetterRecord]:
        """The committed catalog: letter id → lean record (no payload, no text), a copy."""
        with self._lock:
            return dict(self._records)

    @property
    def generation(self) -> int:
        """Grows with every change of the catalog seen by this process: a cheap "did anything
        change" for derived state."""
        return self._generation

    def fingerprint(self) -> str:
        """Changes whenever what readers can see changes; derived caches key on it.

        An order-free combination of one hash per (letter, version), kept up to date as the
        catalog changes, so asking costs nothing however many letters there are.
        """
        with self._lock:
            state = self._fp
        digest = hashlib.sha256(f"model={self.model_id}\n{state:016x}".encode())
        return digest.hexdigest()[:16]

    def _version(self, letter_id: str) -> str | None:
        record = self._records.get(letter_id)
        return record.version if record else None

    @staticmethod
    def _versions_of(catalog: Mapping[str, LetterRecord]) -> dict[str, str]:
        return {letter_id: record.version for letter_id, record in catalog.items()}

    def _set_catalog(self, catalog: dict[str, LetterRecord]) -> None:
        fp = 0
        for letter_id, record in catalog.items():
            fp ^= _pair_hash(letter_id, record.version)
        if fp != self._fp or self._versions_of(catalog) != self.committed_versions():
            self._generation += 1
        self._records, self._fp = catalog, fp
        self._seen_at = max((r.committed_at for r in catalog.values()), default=0.0)
        self._reconciled = time.time()

    def _put_record(self, record: LetterRecord) -> None:
        """Adopt a committed record (lean: payload and text dropped)."""
        old = self._records.get(record.id)
        if old is not None:
            self._fp ^= _pair_hash(old.id, old.version)
        self._records[record.id] = record.model_copy(update={"payload": None, "text": None})
        self._fp ^= _pair_hash(record.id, record.version)
        self._seen_at = max(self._seen_at, record.committed_at)
        self._generation += 1

    def _drop_record(self, letter_id: str) -> None:
        old = self._records.pop(letter_id, None)
        if old is not None:
            self._fp ^= _pair_hash(old.id, old.version)
            self._generation += 1

    def _read_catalog(self) -> dict[str, LetterRecord]:
        catalog: dict[str, LetterRecord] = {}
        for ids, metas, _ in self._pages(self._letters, include=["metadatas"]):
            for letter_id, meta in zip(ids, metas, strict=True):
                record = record_from_meta(letter_id, meta, None)
                if record is not None:
                    catalog[letter_id] = record
        return catalog

    # -- helpers -------------------------------------------------------------------------

    def _check_vectors(self, embeddings: np.ndarray, rows: int) -> np.ndarray:
        vectors = np.asarray(embeddings, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape != (rows, self.dimension):
            raise StoreError(
                f"向量形状应为 ({rows}, {self.dimension})，得到 {tuple(vectors.shape)}。"
            )
        if not np.isfinite(vectors).all():
            raise StoreError("向量中有 NaN 或无穷大。")
        return vectors

    def _pages(
        self, collection: Collection, include: list[str], where: dict[str, Any] | None = None
    ) -> Iterator[tuple[list[str], list[Any], list[Any] | None]]:
        return pages(collection, include, self.max_batch_size, where=where)

    def _delete_ids(self, collection: Collection, ids: Sequence[str]) -> None:
        delete_ids(collection, ids, self.max_batch_size)
