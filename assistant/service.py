"""The services the command line and the page share: one object per process holding the
loaded model and the open index, so that everything the page can do, a script can do too."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant.answer import (
    Answer,
    Calibration,
    Evidence,
    answer_from_evidence,
    dense_rescue,
    gather_evidence,
    leads,
    not_found_text,
    rerank,
    retrieved_items,
)
from assistant.chat import Rewrite, Turn, rewrite_rules
from assistant.library import Library
from assistant.question import Question, analyse, question_kind
from assistant.retrieve import Filters, Retrieval, retrieve
from index.embedding.embedder import Embedder, load_embedder
from index.pipeline import FileResult, IngestReport, Progress, ingest, remove
from index.reading.letter import ReplyLetter
from index.settings import Settings
from index.storage.records import LetterRecord
from index.storage.store import ChunkStore


class ReplyQA:
    """State that is expensive to build (the embedding model, the Chroma client) lives here."""

    def __init__(
        self, settings: Settings, embedder: Embedder, store: ChunkStore, calibration: Calibration | None = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.library = Library(settings, store)
        self.calibration = calibration or Calibration()

    @classmethod
    def open(cls, settings: Settings) -> ReplyQA:
        embedder = load_embedder(settings)
        store = ChunkStore.open(settings, model_id=embedder.model_id, dimension=embedder.dimension)
        return cls(settings, embedder, store)

    def close(self) -> None:
        self.store.close()

    # -- the index ---------------------------------------------------------------------------
    def ingest(
        self,
        paths: Sequence[Path],
        *,
        prune: bool = False,
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        return ingest(
            paths, self.settings, self.store, self.embedder,
            prune=prune, rebuild=rebuild, progress=progress,
        )

    def letters(self) -> list[LetterRecord]:
        self.store.refresh()
        return self.store.letters()

    def letter(self, letter_id: str) -> ReplyLetter | None:
        """The whole parsed letter (fields, cleaned text, section tree) as indexed."""
        return self.library.snapshot().letters.get(letter_id)

    def remove(self, letter_ids: Sequence[str]) -> list[FileResult]:
        return remove(letter_ids, self.settings, self.store)

    # -- questions ---------------------------------------------------------------------------
    def _specific(self, word: str) -> bool:
        """A word found in only a few letters: naming it says which letters a question is about."""
        return 1 <= self.library.snapshot().letter_count(word) <= 3

    def ask(self, question: str, history: Sequence[Turn] = (), *, filters: Filters | None = None) -> Answer:
        if self.settings.llm_enabled:  # imported here: the openai client is not loaded without an LLM
            from assistant.llm import ask_llm

            return ask_llm(self, question, history, filters=filters)
        return self._ask_extractive(question, history, filters=filters)

    def examine(
        self, question: str, history: Sequence[Turn] = (), *, filters: Filters | None = None
    ) -> tuple[Rewrite, Question, Retrieval, list[Evidence]]:
        """Everything an extractive answer is decided from (also for looking into a bad answer)."""
        tokenizer = self.library.tokenizer
        rewrite = rewrite_rules(question, list(history), tokenizer, self._specific)
        listing = question_kind(rewrite.query) == "list"
        retrieval = retrieve(
            rewrite.query, self.library, self.embedder, filters=filters, prefer_letters=rewrite.prefer_letters,
            top_k=30 if listing else 10,
        )
        analysed = analyse(
            rewrite.query, tokenizer, kind=rewrite.kind, asked=rewrite.asked, required=rewrite.required
        )
        evidence = gather_evidence(
            analysed, retrieval, tokenizer, self.calibration, focus_letters=rewrite.prefer_letters,
            focus_cited=rewrite.prefer_cited,
        )
        return rewrite, analysed, retrieval, evidence

    def _ask_extractive(
        self, question: str, history: Sequence[Turn] = (), *, filters: Filters | None = None
    ) -> Answer:
        started = time.perf_counter()
        rewrite, analysed, retrieval, evidence = self.examine(question, history, filters=filters)
        found, text, citations = answer_from_evidence(
            analysed, retrieval, evidence, self.calibration, self.library.tokenizer
        )
        if not found:
            rescued = dense_rescue(analysed, retrieval, evidence, self.calibration, self.embedder.embed_documents)
            if rescued is not None:
                found, text, citations = answer_from_evidence(
                    analysed, retrieval, [rescued], self.calibration, self.library.tokenizer
                )
        answer = Answer(
            question=question,
            query=rewrite.query,
            found=found,
            text=text,
            citations=citations,
            leads=[] if found else leads(retrieval),
            retrieved=retrieved_items(retrieval, rerank(retrieval, evidence)),
            kind=analysed.kind,
        )
        if not found:
            answer.text = not_found_text(answer.leads)
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        return answer

    def stream(
        self, question: str, history: Sequence[Turn] = (), *, filters: Filters | None = None
    ) -> Iterator[str | Answer]:
        """Text as it is produced, then the finished `Answer` (with its checked citations) last.

        Extractive answers are ready at once and come in one piece per cited sentence; with an
        LLM the pieces are its tokens.
        """
        if self.settings.llm_enabled:
            from assistant.llm import stream_llm

            yield from stream_llm(self, question, history, filters=filters)
            return
        answer = self.ask(question, history, filters=filters)
        pieces = re.split(r"(?<=\])", answer.text) if answer.found else [answer.text]
        for piece in pieces:
            if piece:
                yield piece
        yield answer

    def turn_of(self, answer: Answer) -> Turn:
        """What a follow-up needs of this turn; an unanswered turn still keeps its best lead in
        focus, since the next question is usually about the same letter."""
        letters = tuple(dict.fromkeys(c.letter for c in answer.citations)) or tuple(
            lead.letter for lead in answer.leads[:1]
        )
        cited = tuple((c.letter, c.start) for c in answer.citations)
        return Turn(question=answer.question, query=answer.query, kind=answer.kind,  # type: ignore[arg-type]
                    letters=letters, cited=cited)

    def ask_with_history(self, question: str, history: Sequence[str], *, filters: Filters | None = None) -> Answer:
        """For `replyqa ask --history`: earlier questions are asked again to know the topic
        and the letter in focus, as in a live conversation."""
        turns: list[Turn] = []
        for earlier in history:
            turns.append(self.turn_of(self.ask(earlier, turns, filters=filters)))
        return self.ask(question, turns, filters=filters)
