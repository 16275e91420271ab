"""A batch of prepared letters, embedded, written and committed: chunks first, then the letter
records (the commit point), then the old versions dropped (see `index.storage.store`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from index.chunk import Chunk
from index.duplicates import Letter, text_hash
from index.embedding.embedder import Embedder
from index.reading.letter import ReplyLetter
from index.storage.records import LetterRecord, MetaValue
from index.storage.store import ChunkStore

Status = Literal["added", "updated", "unchanged", "duplicate", "failed", "removed"]


@dataclass
class Prepared:
    path: Path
    letter: ReplyLetter
    version: str
    chunks: list[Chunk]
    status: Status
    replaces: list[Letter] = field(default_factory=list)
    """Letters with the same text whose files are gone: removed once this one is committed."""


def letter_meta(letter: ReplyLetter) -> dict[str, MetaValue]:
    return {
        "issuer": letter.issuer or "",
        "year": letter.year or -1,
        "channel": letter.channel,
        "date": letter.date or "",
    }


def letter_record(item: Prepared) -> LetterRecord:
    letter = item.letter
    return LetterRecord(
        id=letter.id,
        version=item.version,
        source=str(item.path.resolve()),
        title=letter.display_title,
        issuer=letter.issuer or "",
        date=letter.date or "",
        year=letter.year or -1,
        channel=letter.channel,
        n_chunks=len(item.chunks),
        content_hash=item.version,
        text_hash=text_hash(letter.body),
        payload=letter.model_dump_json(exclude={"text"}),
        text=letter.text,
    )


def write_batch(
    batch: list[Prepared], store: ChunkStore, embedder: Embedder, on_batch: Callable[[int], None] | None = None
) -> None:
    chunks = [c for item in batch for c in item.chunks]
    vectors = embedder.embed_documents([c.embed_text for c in chunks], on_batch=on_batch)
    store.put_chunks(
        chunks, vectors, meta_by_letter={item.letter.id: letter_meta(item.letter) for item in batch}
    )
    letter_vectors = []
    pos = 0
    for item in batch:
        mean = vectors[pos:pos + len(item.chunks)].mean(axis=0)
        letter_vectors.append(mean / (np.linalg.norm(mean) or 1.0))
        pos += len(item.chunks)
    store.commit_letters([letter_record(item) for item in batch], np.stack(letter_vectors))
    for item in batch:
        if item.status == "updated":
            store.drop_stale_chunks(item.letter.id, item.version)
    store.finish_letters([(item.letter.id, item.version) for item in batch])
