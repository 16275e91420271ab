"""Reads for browsing the index as a catalogue of letters, none of which needs the embedding
model: opening an index as it was built, full-text search in the letters' cleaned text, and the
texts of the few letters a page shows.

`open_existing` reads the model id and dimension an index was built with from its own letters
collection, so `replyqa letters` or `remove` start in about a second instead of loading torch
and the model to learn what the index already says (and never create an index that is not
there). The full-text search is Chroma's own document filter (`$contains`) on the letters
collection, whose documents are the letters' cleaned texts.
"""

from __future__ import annotations

from collections.abc import Sequence

from chromadb.errors import NotFoundError

from index.settings import Settings
from index.storage.chroma import _ExplicitEmbeddingsOnly, check_collection_name, close_client, connect
from index.storage.records import StoreError
from index.storage.store import ChunkStore


def open_existing(settings: Settings) -> ChunkStore | None:
    """The index with the model it was built with; None when there is none yet."""
    check_collection_name(settings.collection)
    if not settings.chroma_host and not (settings.data_dir / "chroma").is_dir():
        return None  # connecting would create an empty database
    client = connect(settings)
    try:
        try:
            letters = client.get_collection(
                f"{settings.collection}-letters", embedding_function=_ExplicitEmbeddingsOnly()  # type: ignore[arg-type]
            )
        except (NotFoundError, ValueError):
            close_client(client)
            return None
        meta = letters.metadata or {}
        model_id, dimension = meta.get("embed_model"), meta.get("dimension")
        if not isinstance(model_id, str) or not isinstance(dimension, int | float):
            raise StoreError(f"索引 “{settings.collection}” 没有记录建立它的嵌入模型，请重建索引。")
        return ChunkStore(client, settings, model_id=model_id, dimension=int(dimension))
    except BaseException:
        close_client(client)
        raise


def letters_containing(store: ChunkStore, phrase: str) -> set[str]:
    """Committed letters whose cleaned text contains `phrase` as written."""
    if not phrase:
        return set()
    # A letter's document is its payload (JSON of its fields and section tree) then its text:
    # an ASCII phrase can match the payload's keys and numbers (start, end), so its hits are
    # read and checked against the text itself.
    ascii_only = phrase.isascii()
    with store._lock:
        got = store._letters.get(where_document={"$contains": phrase}, include=["documents"] if ascii_only else [])
    committed = store.committed_versions()
    if not ascii_only:
        return {letter_id for letter_id in got["ids"] if letter_id in committed}
    return {
        letter_id for letter_id, document in zip(got["ids"], got["documents"] or [], strict=True)
        if letter_id in committed and phrase in _text_part(document or "")
    }


def _text_part(document: str) -> str:
    """The text of a letter's document (layout 2: payload line, newline, text)."""
    head, sep, text = document.partition("\n")
    return text if sep and head.startswith("{") else document


def letter_texts(store: ChunkStore, letter_ids: Sequence[str]) -> dict[str, str]:
    """The cleaned texts of these letters (one read, however many)."""
    if not letter_ids:
        return {}
    return {i: record.text or "" for i, record in store.letters_by_id(list(letter_ids)).items()}
