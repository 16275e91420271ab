"""Chroma is the single source of truth: chunks and letter records live there, everything else
(BM25, caches) is derived from it and can be rebuilt.

Writes are versioned so that an interrupted ingest never shows a half-indexed letter: chunks of
a new version are written first under ids that carry the version, then one upsert of the
letter record (the commit point) makes that version visible, then the old version's chunks are
dropped. Readers only ever see chunks whose (letter id, version) matches a committed record.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError
from pydantic import BaseModel, ConfigDict, Field

from index.chunk import Chunk
from index.settings import Settings

MetaValue = str | int | float | bool
"""What Chroma accepts as a metadata value and what we use: flat scalars, never None."""

REBUILD_HINT = "replyqa ingest --rebuild <目录>"

_CHUNK_KEYS = frozenset(
    {
        "letter_id",
        "version",
        "ordinal",
        "section_path",
        "section_heading",
        "paragraph",
        "start",
        "end",
        "embed_text",
    }
)
_RECORD_KEYS = (
    "version",
    "source",
    "title",
    "issuer",
    "date",
    "year",
    "channel",
    "n_chunks",
    "content_hash",
    "payload",
)
_COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,400}")
# Chroma 1.5 re-processes every vector written since the last index sync on each write, so with
# its default sync_threshold (1000) a per-letter upsert costs up to ~0.4 s; 100 made ingest of
# 2000 chunks in 50-chunk letters 2.5-3x faster here, with the same query latency.
_SPACE = {"hnsw": {"space": "cosine", "sync_threshold": 100, "batch_size": 100}}


class StoreError(Exception):
    """Anything the store refuses to do; the message is meant for the user (Chinese)."""


class ModelMismatchError(StoreError):
    """Vectors of two different models (or sizes) must never be mixed in one collection."""

    def __init__(
        self,
        collection: str,
        stored_model: str,
        stored_dimension: int | None,
        model_id: str,
        dimension: int,
    ) -> None:
        stored_dim = f"{stored_dimension} 维" if stored_dimension is not None else "维度未知"
        super().__init__(
            f"索引 “{collection}” 是用嵌入模型 {stored_model}（{stored_dim}）建立的，"
            f"当前配置的嵌入模型是 {model_id}（{dimension} 维），两种向量不能混用。"
            f"请用当前模型重建索引：{REBUILD_HINT}；或把嵌入模型设置改回 {stored_model}。"
        )
        self.collection = collection
        self.stored_model = stored_model
        self.stored_dimension = stored_dimension
        self.model_id = model_id
        self.dimension = dimension


class LetterRecord(BaseModel):
    """The committed record of one letter; its presence makes `version` visible."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: str
    source: str
    title: str
    issuer: str = ""
    date: str = ""
    """ISO date, or "" when unknown (Chroma metadata cannot hold None)."""
    year: int = -1
    """-1 when unknown, so that `where={"year": …}` filters stay integer comparisons."""
    channel: str = ""
    n_chunks: int = 0
    content_hash: str = ""
    payload: str = "{}"
    """JSON of the full parsed letter without its text, opaque to the store."""
    text: str | None = None
    """The cleaned full text; None when read without text."""


class StoredChunk(Chunk):
    """A chunk as read back from Chroma, with the caller's per-letter filter fields in `meta`."""

    model_config = ConfigDict(frozen=True)

    meta: dict[str, MetaValue] = Field(default_factory=dict)


class _ExplicitEmbeddingsOnly:
    """Attached to our collection handles so a call without vectors fails at once.

    With `embedding_function=None`, Chroma 1.5 still deserialises its default ONNX embedding
    function from the collection schema and would try to download a model on any call that
    passes text without vectors; offline that hangs on DNS before failing.
    """

    def __call__(self, input: Any) -> Any:  # Chroma checks the parameter is named `input`
        raise StoreError("向量库只接受显式传入的向量，不会自行计算嵌入（离线环境无法下载模型）。")

    def embed_query(self, input: Any) -> Any:
        return self(input)

    @staticmethod
    def name() -> str:
        return "replyqa-explicit-embeddings-only"


class ChunkStore:
    """Chunks and letter records in two Chroma collections, with version-aware reads.

    Not safe to share between ingests running at the same time (see `collect_garbage`);
    safe for readers in other threads, which the internal lock serialises with `refresh()`.
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
    def open(cls, settings: Settings, *, model_id: str, dimension: int) -> ChunkStore:
        if dimension <= 0:
            raise StoreError(f"向量维度必须是正整数，得到 {dimension}。")
        if not _COLLECTION_NAME.fullmatch(settings.collection):
            raise StoreError(
                f"集合名 “{settings.collection}” 无效：只能用英文字母、数字、点、下划线和连字符，"
                "且以字母或数字开头。"
            )
        client = cls._connect(settings)
        try:
            return cls(client, settings, model_id=model_id, dimension=dimension)
        except BaseException:
            _close_client(client)
            raise

    @property
    def is_embedded(self) -> bool:
        return not self._settings.chroma_host

    @staticmethod
    def _connect(settings: Settings) -> ClientAPI:
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if settings.chroma_host:
            try:
                return chromadb.HttpClient(
                    host=settings.chroma_host,
                    port=settings.chroma_port,
                    settings=chroma_settings,
                )
            except Exception as exc:
                raise StoreError(
                    f"无法连接 Chroma 服务器 {settings.chroma_host}:{settings.chroma_port}：{exc}"
                ) from exc
        path = settings.data_dir / "chroma"
        try:
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as exc:
            raise StoreError(f"无法打开本地向量库 {path}：{exc}") from exc

    def _attach(self) -> None:
        """Get or create both collections and check they were built with our model."""
        self._chunks = self._open_collection(self.chunks_name)
        self._letters = self._open_collection(self.letters_name)

    def _open_collection(self, name: str) -> Collection:
        try:
            created = self._create_collection(name)
            meta = created.metadata or {}
            stored_model, stored_dim = meta.get("embed_model"), meta.get("dimension")
            if stored_model != self.model_id or stored_dim != self.dimension:
                if created.count() > 0:
                    raise ModelMismatchError(
                        name,
                        str(stored_model or "未知模型"),
                        int(stored_dim) if isinstance(stored_dim, int | float) else None,
                        self.model_id,
                        self.dimension,
                    )
                # Nothing to mix up yet: start it over for this model (Chroma pins the
                # dimension at the first write, even if everything was deleted since).
                self._client.delete_collection(name)
                self._create_collection(name)
            # Re-fetched with the guard: passing it at creation would persist it in the
            # collection's configuration.
            return self._client.get_collection(
                name,
                embedding_function=_ExplicitEmbeddingsOnly(),  # type: ignore[arg-type]
            )
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"无法打开向量库集合 “{name}”：{exc}") from exc

    def _create_collection(self, name: str) -> Collection:
        return self._client.get_or_create_collection(
            name,
            configuration=dict(_SPACE),  # type: ignore[arg-type]
            metadata={"embed_model": self.model_id, "dimension": self.dimension},
            embedding_function=None,
        )

    def close(self) -> None:
        with self._lock:
            _close_client(self._client)

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
                _close_client(self._client)
                self._client = self._connect(self._settings)
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

    # -- writes --------------------------------------------------------------------------

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
            letter_id: _check_letter_meta(meta) for letter_id, meta in (meta_by_letter or {}).items()
        }
        default_extra = _check_letter_meta(letter_meta or {})
        ids = [chunk.id for chunk in chunks]
        if len(set(ids)) != len(ids):
            raise StoreError("同一批分块中有重复的分块编号。")
        metadatas: list[dict[str, MetaValue]] = [
            {
                "letter_id": chunk.letter_id,
                "version": chunk.version,
                "ordinal": chunk.ordinal,
                "section_path": "/".join(chunk.section_path),
                "section_heading": chunk.section_heading,
                "paragraph": chunk.paragraph,
                "start": chunk.start,
                "end": chunk.end,
                "embed_text": chunk.embed_text,
                **extras.get(chunk.letter_id, default_extra),
            }
            for chunk in chunks
        ]
        documents = [chunk.text for chunk in chunks]
        with self._lock:
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
            metadatas: list[dict[str, MetaValue]] = [
                {key: getattr(record, key) for key in _RECORD_KEYS} for record in records
            ]
            self._letters.upsert(
                ids=[r.id for r in records],
                embeddings=vectors,
                documents=[r.text or "" for r in records],
                metadatas=metadatas,  # type: ignore[arg-type]
            )
            for record in records:
                self._committed[record.id] = record.version

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
            stale = self._chunks.get(
                where={"$and": [{"letter_id": letter_id}, {"version": {"$ne": keep_version}}]},
                include=[],
            )["ids"]
            self._delete_ids(self._chunks, stale)
            return len(stale)

    def remove_letter(self, letter_id: str) -> bool:
        """Remove a letter: the record goes first, so readers never see it half-removed.

        Returns whether there was anything (record or chunks) to remove.
        """
        with self._lock:
            existed = bool(self._letters.get(ids=[letter_id], include=[])["ids"])
            self._letters.delete(ids=[letter_id])
            self._committed.pop(letter_id, None)
            chunk_ids = self._chunks.get(where={"letter_id": letter_id}, include=[])["ids"]
            self._delete_ids(self._chunks, chunk_ids)
            return existed or bool(chunk_ids)

    def collect_garbage(self) -> int:
        """Delete chunks of uncommitted versions (leftovers of interrupted ingests).

        Reads the committed set afresh first. Do not run it while another process ingests:
        that ingest's not-yet-committed chunks look like garbage too (its commit would then
        refuse, not publish a partial letter).
        """
        with self._lock:
            self.refresh()
            committed = dict(self._committed)
            orphans: list[str] = []
            for ids, metas, _ in self._pages(self._chunks, include=["metadatas"]):
                for chunk_id, meta in zip(ids, metas, strict=True):
                    if meta is None or committed.get(str(meta.get("letter_id"))) != meta.get(
                        "version"
                    ):
                        orphans.append(chunk_id)
            self._delete_ids(self._chunks, orphans)
            return len(orphans)

    def reset(self) -> None:
        """Delete both collections and start empty (for `--rebuild`)."""
        with self._lock:
            for name in (self.chunks_name, self.letters_name):
                try:
                    self._client.delete_collection(name)
                except NotFoundError:
                    pass
                except Exception as exc:
                    raise StoreError(f"无法删除向量库集合 “{name}”：{exc}") from exc
            self._attach()
            self._committed = {}

    # -- reads ---------------------------------------------------------------------------

    def letters(self, with_text: bool = False) -> list[LetterRecord]:
        """Committed letter records in id order (read afresh, not from the cached set)."""
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        records: list[LetterRecord] = []
        with self._lock:
            for ids, metas, docs in self._pages(self._letters, include=include):
                for i, letter_id in enumerate(ids):
                    record = _record(letter_id, metas[i], docs[i] if docs else None)
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
        return _record(got["ids"][0], (got["metadatas"] or [None])[0], docs[0])

    def find_by_source(self, source: str, *, with_text: bool = False) -> LetterRecord | None:
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        with self._lock:
            got = self._letters.get(where={"source": source}, include=include)  # type: ignore[arg-type]
        if not got["ids"]:
            return None
        docs = got["documents"] if with_text else None
        return _record(got["ids"][0], (got["metadatas"] or [None])[0], docs[0] if docs else None)

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
                    chunk = _stored_chunk(chunk_id, metas[i], docs[i] if docs else None)
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
                    chunk = _stored_chunk(chunk_id, metas[i], docs[i])
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
        offset = 0
        while True:
            got = collection.get(
                limit=self.max_batch_size,
                offset=offset,
                include=include,  # type: ignore[arg-type]
            )
            ids = got["ids"]
            if not ids:
                return
            metas = got["metadatas"] if got["metadatas"] is not None else [None] * len(ids)
            yield ids, list(metas), got["documents"]
            if len(ids) < self.max_batch_size:
                return
            offset += len(ids)

    def _delete_ids(self, collection: Collection, ids: Sequence[str]) -> None:
        step = self.max_batch_size
        for lo in range(0, len(ids), step):
            collection.delete(ids=list(ids[lo : lo + step]))


def _check_letter_meta(meta: Mapping[str, MetaValue]) -> dict[str, MetaValue]:
    out: dict[str, MetaValue] = {}
    for key, value in meta.items():
        if key in _CHUNK_KEYS:
            raise StoreError(f"信件筛选字段 “{key}” 与分块自身的字段重名。")
        if not isinstance(value, str | int | float | bool) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            raise StoreError(f"信件筛选字段 “{key}” 的值必须是字符串、整数、小数或布尔值。")
        out[key] = value
    return out


def _record(
    letter_id: str, meta: Mapping[str, Any] | None, text: str | None
) -> LetterRecord | None:
    if meta is None or not isinstance(meta.get("version"), str):
        return None
    fields = {key: meta[key] for key in _RECORD_KEYS if key in meta}
    return LetterRecord(id=letter_id, text=text, **fields)


def _stored_chunk(
    chunk_id: str, meta: Mapping[str, Any] | None, text: str | None
) -> StoredChunk | None:
    """None for entries an embedded index still returns after another process deleted them."""
    if meta is None or text is None:
        return None
    path = str(meta.get("section_path", ""))
    chunk = StoredChunk(
        letter_id=meta["letter_id"],
        version=meta["version"],
        ordinal=meta["ordinal"],
        section_path=path.split("/") if path else [],
        section_heading=meta.get("section_heading", ""),
        paragraph=meta.get("paragraph", 0),
        start=meta["start"],
        end=meta["end"],
        text=text,
        embed_text=meta.get("embed_text", text),
        meta={key: value for key, value in meta.items() if key not in _CHUNK_KEYS},
    )
    if chunk.id != chunk_id:
        raise StoreError(f"分块 {chunk_id} 的元数据与其编号不符（应为 {chunk.id}），请用 --rebuild 重建索引。")
    return chunk


def _close_client(client: ClientAPI) -> None:
    close = getattr(client, "close", None)
    if callable(close):
        close()
