"""A batch of prepared letters, embedded, written and committed: chunks first, then the letter
records (the commit point), then the old versions dropped (see `index.storage.store`).

Each letter's sentences are embedded in the same pass as its chunks and stored with its record
(`index.sentence_vectors`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from index.chunk import Chunk
from index.duplicates import Letter, text_hash
from index.embedding.embedder import Embedder
from index.reading.letter import ReplyLetter
from index.sentence_vectors import PAYLOAD_KEY, SentenceVectors, sentence_vectors
from index.sentences import letter_sentences
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


def letter_record(item: Prepared, sentences: SentenceVectors | None = None) -> LetterRecord:
    letter = item.letter
    payload = letter.model_dump(mode="json", exclude={"text"})
    if sentences is not None:
        payload[PAYLOAD_KEY] = sentences.to_json()
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
        text_hash=text_hash(letter.text),
        payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        text=letter.text,
    )


def write_batch(
    batch: list[Prepared], store: ChunkStore, embedder: Embedder, on_batch: Callable[[int], None] | None = None
) -> None:
    chunks = [c for item in batch for c in item.chunks]
    spans = [letter_sentences(item.letter) for item in batch]
    sentences = [item.letter.text[a:b] for item, found in zip(batch, spans, strict=True) for a, b in found]
    texts = [c.embed_text for c in chunks] + sentences
    # Progress is told in chunks, whatever else is embedded with them.
    told = _Prorated(len(chunks), len(texts), on_batch) if on_batch else None
    embedded = embedder.embed_documents(texts, on_batch=told)
    vectors, sentence_rows = embedded[:len(chunks)], embedded[len(chunks):]
    store.put_chunks(
        chunks, vectors, meta_by_letter={item.letter.id: letter_meta(item.letter) for item in batch}
    )
    letter_vectors = []
    pos = 0
    for item in batch:
        mean = vectors[pos:pos + len(item.chunks)].mean(axis=0)
        letter_vectors.append(mean / (np.linalg.norm(mean) or 1.0))
        pos += len(item.chunks)
    records, pos = [], 0
    for item, found in zip(batch, spans, strict=True):
        records.append(letter_record(item, sentence_vectors(found, sentence_rows[pos:pos + len(found)])))
        pos += len(found)
    store.commit_letters(records, np.stack(letter_vectors))
    for item in batch:
        if item.status == "updated":
            store.drop_stale_chunks(item.letter.id, item.version)
    store.finish_letters([(item.letter.id, item.version) for item in batch])


class _Prorated:
    """An embedding callback told texts, passing on chunks (rounded, never past the total)."""

    def __init__(self, chunks: int, texts: int, tell: Callable[[int], None]) -> None:
        self.chunks, self.texts, self.tell = chunks, max(1, texts), tell
        self.done = self.passed = 0

    def __call__(self, n: int) -> None:
        self.done += n
        due = min(self.chunks, self.chunks * self.done // self.texts)
        if due > self.passed:
            self.tell(due - self.passed)
            self.passed = due


