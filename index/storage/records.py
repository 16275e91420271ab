"""What the store holds and how it is written as Chroma metadata: a letter's committed record,
a chunk as read back with its filter fields, the errors the store raises (their messages are
for users), and the conversions between these and Chroma's flat metadata.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from index.chunk import Chunk

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
"""A chunk's own metadata keys; everything else in a chunk's metadata is its letter's filter fields."""
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
    "text_hash",
    "committed_at",
)
"""The `LetterRecord` fields kept as metadata of the letter's entry: the lean part, which every
process reads for every letter when it opens the store (what is committed, and the fields the
filters and lists need)."""

LAYOUT = 2
"""How a letter's entry is laid out. 2: lean metadata, and the document is the payload (one line
of JSON) then a newline then the text, so that opening the store never reads the section trees.
1 (indexes written before): the payload in the metadata and the text as the document; still
read, and rewritten in layout 2 when the letter is next committed."""


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
    text_hash: str = ""
    """A hash of the cleaned text (`index.duplicates.text_hash`): the same letter under another
    file name is found by it without reading any text; "" in records written before it existed."""
    committed_at: float = 0.0
    """When the record was committed (the writer's clock, seconds since the epoch): how readers
    in other processes find what changed without reading every record (`StoreConnection.poll`)."""
    payload: str | None = None
    """JSON of the full parsed letter without its text, opaque to the store; read with the text
    (`letters(with_text=True)`, `letter(id)`), None in the lean records."""
    text: str | None = None
    """The cleaned full text; None when read without text."""

    def chunk_ids(self) -> list[str]:
        """The ids of the committed version's chunks, known without asking Chroma."""
        return [chunk_id(self.id, self.version, ordinal) for ordinal in range(self.n_chunks)]


class StoredChunk(Chunk):
    """A chunk as read back from Chroma, with the caller's per-letter filter fields in `meta`."""

    model_config = ConfigDict(frozen=True)

    meta: dict[str, MetaValue] = Field(default_factory=dict)


def chunk_id(letter_id: str, version: str, ordinal: int) -> str:
    """As `Chunk.id` spells it: the id alone says which letter and version a chunk belongs to."""
    return f"{letter_id}::{version}::{ordinal:04d}"


def split_chunk_id(value: str) -> tuple[str, str]:
    """(letter id, version) of a chunk id; ("", "") for anything else."""
    letter_id, sep, rest = value.partition("::")
    version, sep2, _ = rest.partition("::")
    return (letter_id, version) if sep and sep2 else ("", "")


def chunk_metadata(chunk: Chunk, letter_meta: Mapping[str, MetaValue]) -> dict[str, MetaValue]:
    """Chroma metadata is flat: the section path is stored joined with `/`, and the letter's
    filter fields sit beside the chunk's own keys so that `where` filters can use them."""
    return {
        "letter_id": chunk.letter_id,
        "version": chunk.version,
        "ordinal": chunk.ordinal,
        "section_path": "/".join(chunk.section_path),
        "section_heading": chunk.section_heading,
        "paragraph": chunk.paragraph,
        "start": chunk.start,
        "end": chunk.end,
        "embed_text": chunk.embed_text,
        **letter_meta,
    }


def record_metadata(record: LetterRecord) -> dict[str, MetaValue]:
    meta: dict[str, MetaValue] = {key: getattr(record, key) for key in _RECORD_KEYS}
    meta["layout"] = LAYOUT
    return meta


def record_document(record: LetterRecord) -> str:
    """Layout 2: the payload's one line of JSON, a newline, the text."""
    payload = record.payload or "{}"
    if "\n" in payload:
        raise StoreError(f"信件 {record.id} 的附加数据不是单行 JSON。")
    return f"{payload}\n{record.text or ''}"


def check_letter_meta(meta: Mapping[str, MetaValue]) -> dict[str, MetaValue]:
    """A letter's filter fields, refused when one would overwrite a chunk's own key or is not a
    value Chroma can filter on."""
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


def record_from_meta(
    letter_id: str, meta: Mapping[str, Any] | None, document: str | None
) -> LetterRecord | None:
    """None for an entry without a version: it is no committed record. Without the document
    (a lean read) payload and text stay None."""
    if meta is None or not isinstance(meta.get("version"), str):
        return None
    fields = {key: meta[key] for key in _RECORD_KEYS if key in meta}
    payload: str | None = None
    text: str | None = None
    if "payload" in meta:  # layout 1
        payload = str(meta["payload"]) if document is not None else None
        text = document
    elif document is not None:
        payload, _, text = document.partition("\n")
    return LetterRecord(id=letter_id, payload=payload, text=text, **fields)


def stored_chunk_from_meta(
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

