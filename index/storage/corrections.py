"""Field corrections made by staff (a missing issuer, a wrong date or title), kept in Chroma — the
index's single source of truth — in a collection of their own beside the chunks and the letter
records, so that `ingest --rebuild` (which resets those two) keeps them, and every process over
the same Chroma sees the same corrections.

One entry per letter id: the corrected values, what the parser had said, and the source file it
was made for (a correction is never applied to another file that later takes the same id).
`corrected` and `corrected_version` are how the pipeline applies one to a freshly parsed letter;
saving one and rewriting its letter is `index.corrections`.
The entries carry a one-dimensional placeholder vector: Chroma stores nothing without one, and
nothing ever searches this collection by vector.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chromadb.api.models.Collection import Collection
from chromadb.errors import NotFoundError
from pydantic import BaseModel, Field

from index.storage.chroma import _ExplicitEmbeddingsOnly
from index.storage.records import StoreError
from index.storage.store import ChunkStore

if TYPE_CHECKING:  # the reading stages are not loaded just to list letters (`replyqa letters`)
    from index.reading.letter import ReplyLetter

CORRECTABLE = ("title", "issuer", "date")
"""The fields staff may correct, as `ReplyLetter` names them."""


class Correction(BaseModel):
    letter_id: str
    source: str
    values: dict[str, str] = Field(default_factory=dict)
    """Field → the value staff gave (never empty: an empty value means "as parsed")."""
    original: dict[str, str | None] = Field(default_factory=dict)
    """Field → what the parser had found, for showing the field as corrected."""
    updated: str = ""


def applies(correction: Correction | None, source: str) -> bool:
    return correction is not None and bool(correction.values) and correction.source == source


def corrected(letter: ReplyLetter, correction: Correction | None) -> ReplyLetter:
    """The letter with the correction's values in place of the parsed ones."""
    if not applies(correction, letter.source):
        return letter
    assert correction is not None
    return letter.model_copy(update=dict(correction.values))


def corrected_version(version: str, correction: Correction | None, source: str) -> str:
    """A content version that also says which correction was applied."""
    if not applies(correction, source):
        return version
    assert correction is not None
    recipe = "|".join(f"{k}={correction.values[k]}" for k in sorted(correction.values))
    return hashlib.sha256(f"{version}|corrected|{recipe}".encode()).hexdigest()[:16]


def _name(store: ChunkStore) -> str:
    return f"{store.letters_name.removesuffix('-letters')}-corrections"


def _collection(store: ChunkStore, *, create: bool) -> Collection | None:
    """Looked up on every call: `ChunkStore.refresh` may have reconnected the client."""
    client = store._client  # the store's own connection, so both see one Chroma
    guard = _ExplicitEmbeddingsOnly()
    try:
        if create:
            client.get_or_create_collection(_name(store), metadata={"kind": "corrections"}, embedding_function=None)
        return client.get_collection(_name(store), embedding_function=guard)  # type: ignore[arg-type]
    except NotFoundError:
        return None
    except Exception as exc:
        raise StoreError(f"无法打开字段更正集合 “{_name(store)}”：{exc}") from exc


def load_corrections(store: ChunkStore) -> dict[str, Correction]:
    """Every correction, by letter id."""
    with store._lock:
        collection = _collection(store, create=False)
        if collection is None:
            return {}
        got = collection.get(include=["documents"])  # type: ignore[list-item]
    out: dict[str, Correction] = {}
    for letter_id, doc in zip(got["ids"], got["documents"] or [], strict=False):
        if doc:
            out[letter_id] = Correction.model_validate(json.loads(doc))
    return out


def get_correction(store: ChunkStore, letter_id: str) -> Correction | None:
    with store._lock:
        collection = _collection(store, create=False)
        if collection is None:
            return None
        got = collection.get(ids=[letter_id], include=["documents"])  # type: ignore[list-item]
    docs = got["documents"] or []
    return Correction.model_validate(json.loads(docs[0])) if docs and docs[0] else None


def put_correction(
    store: ChunkStore, letter_id: str, source: str, values: Mapping[str, str], original: Mapping[str, str | None]
) -> Correction:
    """Store (replacing) the letter's correction; fields not in `CORRECTABLE` are refused."""
    unknown = set(values) - set(CORRECTABLE)
    if unknown:
        raise StoreError(f"不能更正这些字段：{'、'.join(sorted(unknown))}")
    correction = Correction(
        letter_id=letter_id, source=source, values={k: v for k, v in values.items() if v},
        original={k: original.get(k) for k in values}, updated=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    with store._lock:
        collection = _collection(store, create=True)
        assert collection is not None
        collection.upsert(
            ids=[letter_id], embeddings=[[1.0]], documents=[correction.model_dump_json()],
            metadatas=[{"source": source, "updated": correction.updated}],
        )
    return correction


def delete_correction(store: ChunkStore, letter_id: str) -> bool:
    """Whether there was one."""
    with store._lock:
        collection = _collection(store, create=False)
        if collection is None:
            return False
        existed = bool(collection.get(ids=[letter_id], include=[])["ids"])
        if existed:
            collection.delete(ids=[letter_id])
    return existed
