"""replyqa's retrieval as a llama-index retriever, for query engines built outside replyqa.

A llama-index user who already has an LLM, prompts or agents can search replyqa's index —
section-aligned chunks, dense + Chinese BM25 fused by rank, the same filters as the page —
and get back nodes whose text is the exact span of the letter, whose `start_char_idx` /
`end_char_idx` point into the letter's cleaned text, and whose metadata carry what a
citation needs (letter id, title, issuer, date, section and the draft-ready reference):

    from llama_index.core.query_engine import RetrieverQueryEngine
    from assistant.integrations.llama_index import ReplyQARetriever
    from assistant.service import ReplyQA
    from index.settings import Settings

    qa = ReplyQA.open(Settings())
    engine = RetrieverQueryEngine.from_args(ReplyQARetriever(qa, top_k=5), llm=my_llm)
    response = engine.query("2019年山东全省建成多少5G基站？")

The retriever does not answer and does not check what an LLM writes from the nodes; replyqa's
own answer paths (`assistant.ask`) do both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from assistant.ask.citation import reference_text, section_at
from assistant.ask.retrieve import Filters, Passage, retrieve
from assistant.library import Snapshot

if TYPE_CHECKING:
    from assistant.service import ReplyQA


def passage_node(passage: Passage, snapshot: Snapshot) -> NodeWithScore:
    letter = snapshot.letter(passage.letter_id)
    section = section_at(letter, passage.start, passage.end)
    key = section.key if section else "正文"
    node = TextNode(
        id_=f"{passage.letter_id}:{passage.start}-{passage.end}",
        text=passage.text,
        start_char_idx=passage.start,
        end_char_idx=passage.end,
        metadata={
            "letter_id": letter.id,
            "title": letter.display_title,
            "issuer": letter.issuer or "",
            "date": letter.date or "",
            "section": key,
            "heading": passage.section_heading,
            "reference": reference_text(letter.display_title, letter.date, key),
        },
        excluded_embed_metadata_keys=["letter_id", "section", "reference"],
        excluded_llm_metadata_keys=["letter_id", "section"],
    )
    return NodeWithScore(node=node, score=passage.score)


class ReplyQARetriever(BaseRetriever):
    """`assistant.ask.retrieve.retrieve` over an open `ReplyQA`, as a llama-index retriever."""

    def __init__(self, qa: ReplyQA, *, filters: Filters | None = None, top_k: int = 10) -> None:
        super().__init__()
        self._qa = qa
        self._filters = filters
        self._top_k = top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        result = retrieve(
            query_bundle.query_str, self._qa.library, self._qa.embedder, filters=self._filters, top_k=self._top_k
        )
        return [passage_node(p, result.snapshot) for p in result.passages]
