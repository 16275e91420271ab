"""The store's reads: readers only ever see chunks whose (letter id, version) matches a
committed record, however many stale or uncommitted chunks the collection holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from index.storage.connection import StoreConnection
from index.storage.records import LetterRecord, StoredChunk, record_from_meta, stored_chunk_from_meta


class StoreReads(StoreConnection):
    """Committed letter records and chunks, and the nearest chunks to a query vector."""

    def letters(self, with_text: bool = False) -> list[LetterRecord]:
        """Committed letter records in id order (read afresh, not from the cached set)."""
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        records: list[LetterRecord] = []
        with self._lock:
            for ids, metas, docs in self._pages(self._letters, include=include):
                for i, letter_id in enumerate(ids):
                    record = record_from_meta(letter_id, metas[i], docs[i] if docs else None)
                    if record is not None:
                        records.append(record)
        records.sort(key=lambda r: r.id)
        return records

    def letter(self, letter_id: str) -> LetterRecord | None:
        with self._lock:
            got = self._letters.get(ids=[letter_id], include=["metadatas", "documents"])
        if not got["ids"]:
            return None
        docs = got["documents"] or [None]
        return record_from_meta(got["ids"][0], (got["metadatas"] or [None])[0], docs[0])

    def find_by_source(self, source: str, *, with_text: bool = False) -> LetterRecord | None:
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        with self._lock:
            got = self._letters.get(where={"source": source}, include=include)  # type: ignore[arg-type]
        if not got["ids"]:
            return None
        docs = got["documents"] if with_text else None
        return record_from_meta(got["ids"][0], (got["metadatas"] or [None])[0], docs[0] if docs else None)

    def count_chunks(self, letter_id: str | None = None) -> int:
        """Stored chunks, committed or not (for reports and checks)."""
        with self._lock:
            if letter_id is None:
                return self._chunks.count()
            return len(self._chunks.get(where={"letter_id": letter_id}, include=[])["ids"])

    def committed_chunks(self) -> list[StoredChunk]:
        """Every visible chunk, ordered by (letter id, ordinal); read page by page."""
        out: list[StoredChunk] = []
        with self._lock:
            committed = dict(self._committed)
            for ids, metas, docs in self._pages(self._chunks, include=["metadatas", "documents"]):
                for i, chunk_id in enumerate(ids):
                    chunk = stored_chunk_from_meta(chunk_id, metas[i], docs[i] if docs else None)
                    if chunk is not None and committed.get(chunk.letter_id) == chunk.version:
                        out.append(chunk)
        out.sort(key=lambda c: (c.letter_id, c.ordinal, c.id))
        return out

    def query(
        self,
        embedding: np.ndarray,
        k: int,
        where: Mapping[str, Any] | None = None,
    ) -> list[tuple[StoredChunk, float]]:
        """Nearest visible chunks with cosine similarity (1 − Chroma's cosine distance).

        Chroma cannot filter on "version matches the committed record", so this over-fetches
        and filters, widening the fetch while stale or uncommitted chunks crowd the top.
        """
        if k <= 0:
            return []
        vector = self._check_vectors(np.asarray(embedding).reshape(1, -1), 1)
        with self._lock:
            committed = dict(self._committed)
            if not committed:
                return []
            fetch = max(2 * k, k + 20)  # Chroma answers n_results beyond its size with what it has
            total: int | None = None
            while fetch > 0:
                res = self._chunks.query(
                    query_embeddings=vector,
                    n_results=fetch,
                    where=dict(where) if where else None,
                    include=["metadatas", "documents", "distances"],  # type: ignore[list-item]
                )
                ids = res["ids"][0]
                metas = (res["metadatas"] or [[]])[0]
                docs = (res["documents"] or [[]])[0]
                dists = (res["distances"] or [[]])[0]
                hits: list[tuple[StoredChunk, float]] = []
                for i, chunk_id in enumerate(ids):
                    chunk = stored_chunk_from_meta(chunk_id, metas[i], docs[i])
                    if chunk is None or committed.get(chunk.letter_id) != chunk.version:
                        continue
                    hits.append((chunk, float(np.clip(1.0 - dists[i], -1.0, 1.0))))
                if len(hits) >= k or len(ids) < fetch:
                    return hits[:k]
                total = self._chunks.count() if total is None else total
                if fetch >= total:
                    return hits[:k]
                fetch = min(total, fetch * 4)
        return []
