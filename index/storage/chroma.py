"""Chroma itself: the client (embedded, or a `chroma run` server), our two collections opened
for one embedding model, and reads and deletes done page by page within Chroma's batch limit.
Nothing here knows about versions or commits; `index.storage.connection` builds on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from index.settings import Settings
from index.storage.faults import disk_full_message, fault_message, unreachable_message
from index.storage.records import ModelMismatchError, StoreError
from index.storage.space import release_reserve

_COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,400}")
# Chroma 1.5 re-processes every vector written since the last index sync on each write, so with
# its default sync_threshold (1000) a per-letter upsert costs up to ~0.4 s; 100 made ingest of
# 2000 chunks in 50-chunk letters 2.5-3x faster here, with the same query latency.
_SPACE = {"hnsw": {"space": "cosine", "sync_threshold": 100, "batch_size": 100}}


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


def close_client(client: ClientAPI) -> None:
    """`close` is looked up, not assumed: not every Chroma client type has one."""
    close = getattr(client, "close", None)
    if callable(close):
        close()


def check_collection_name(name: str) -> None:
    """Refused before connecting: Chroma's own error for a bad name does not say what is allowed."""
    if not _COLLECTION_NAME.fullmatch(name):
        raise StoreError(
            f"集合名 “{name}” 无效：只能用英文字母、数字、点、下划线和连字符，"
            "且以字母或数字开头。"
        )


def connect(settings: Settings) -> ClientAPI:
    """The `chroma run` server when the settings name one, else the embedded Chroma in the data
    directory; telemetry off either way (the tool runs offline)."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                settings=chroma_settings,
            )
        except Exception as exc:
            raise StoreError(unreachable_message(settings)) from exc
    path = settings.data_dir / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        message = fault_message(exc, settings)
        if message == disk_full_message(settings) and release_reserve(settings):
            _forget_failed_system(str(path))
            try:  # the reserve's space is what sqlite needs to open: the index answers again
                return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            except Exception as again:
                raise StoreError(fault_message(again, settings) or f"无法打开本地向量库 {path}：{again}") from again
        raise StoreError(message or f"无法打开本地向量库 {path}：{exc}") from exc


def _forget_failed_system(identifier: str) -> None:
    """Chroma keeps the system of a client that failed to start and hands it out again, broken,
    to the next client of that path; dropped when no client holds it (private state, looked up)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    systems = getattr(SharedSystemClient, "_identifier_to_system", None)
    counts = getattr(SharedSystemClient, "_identifier_to_refcount", {})
    if isinstance(systems, dict) and not counts.get(identifier):
        systems.pop(identifier, None)


def open_collection(client: ClientAPI, name: str, *, model_id: str, dimension: int) -> Collection:
    """Get or create the collection and check it was built with this model; an empty one made
    for another model is started over."""
    try:
        created = _create_collection(client, name, model_id=model_id, dimension=dimension)
        meta = created.metadata or {}
        stored_model, stored_dim = meta.get("embed_model"), meta.get("dimension")
        if stored_model != model_id or stored_dim != dimension:
            if created.count() > 0:
                raise ModelMismatchError(
                    name,
                    str(stored_model or "未知模型"),
                    int(stored_dim) if isinstance(stored_dim, int | float) else None,
                    model_id,
                    dimension,
                )
            # Nothing to mix up yet: start it over for this model (Chroma pins the
            # dimension at the first write, even if everything was deleted since).
            client.delete_collection(name)
            _create_collection(client, name, model_id=model_id, dimension=dimension)
        # Re-fetched with the guard: passing it at creation would persist it in the
        # collection's configuration.
        return client.get_collection(
            name,
            embedding_function=_ExplicitEmbeddingsOnly(),  # type: ignore[arg-type]
        )
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"无法打开向量库集合 “{name}”：{exc}") from exc


def _create_collection(client: ClientAPI, name: str, *, model_id: str, dimension: int) -> Collection:
    return client.get_or_create_collection(
        name,
        configuration=dict(_SPACE),  # type: ignore[arg-type]
        metadata={"embed_model": model_id, "dimension": dimension},
        embedding_function=None,
    )


def open_journal(client: ClientAPI, name: str) -> Collection:
    """The ingest journal: which letter versions are being written or removed right now (see
    `index.storage.writes`). Its entries carry no meaning as vectors; Chroma still wants one,
    so each gets the same one-dimensional vector."""
    try:
        client.get_or_create_collection(
            name,
            configuration={"hnsw": {"space": "l2"}},  # type: ignore[arg-type]
            metadata={"replyqa": "journal"},
            embedding_function=None,
        )
        return client.get_collection(name, embedding_function=_ExplicitEmbeddingsOnly())  # type: ignore[arg-type]
    except Exception as exc:
        raise StoreError(f"无法打开向量库集合 “{name}”：{exc}") from exc


def get_by_ids(
    collection: Collection, ids: Sequence[str], include: list[str], batch_size: int
) -> dict[str, tuple[Any, Any, Any]]:
    """id → (metadata, document, embedding) for the ids that exist, in batches; Chroma returns
    them in its own order, so they are keyed by id."""
    out: dict[str, tuple[Any, Any, Any]] = {}
    unique = list(dict.fromkeys(ids))
    for lo in range(0, len(unique), batch_size):
        got = collection.get(ids=unique[lo : lo + batch_size], include=include)  # type: ignore[arg-type]
        metas = got.get("metadatas")
        docs = got.get("documents")
        embeddings = got.get("embeddings")
        for i, found in enumerate(got["ids"]):
            out[found] = (
                metas[i] if metas is not None else None,
                docs[i] if docs is not None else None,
                embeddings[i] if embeddings is not None else None,
            )
    return out


def pages(
    collection: Collection,
    include: list[str],
    page_size: int,
    where: dict[str, Any] | None = None,
) -> Iterator[tuple[list[str], list[Any], list[Any] | None]]:
    """Everything in the collection (or what `where` selects), `page_size` entries per `get`
    (Chroma caps one call)."""
    offset = 0
    while True:
        got = collection.get(
            where=where,  # type: ignore[arg-type]
            limit=page_size,
            offset=offset,
            include=include,  # type: ignore[arg-type]
        )
        ids = got["ids"]
        if not ids:
            return
        metas = got["metadatas"] if got["metadatas"] is not None else [None] * len(ids)
        yield ids, list(metas), got["documents"]
        if len(ids) < page_size:
            return
        offset += len(ids)


def delete_ids(collection: Collection, ids: Sequence[str], batch_size: int) -> None:
    """In batches: Chroma refuses a delete of more ids than its batch limit."""
    for lo in range(0, len(ids), batch_size):
        collection.delete(ids=list(ids[lo : lo + batch_size]))
