"""The store's reads: readers only ever see chunks whose (letter id, version) matches a
committed record, however many stale or uncommitted chunks the collection holds.

A chunk's id names its letter and version (`records.chunk_id`), so visibility is decided from
the id alone: nearest-neighbour queries ask Chroma for ids and distances only, and the few
chunks a question needs are then read by id. A committed letter's chunk ids follow from its
record (`LetterRecord.chunk_ids`), so "this letter's chunks" is a read by id too, never a scan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from index.storage.chroma import get_by_ids
from index.storage.connection import StoreConnection
from index.storage.records import (
    LetterRecord,
    StoredChunk,
    record_from_meta,
    split_chunk_id,
    stored_chunk_from_meta,
)

MAX_FETCH = 4000
"""The most neighbours one query asks Chroma for while it widens past invisible chunks or
chunks a filter leaves out; beyond it Chroma's own `where` does the filtering."""


class StoreReads(StoreConnection):
    """Committed letter records and chunks, and the nearest chunks to a query vector."""

    # -- letters -------------------------------------------------------------------------

    def letters(self, with_text: bool = False) -> list[LetterRecord]:
        """Committed letter records in id order, read afresh (lean unless `with_text`)."""
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
        """The whole committed record, payload and text included."""
        return self.letters_by_id([letter_id]).get(letter_id)

    def letters_by_id(self, letter_ids: Sequence[str]) -> dict[str, LetterRecord]:
        """Whole committed records (payload and text) of those letters that exist."""
        with self._lock:
            got = get_by_ids(self._letters, letter_ids, ["metadatas", "documents"], self.max_batch_size)
        out = {}
        for letter_id, (meta, doc, _) in got.items():
            record = record_from_meta(letter_id, meta, doc if doc is not None else "")
            if record is not None:
                out[letter_id] = record
        return out

    def find_by_source(self, source: str, *, with_text: bool = False) -> LetterRecord | None:
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        with self._lock:
            got = self._letters.get(where={"source": source}, include=include)  # type: ignore[arg-type]
        if not got["ids"]:
            return None
        docs = got["documents"] if with_text else None
        return record_from_meta(got["ids"][0], (got["metadatas"] or [None])[0], docs[0] if docs else None)

    # -- chunks --------------------------------------------------------------------------

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
            committed = self.committed_versions()
            for ids, metas, docs in self._pages(self._chunks, include=["metadatas", "documents"]):
                for i, chunk_id in enumerate(ids):
                    chunk = stored_chunk_from_meta(chunk_id, metas[i], docs[i] if docs else None)
                    if chunk is not None and committed.get(chunk.letter_id) == chunk.version:
                        out.append(chunk)
        out.sort(key=lambda c: (c.letter_id, c.ordinal, c.id))
        return out

    def chunks_by_id(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        """Those of the chunks that exist and are visible, keyed by id."""
        with self._lock:
            committed = self.committed_versions_view()
            got = get_by_ids(self._chunks, chunk_ids, ["metadatas", "documents"], self.max_batch_size)
        out = {}
        for chunk_id, (meta, doc, _) in got.items():
            chunk = stored_chunk_from_meta(chunk_id, meta, doc)
            if chunk is not None and committed.get(chunk.letter_id) == chunk.version:
                out[chunk_id] = chunk
        return out

    def letter_chunks(self, letter_id: str) -> list[StoredChunk]:
        """The committed version's chunks of one letter, in order; [] for an unknown letter."""
        record = self._records.get(letter_id)
        if record is None:
            return []
        found = self.chunks_by_id(record.chunk_ids())
        return sorted(found.values(), key=lambda c: c.ordinal)

    def vectors_by_id(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            got = get_by_ids(self._chunks, chunk_ids, ["embeddings"], self.max_batch_size)
        return {chunk_id: np.asarray(emb, dtype=np.float32) for chunk_id, (_, _, emb) in got.items()}

    def committed_versions_view(self) -> Mapping[str, Any]:
        """Letter id → record, read-only and without a copy (callers hold the lock or accept
        that it may change under them)."""
        return VersionView(self._records)

    # -- nearest neighbours --------------------------------------------------------------

    def nearest(
        self,
        embedding: np.ndarray,
        k: int,
        *,
        visible: Mapping[str, str] | None = None,
        keep: Any = None,
        where: Mapping[str, Any] | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the k nearest visible chunks, best first.

        Chroma is asked for ids and distances only (what costs is reading metadata and
        documents) and the fetch widens while invisible chunks, or chunks `keep(letter_id)`
        refuses, crowd the top. `visible` is the letter → version map to judge by (a
        snapshot's; the store's own catalog by default). `where` is passed to Chroma.
        """
        if k <= 0:
            return []
        vector = self._check_vectors(np.asarray(embedding).reshape(1, -1), 1)
        with self._lock:
            versions = visible if visible is not None else self.committed_versions_view()
            if not versions:
                return []
            fetch = max(2 * k, k + 20)  # Chroma answers n_results beyond its size with what it has
            while True:
                res = self._chunks.query(
                    query_embeddings=vector,
                    n_results=fetch,
                    where=dict(where) if where else None,
                    include=["distances"],  # type: ignore[list-item]
                )
                ids = res["ids"][0]
                dists = (res["distances"] or [[]])[0]
                hits: list[tuple[str, float]] = []
                for chunk_id, dist in zip(ids, dists, strict=True):
                    letter_id, version = split_chunk_id(chunk_id)
                    if versions.get(letter_id) != version or (keep is not None and not keep(letter_id)):
                        continue
                    hits.append((chunk_id, float(np.clip(1.0 - dist, -1.0, 1.0))))
                if len(hits) >= k or len(ids) < fetch or fetch >= MAX_FETCH:
                    return hits[:k]
                fetch = min(MAX_FETCH, fetch * 4)

    def nearest_among(
        self, embedding: np.ndarray, chunk_ids: Sequence[str], k: int
    ) -> list[tuple[str, float]]:
        """Exact nearest neighbours among a few given chunks (a narrow filter): their vectors
        read by id and compared here, ties by id."""
        vector = self._check_vectors(np.asarray(embedding).reshape(1, -1), 1)[0]
        vectors = self.vectors_by_id(chunk_ids)
        if not vectors or k <= 0:
            return []
        ids = sorted(vectors)
        scores = np.stack([vectors[i] for i in ids]) @ vector
        order = sorted(range(len(ids)), key=lambda i: (-float(scores[i]), ids[i]))[:k]
        return [(ids[i], float(np.clip(scores[i], -1.0, 1.0))) for i in order]

    def query(
        self,
        embedding: np.ndarray,
        k: int,
        where: Mapping[str, Any] | None = None,
    ) -> list[tuple[StoredChunk, float]]:
        """Nearest visible chunks with cosine similarity (1 − Chroma's cosine distance), read
        whole; `where` filters on chunk metadata as Chroma's own `where` does."""
        hits = self.nearest(embedding, k, where=where)
        chunks = self.chunks_by_id([chunk_id for chunk_id, _ in hits])
        return [(chunks[chunk_id], score) for chunk_id, score in hits if chunk_id in chunks]


class VersionView(Mapping[str, str]):
    """letter id → version over a map of records, without copying them."""

    def __init__(self, records: Mapping[str, LetterRecord]) -> None:
        self._records = records

    def __getitem__(self, key: str) -> str:
        return self._records[key].version

    def get(self, key: str, default: Any = None) -> Any:
        record = self._records.get(key)
        return record.version if record is not None else default

    def __iter__(self) -> Any:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

