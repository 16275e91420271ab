"""The `--baseline` of `replyqa eval`: llama-index's default pipeline over the same letters.

What a team gets out of the box: `SentenceSplitter` with llama-index's defaults over each letter's
cleaned text, a `VectorStoreIndex` in an in-memory `SimpleVectorStore`, `similarity_top_k=5`, and
no LLM (only the retriever is used, so `Settings.llm` is never touched). The embedding model is
ours, through a small adapter that keeps its query/passage prompts, and the text is the same cleaned
text (`index.reading.letter.parse_file`): the comparison is about chunking, retrieval and answering, not
about the model or HTML cleaning.

Its "answer" is always found; the text is the top node's text, the citations and the retrieved list
are the top-5 nodes (quotes cut to 300 characters). It has no conversation handling — llama-index's
default condense-question chat engine needs an LLM — so follow-ups are searched as asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.indices.vector_store.base import VectorStoreIndex
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import Document, NodeWithScore, TextNode
from llama_index.core.storage.storage_context import StorageContext
from llama_index.core.vector_stores.simple import SimpleVectorStore
from pydantic import PrivateAttr

from assistant.ask.answer import Answer, RetrievedItem
from assistant.ask.citation import Citation, make_citation
from index.embedding.embedder import Embedder
from index.reading.letter import ReplyLetter, parse_file

TOP_K = 5
QUOTE_CHARS = 300
LETTER_KEY = "letter"


class EmbedderAdapter(BaseEmbedding):
    """llama-index's embedding interface over our `Embedder`: queries get the model's query
    prompt and nodes its passage prompt, exactly as in our own index (e5 needs both)."""

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs: Any) -> None:
        super().__init__(model_name=embedder.model_id, embed_batch_size=embedder.batch_size, **kwargs)
        self._embedder = embedder

    @classmethod
    def class_name(cls) -> str:
        return "ReplyQAEmbedderAdapter"

    def _get_query_embedding(self, query: str) -> Embedding:
        return [float(x) for x in self._embedder.embed_query(query)]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return [[float(x) for x in row] for row in self._embedder.embed_documents(list(texts))]


class BaselineQA:
    """Answers like `ReplyQA.ask_with_history`, so the evaluation runner scores both alike."""

    def __init__(self, index: VectorStoreIndex, letters: dict[str, ReplyLetter]) -> None:
        self.letters = letters
        self.retriever = index.as_retriever(similarity_top_k=TOP_K)

    @classmethod
    def build(cls, embedder: Embedder, letters: Sequence[ReplyLetter]) -> BaselineQA:
        documents = [
            Document(
                text=letter.text,
                metadata={LETTER_KEY: letter.id},
                # the letter id is bookkeeping, not content: keep it out of the embedded text
                excluded_embed_metadata_keys=[LETTER_KEY],
                excluded_llm_metadata_keys=[LETTER_KEY],
            )
            for letter in letters
            if letter.text.strip()
        ]
        nodes = SentenceSplitter().get_nodes_from_documents(documents)
        index = VectorStoreIndex(
            nodes,
            embed_model=EmbedderAdapter(embedder),
            storage_context=StorageContext.from_defaults(vector_store=SimpleVectorStore()),
        )
        return cls(index, {letter.id: letter for letter in letters})

    def ask_with_history(self, question: str, history: Sequence[str] = (), **_: Any) -> Answer:
        started = time.perf_counter()
        hits = self.retriever.retrieve(question)
        retrieved = [self._item(hit) for hit in hits]
        citations = [self._citation(n, hit) for n, hit in enumerate(hits, start=1)]
        return Answer(
            question=question,
            query=question,
            found=True,
            text=hits[0].node.get_content() if hits else "",
            citations=citations,
            retrieved=retrieved,
            mode="baseline",
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    def close(self) -> None:
        """Nothing to release (in memory); here so the runner treats both systems alike."""

    # -- nodes → our models --------------------------------------------------------------------
    def _span(self, hit: NodeWithScore) -> tuple[ReplyLetter, int, str]:
        node = hit.node
        letter = self.letters[str(node.metadata[LETTER_KEY])]
        text = node.get_content()
        start = node.start_char_idx if isinstance(node, TextNode) else None
        if start is None:
            start = max(letter.text.find(text), 0)
        return letter, start, text

    def _item(self, hit: NodeWithScore) -> RetrievedItem:
        letter, start, text = self._span(hit)
        citation = make_citation(0, letter, start, start + len(text))
        return RetrievedItem(
            letter=letter.id, title=letter.display_title, section=citation.section, text=text,
            start=start, end=start + len(text), score=round(float(hit.score or 0.0), 6),
        )

    def _citation(self, n: int, hit: NodeWithScore) -> Citation:
        letter, start, text = self._span(hit)
        quote = text[:QUOTE_CHARS]
        citation = make_citation(n, letter, start, start + len(quote))
        # the node's own text, which may differ from the letter's span in whitespace
        return citation.model_copy(update={"quote": quote})


def letters_of(records: Sequence[tuple[str, str]], fallback: Callable[[str], ReplyLetter | None]) -> list[ReplyLetter]:
    """The indexed letters, parsed again from their sources (`index.reading.letter.parse_file`) under
    their index ids; `fallback(id)` (the indexed copy) for a source that has gone."""
    letters: list[ReplyLetter] = []
    for letter_id, source in records:
        path = Path(source)
        letter: ReplyLetter | None = None
        if path.is_file():
            try:
                letter = parse_file(path, letter_id=letter_id)
            except Exception:  # an unreadable source: the indexed copy is the same text
                letter = None
        if letter is None:
            letter = fallback(letter_id)
        if letter is not None:
            letters.append(letter)
    return letters
