"""The services the command line and the page share: one object per process holding the
loaded model, the open index and the process's one tokenizer, so that everything the page can
do, a script can do too.

`ReplyQA.open` builds the components once; questions go through the one answer path,
`assistant.ask.pipeline`, with those components passed explicitly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.ask import pipeline
from assistant.ask.answer import Answer
from assistant.ask.calibration import Calibration
from assistant.ask.conversation import Turn, turn_of
from assistant.ask.retrieve import Filters
from assistant.catalog import Catalog
from assistant.library import Library
from index.corrections import rewrite_letter
from index.embedding.embedder import Embedder
from index.embedding.split import SplitEmbedder, open_embedder
from index.pipeline import FileResult, IngestReport, Progress, Reading, ingest
from index.reading.letter import ReplyLetter
from index.settings import Settings
from index.storage.cachefiles import default_cache_dir
from index.storage.faults import translated, translated_stream
from index.storage.records import LetterRecord
from index.storage.store import ChunkStore
from index.tokenizer import ChineseTokenizer

if TYPE_CHECKING:
    from index.embedding.worker import EmbeddingWorker

log = logging.getLogger(__name__)


class ReplyQA:
    """State that is expensive to build (the embedding model, the Chroma client, the jieba
    dictionary) lives here."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: ChunkStore,
        tokenizer: ChineseTokenizer,
        *,
        calibration: Calibration | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.tokenizer = tokenizer
        self.library = Library(settings, store, tokenizer)
        self.catalog = Catalog(settings, store)
        llm = None
        if settings.llm_enabled:  # imported here: the openai client is not loaded without an LLM
            from assistant.ask.llm.client import make_llm

            llm = make_llm(settings)
        self.asking = pipeline.Asking(settings, self.library, embedder, calibration or Calibration.load(), llm)

    @classmethod
    def open(cls, settings: Settings, *, calibration: Calibration | None = None,
             embedder: Embedder | EmbeddingWorker | SplitEmbedder | None = None) -> ReplyQA:
        """`embedder` when the model is loaded some other way (`replyqa serve`'s, whose
        documents go to an `EmbeddingWorker`); by default questions are embedded without torch
        and documents by torch in this process, loaded on the first one (`open_embedder`)."""
        embedder = embedder or open_embedder(settings)
        with translated(settings):
            store = ChunkStore.open(settings, model_id=embedder.model_id, dimension=embedder.dimension)
        tokenizer = ChineseTokenizer(bigrams=settings.bm25_bigrams, cache_dir=default_cache_dir(settings))
        return cls(settings, embedder, store, tokenizer, calibration=calibration)

    def close(self) -> None:
        self.library.close()
        self.store.close()
        self.embedder.close()

    def watch(self) -> None:
        """Keep up, in the background, with what other processes commit (for the page)."""
        self.library.watch()

    def warm_up(self) -> None:
        """Read the index and run the model once, so the first question does not wait for it."""
        try:
            self.library.snapshot()
            self.embedder.embed_query("预热")
            self.tokenizer.words("预热")
        except Exception:  # the first question will meet the same problem and report it
            log.exception("warming up failed")

    # -- the index ---------------------------------------------------------------------------
    def ingest(
        self,
        paths: Sequence[Path],
        *,
        prune: bool = False,
        rebuild: bool = False,
        progress: Progress | None = None,
        on_read: Reading | None = None,
    ) -> IngestReport:
        with translated(self.settings):
            report = ingest(
                paths, self.settings, self.store, self.embedder,
                prune=prune, rebuild=rebuild, progress=progress, on_read=on_read,
            )
        self._caught_up()
        return report

    def _caught_up(self) -> None:
        """Read-your-writes: what this process just wrote is what its next read shows, even
        while the background watcher is rebuilding the snapshot. A process that has read
        nothing yet (a one-off `replyqa ingest`) builds nothing: its first read will."""
        if self.library.has_snapshot:
            self.library.snapshot(wait=True)

    def letters(self) -> list[LetterRecord]:
        """The committed letters' lean records in id order (what other processes committed
        included, as far as a cheap look at the store shows)."""
        with translated(self.settings):
            self.store.poll()
            return self.library.records()

    def letter(self, letter_id: str) -> ReplyLetter | None:
        """The whole parsed letter (fields, cleaned text, section tree) as indexed."""
        with translated(self.settings):
            snapshot = self.library.snapshot()
            return snapshot.letter(letter_id) if snapshot.has_letter(letter_id) else None

    def remove(self, letter_ids: Sequence[str]) -> list[FileResult]:
        """Remove letters (and the corrections made to them)."""
        results = self.catalog.remove(letter_ids)
        self._caught_up()
        return results

    def reparse(self, letter_id: str) -> FileResult:
        """Read the letter's source file again, as `ingest` of that file does (its correction
        kept): "unchanged" when neither the file nor the way it is read has changed."""
        record = self.store.letter(letter_id)
        if record is None:
            return FileResult(letter_id, "failed", letter_id, reason="索引中没有这封答复")
        source = Path(record.source)
        if not source.is_file():
            return FileResult(record.source, "failed", letter_id, reason=f"源文件 {source} 已不存在，无法重新解析")
        report = self.ingest([source])
        return report.results[0] if report.results else FileResult(record.source, "unchanged", letter_id)

    def correct(self, letter_id: str, values: dict[str, str | None]) -> FileResult:
        """Correct the letter's title, issuer or date (empty values: as parsed); kept across
        re-ingests of its source and shown as corrected."""
        result = rewrite_letter(letter_id, values, self.settings, self.store, self.embedder)
        self._caught_up()
        return result

    def withdraw_correction(self, letter_id: str) -> FileResult:
        """Back to the fields as parsed."""
        result = rewrite_letter(letter_id, None, self.settings, self.store, self.embedder)
        self._caught_up()
        return result

    # -- questions ---------------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[Turn] = (), *, filters: Filters | None = None) -> Answer:
        with translated(self.settings):
            return pipeline.ask(self.asking, question, history, filters=filters)

    def stream(
        self, question: str, history: Sequence[Turn] = (), *, filters: Filters | None = None
    ) -> Iterator[str | Answer]:
        """Text as it is produced, then the finished `Answer` last (see `pipeline.stream_answer`)."""
        return translated_stream(pipeline.stream_answer(self.asking, question, history, filters=filters), self.settings)

    def examine(
        self, question: str, history: Sequence[Turn] = (), *, filters: Filters | None = None
    ) -> pipeline.Examination:
        """Everything an extractive answer is decided from (for looking into a bad answer)."""
        with translated(self.settings):
            return pipeline.examine(self.asking, question, history, filters=filters)

    def turn_of(self, answer: Answer) -> Turn:
        return turn_of(answer)

    def ask_with_history(self, question: str, history: Sequence[str], *, filters: Filters | None = None) -> Answer:
        with translated(self.settings):
            return pipeline.ask_with_history(self.asking, question, history, filters=filters)
