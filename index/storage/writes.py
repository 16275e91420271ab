"""The store's writes, versioned so that an interrupted ingest never shows a half-indexed letter.

Chunks of a new version are written first under ids that carry the version, then one upsert of
the letter record (the commit point) makes that version visible, then the old version's chunks
are dropped. Whatever a killed run left behind is collected by `collect_garbage`.

Before a letter's chunks are written or removed, a journal entry (letter, version) says so, and
it is deleted once the letter is committed and its old chunks are gone. Garbage can then only be
where the journal points, so collecting it reads a handful of entries instead of every chunk's
metadata. An index written before the journal existed is scanned in full once, then trusted.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
from chromadb.errors import NotFoundError

from index.chunk import Chunk
from index.storage.chroma import get_by_ids
from index.storage.connection import StoreConnection
from index.storage.records import (
    LetterRecord,
    MetaValue,
    StoreError,
    check_letter_meta,
    chunk_metadata,
    record_document,
    record_from_meta,
    record_metadata,
    split_chunk_id,
)

JOURNAL_TRUSTED = "__journal__"
"""The journal entry that says every earlier garbage was collected, so the journal is complete."""
REMOVING = "*"
"""The version a journal entry names while a letter is being removed."""


class StoreWrites(StoreConnection):
    """Writing chunks, committing letters, and removing what no committed record owns."""

    def put_chunks(
        self,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        letter_meta: Mapping[str, MetaValue] | None = None,
        *,
        meta_by_letter: Mapping[str, Mapping[str, MetaValue]] | None = None,
    ) -> None:
        """Write chunks (idempotent). They stay invisible until their letter is committed.

        The chunks may belong to several letters (one upsert is much cheaper than one per
        letter); `meta_by_letter` then gives each letter's filter fields.
        """
        if not chunks:
            return
        vectors = self._check_vectors(embeddings, len(chunks))
        extras = {
            letter_id: check_letter_meta(meta) for letter_id, meta in (meta_by_letter or {}).items()
        }
        default_extra = check_letter_meta(letter_meta or {})
        ids = [chunk.id for chunk in chunks]
        if len(set(ids)) != len(ids):
            raise StoreError("同一批分块中有重复的分块编号。")
        metadatas = [chunk_metadata(chunk, extras.get(chunk.letter_id, default_extra)) for chunk in chunks]
        documents = [chunk.text for chunk in chunks]
        with self._lock:
            self._journal_add(sorted({(chunk.letter_id, chunk.version) for chunk in chunks}))
            step = self.max_batch_size
            for lo in range(0, len(ids), step):
                hi = lo + step
                self._chunks.upsert(
                    ids=ids[lo:hi],
                    embeddings=vectors[lo:hi],
                    documents=documents[lo:hi],
                    metadatas=metadatas[lo:hi],  # type: ignore[arg-type]
                )

    def commit_letter(self, record: LetterRecord, embedding: np.ndarray) -> None:
        """Make `record.version` of the letter visible: the single upsert is the commit point."""
        self.commit_letters([record], np.asarray(embedding).reshape(1, -1))

    def commit_letters(self, records: Sequence[LetterRecord], embeddings: np.ndarray) -> None:
        """Commit several letters with one upsert of their records (all or none become visible).

        Refuses when some version's chunks are not all in the store (an interrupted write, or
        a concurrent `collect_garbage`), so a commit never publishes a partial letter.
        """
        if not records:
            return
        for record in records:
            if record.text is None:
                raise StoreError(f"信件 {record.id} 的记录缺少全文，无法提交。")
        vectors = self._check_vectors(embeddings, len(records))
        with self._lock:
            stored = self._chunks.get(
                where={"letter_id": {"$in": [r.id for r in records]}}, include=["metadatas"]
            )
            counts: dict[tuple[str, str], int] = {}
            for meta in stored["metadatas"] or []:
                if meta is not None:
                    key = (str(meta.get("letter_id")), str(meta.get("version")))
                    counts[key] = counts.get(key, 0) + 1
            for record in records:
                found = counts.get((record.id, record.version), 0)
                if found != record.n_chunks:
                    raise StoreError(
                        f"信件 {record.id}（版本 {record.version}）应有 {record.n_chunks} 个分块，"
                        f"库中只有 {found} 个；未提交，请重新导入该信件。"
                    )
            now = time.time()
            stamped = [record.model_copy(update={"committed_at": now}) for record in records]
            self._letters.upsert(
                ids=[r.id for r in stamped],
                embeddings=vectors,
                documents=[record_document(r) for r in stamped],
                metadatas=[record_metadata(r) for r in stamped],  # type: ignore[arg-type]
            )
            for record in stamped:
                self._put_record(record)

    def add_text_hashes(self, hashes: Mapping[str, str]) -> None:
        """Store the text hash of committed records written before records carried one (their
        version, and so what readers see, is unchanged): found once, not at every ingest."""
        ids = [i for i in hashes if i in self._records]
        step = max(1, self.max_batch_size)
        with self._lock:
            for lo in range(0, len(ids), step):
                batch = ids[lo : lo + step]
                self._letters.update(ids=batch, metadatas=[{"text_hash": hashes[i]} for i in batch])
            for letter_id in ids:
                self._records[letter_id] = self._records[letter_id].model_copy(
                    update={"text_hash": hashes[letter_id]})
            self._saved_generation = -1  # the saved catalog lacks them: saved again at close

    def drop_stale_chunks(self, letter_id: str, keep_version: str) -> int:
        """Delete the letter's chunks of every version but `keep_version`; returns how many."""
        with self._lock:
            found = self._letters.get(ids=[letter_id], include=["metadatas"])
            metas = found["metadatas"] or []
            if metas and metas[0] is not None and metas[0].get("version") != keep_version:
                raise StoreError(
                    f"信件 {letter_id} 已提交的版本是 {metas[0].get('version')}，"
                    f"不能只保留版本 {keep_version} 的分块。"
                )
            stale = [
                chunk_id for chunk_id in self._chunks.get(where={"letter_id": letter_id}, include=[])["ids"]
                if split_chunk_id(chunk_id)[1] != keep_version
            ]
            self._delete_ids(self._chunks, stale)
            return len(stale)

    def finish_letters(self, pairs: Sequence[tuple[str, str]]) -> None:
        """The letters' versions are committed and their old chunks dropped: their journal
        entries go."""
        with self._lock:
            self._delete_ids(self._journal, [_journal_id(letter_id, version) for letter_id, version in pairs])

    def remove_letter(self, letter_id: str) -> bool:
        """Remove a letter: the record goes first, so readers never see it half-removed.

        Returns whether there was anything (record or chunks) to remove.
        """
        with self._lock:
            self._journal_add([(letter_id, REMOVING)])
            existed = bool(self._letters.get(ids=[letter_id], include=[])["ids"])
            self._letters.delete(ids=[letter_id])
            self._drop_record(letter_id)
            chunk_ids = self._chunks.get(where={"letter_id": letter_id}, include=[])["ids"]
            self._delete_ids(self._chunks, chunk_ids)
            self._delete_ids(self._journal, [_journal_id(letter_id, REMOVING)])
            return existed or bool(chunk_ids)

    def collect_garbage(self) -> int:
        """Delete chunks of uncommitted versions (leftovers of interrupted ingests); returns how
        many.

        Brings the catalog up to date (`poll`: what other processes committed), then follows
        the journal, each entry's letter checked against its record as stored now (a full scan
        the first time, for an index older than the journal). Re-reading every record instead
        cost 4 s an ingest at 100 k chunks. Do not run it while another process ingests: that
        ingest's not-yet-committed chunks look like garbage too (its commit would then refuse,
        not publish a partial letter).
        """
        with self._lock:
            self.poll()
            entries = self._journal.get(include=["metadatas"])
            if JOURNAL_TRUSTED not in entries["ids"]:
                self.refresh()
                removed = self._collect_by_scan()
                self._journal.upsert(ids=[JOURNAL_TRUSTED], embeddings=[[0.0]], metadatas=[{"at": time.time()}])
                self._delete_ids(self._journal, [i for i in entries["ids"] if i != JOURNAL_TRUSTED])
                return removed
            journal = [(entry_id, str(meta.get("letter_id", "")))
                       for entry_id, meta in zip(entries["ids"], entries["metadatas"] or [], strict=False)
                       if entry_id != JOURNAL_TRUSTED and meta is not None]
            stored = self._stored_versions([letter_id for _, letter_id in journal])
            removed = 0
            for entry_id, letter_id in journal:
                keep = stored.get(letter_id)
                stale = [
                    chunk_id for chunk_id in self._chunks.get(where={"letter_id": letter_id}, include=[])["ids"]
                    if split_chunk_id(chunk_id)[1] != keep
                ]
                self._delete_ids(self._chunks, stale)
                self._delete_ids(self._journal, [entry_id])
                removed += len(stale)
            return removed

    def _stored_versions(self, letter_ids: Sequence[str]) -> dict[str, str]:
        """Letter id → committed version, read from the records as they are in Chroma now."""
        found = get_by_ids(self._letters, letter_ids, ["metadatas"], self.max_batch_size)
        records = (record_from_meta(letter_id, meta, None) for letter_id, (meta, _, _) in found.items())
        return {record.id: record.version for record in records if record is not None}

    def _collect_by_scan(self) -> int:
        committed = self.committed_versions()
        orphans: list[str] = []
        for ids, _, _ in self._pages(self._chunks, include=[]):
            for chunk_id in ids:
                letter_id, version = split_chunk_id(chunk_id)
                if committed.get(letter_id) != version:
                    orphans.append(chunk_id)
        self._delete_ids(self._chunks, orphans)
        return len(orphans)

    def _journal_add(self, pairs: Sequence[tuple[str, str]]) -> None:
        if not pairs:
            return
        now = time.time()
        ids = [_journal_id(letter_id, version) for letter_id, version in pairs]
        for lo in range(0, len(ids), self.max_batch_size):
            part = pairs[lo : lo + self.max_batch_size]
            self._journal.upsert(
                ids=ids[lo : lo + self.max_batch_size],
                embeddings=[[0.0]] * len(part),
                metadatas=[{"letter_id": letter_id, "version": version, "at": now} for letter_id, version in part],
            )

    def reset(self) -> None:
        """Delete both collections and start empty (for `--rebuild`)."""
        with self._lock:
            for name in (self.chunks_name, self.letters_name, self.journal_name):
                try:
                    self._client.delete_collection(name)
                except NotFoundError:
                    pass
                except Exception as exc:
                    raise StoreError(f"无法删除向量库集合 “{name}”：{exc}") from exc
            self._attach()
            self._set_catalog({})



def _journal_id(letter_id: str, version: str) -> str:
    return f"{letter_id}::{version}"
