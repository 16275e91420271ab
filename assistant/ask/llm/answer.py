"""Answers written by an LLM (any OpenAI-compatible endpoint), checked sentence by sentence.

The model sees the top retrieved passages as numbered sources (one passage per source, number
= rank) and must cite each sentence with `[k]`. Its reply is streamed to the caller as it comes,
then parsed into sentences, and each sentence is verified against the source(s) it cites
(`assistant.ask.facts`: its numbers, dates, titles and names must be in the cited passage or in
that letter's title/issuer/date); `checking` says what happens to a sentence that fails.
"""

from __future__ import annotations

from collections.abc import Iterator

from llama_index.llms.openai_like import OpenAILike

from assistant.ask.answer import Answer
from assistant.ask.llm.checking import build_answer
from assistant.ask.llm.client import stream_reply
from assistant.ask.llm.prompts import answer_messages
from assistant.ask.llm.sources import make_sources
from assistant.ask.retrieve import Retrieval
from index.tokenizer import ChineseTokenizer

MAX_SOURCES = 6
"""Passages given to the model; more dilutes its attention more than it adds recall."""


class LLMFailed(Exception):
    """The endpoint failed while answering; `streamed` says whether any text had gone out."""

    def __init__(self, cause: Exception, *, streamed: bool) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.streamed = streamed


def stream_llm_answer(
    llm: OpenAILike,
    *,
    question: str,
    query: str,
    asked: str,
    retrieval: Retrieval,
    tokenizer: ChineseTokenizer,
    kind: str,
) -> Iterator[str | Answer]:
    """The model's text as it arrives, then the checked `Answer`; `LLMFailed` if the endpoint
    fails (the caller falls back to the extractive answer). `asked` is what the model is asked:
    the standalone query for a follow-up, the question as typed otherwise."""
    sources = make_sources(retrieval.passages[:MAX_SOURCES], retrieval.snapshot, tokenizer)
    reply = ""
    if sources:
        try:
            for delta in stream_reply(llm, answer_messages(asked, sources)):
                reply += delta
                yield delta
        except Exception as exc:
            raise LLMFailed(exc, streamed=bool(reply)) from exc
    yield build_answer(
        reply, question=question, query=query, retrieval_passages=retrieval.passages, sources=sources,
        snapshot=retrieval.snapshot, tokenizer=tokenizer, kind=kind,
    )
