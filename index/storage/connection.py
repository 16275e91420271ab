"""An open store: the Chroma client, its two collections, and the committed set.

The committed set (letter id → the version its record makes visible) is what every read
filters by; it is read when the store opens and kept current by the store's own commits and
removals, and by `refresh()` when another process may have written. `StoreWrites` and
`StoreReads` build on this; `index.storage.store.ChunkStore` is the two together.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, Self

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from index.settings import Settings
from index.storage.chroma import check_collection_name, close_client, connect, delete_ids, open_collection, pages
from index.storage.records import StoreError


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
        self._lock = threading.RLock()
        self._chunks: Collection
        self._letters: Collection
        self._committed: dict[str, str] = {}
        self.max_batch_size = max(1, int(client.get_max_batch_size()))
        """Upsert/delete batch and read page size; lowered in tests to exercise paging."""
        self._attach()
        self._committed = self._read_committed()

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
        """Get or create both collections and check they were built with our model."""
        self._chunks = open_collection(
            self._client, self.chunks_name, model_id=self.model_id, dimension=self.dimension
        )
        self._letters = open_collection(
            self._client, self.letters_name, model_id=self.model_id, dimension=self.dimension
        )

    def close(self) -> None:
        with self._lock:
            close_client(self._client)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the committed set ---------------------------------------------------------------

    def refresh(self) -> bool:
        """Re-read what is committed, for when another process may have written.

        Returns whether the visible content changed. An embedded Chroma keeps its vector index
        in memory, so another process's writes reach `get` but not `query` until the client is
        reopened; that is done here, only when something changed.
        """
        with self._lock:
            self._attach()
            committed = self._read_committed()
            changed = committed != self._committed
            if changed and self.is_embedded:
                close_client(self._client)
                self._client = connect(self._settings)
                self._attach()
                committed = self._read_committed()
            self._committed = committed
            return changed

    def committed_versions(self) -> dict[str, str]:
        """Letter id → committed version, as of the last commit, removal or `refresh()`."""
        with self._lock:
            return dict(self._committed)

    def fingerprint(self) -> str:
        """Changes whenever what readers can see changes; derived caches key on it."""
        with self._lock:
            pairs = sorted(self._committed.items())
        digest = hashlib.sha256(f"model={self.model_id}\n".encode())
        for letter_id, version in pairs:
            digest.update(f"{letter_id}\t{version}\n".encode())
        return digest.hexdigest()[:16]

    def _read_committed(self) -> dict[str, str]:
        committed: dict[str, str] = {}
        for ids, metas, _ in self._pages(self._letters, include=["metadatas"]):
            for letter_id, meta in zip(ids, metas, strict=True):
                if meta is not None and isinstance(meta.get("version"), str):
                    committed[letter_id] = str(meta["version"])
        return committed

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
        self, collection: Collection, include: list[str]
    ) -> Iterator[tuple[list[str], list[Any], list[Any] | None]]:
        return pages(collection, include, self.max_batch_size)

    def _delete_ids(self, collection: Collection, ids: Sequence[str]) -> None:
        delete_ids(collection, ids, self.max_batch_size)
