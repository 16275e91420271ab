"""The index as a catalogue of letters — list, search, read, remove — without the embedding
model, the tokenizer or the answer model.

`replyqa letters` and `replyqa remove` use it alone and start in about a second (chromadb's
own import is most of it);
`assistant.service.ReplyQA` holds one over its own store, so the page lists and searches
letters the same way. Nothing here imports torch, sentence-transformers or gradio.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.settings import Settings
from index.storage.browse import letter_texts, letters_containing, open_existing
from index.storage.corrections import Correction, delete_correction, get_correction
from index.storage.faults import translated
from index.storage.records import LetterRecord
from index.storage.store import ChunkStore

if TYPE_CHECKING:
    from index.pipeline import FileResult


@dataclass(frozen=True)
class Entry:
    """One letter as a list shows it: its record and the fields of its parsed payload a reader
    looks for (the suggestion answered, who asked, its numbers)."""

    record: LetterRecord
    suggestion_title: str = ""
    addressee: str = ""
    doc_number: str = ""
    number: str = ""
    session: str = ""

    @property
    def id(self) -> str:
        return self.record.id


def entry_of(record: LetterRecord) -> Entry:
    try:
        data = json.loads(record.payload or "{}")
    except ValueError:
        data = {}

    def field(key: str) -> str:
        value = data.get(key)
        return str(value) if value else ""

    return Entry(record, field("suggestion_title"), field("addressee"), field("doc_number"), field("number"),
                 field("session"))


class Catalog:
    """Reads and removals over one open store (which it does not own unless it opened it)."""

    def __init__(self, settings: Settings, store: ChunkStore | None, *, owns_store: bool = False) -> None:
        self.settings = settings
        self.store = store
        self._owns = owns_store

    @classmethod
    def open(cls, settings: Settings) -> Catalog:
        """The index as it was built, whatever model the settings name now; an empty catalogue
        when there is no index yet (none is created)."""
        return cls(settings, open_existing(settings), owns_store=True)

    def close(self) -> None:
        if self._owns and self.store is not None:
            self.store.close()

    def letters(self) -> list[LetterRecord]:
        if self.store is None:
            return []
        with translated(self.settings):
            self.store.refresh()
            return self.store.letters()

    def entries(self) -> list[Entry]:
        """With each letter's parsed payload (lean records do not carry it)."""
        if self.store is None:
            return []
        with translated(self.settings):
            self.store.refresh()
            return [entry_of(r) for r in self.store.letters(with_text=True)]

    def containing(self, phrase: str) -> set[str]:
        """Letters whose text holds the phrase (Chroma's full-text filter)."""
        return letters_containing(self.store, phrase) if self.store is not None else set()

    def texts(self, letter_ids: Sequence[str]) -> dict[str, str]:
        return letter_texts(self.store, letter_ids) if self.store is not None else {}

    def correction(self, letter_id: str) -> Correction | None:
        return get_correction(self.store, letter_id) if self.store is not None else None

    def remove(self, letter_ids: Sequence[str]) -> list[FileResult]:
        """Remove letters and forget their corrections (a letter added again later is read afresh).
        The pipeline (and the reading stages it imports) is loaded only here: listing needs neither."""
        from index.pipeline import FileResult, remove

        if self.store is None:
            return [FileResult(i, "failed", i, reason="索引中没有这封答复") for i in letter_ids]
        with translated(self.settings):
            results = remove(letter_ids, self.settings, self.store)
        for r in results:
            if r.status == "removed" and r.letter_id:
                delete_correction(self.store, r.letter_id)
        return results
