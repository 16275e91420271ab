"""replyqa's retrieval plugged into a llama-index query engine, as the README shows a user doing."""

from __future__ import annotations

from llama_index.core.llms.mock import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine

from assistant.ask.retrieve import Filters
from assistant.integrations.llama_index import ReplyQARetriever
from assistant.service import ReplyQA


def test_a_query_engine_answers_from_exact_spans_with_their_references(sample_app: ReplyQA) -> None:
    engine = RetrieverQueryEngine.from_args(ReplyQARetriever(sample_app, top_k=3), llm=MockLLM())
    response = engine.query("转供电改直供电能节约多少电费？")
    top = response.source_nodes[0]
    assert top.node.metadata["letter_id"] == "dc-gx-2020-dh0271"
    letter = sample_app.letter("dc-gx-2020-dh0271")
    assert letter is not None
    start, end = top.node.start_char_idx, top.node.end_char_idx
    assert start is not None and end is not None
    assert letter.text[start:end] == top.node.get_content()
    assert top.node.metadata["reference"].startswith(f"《{letter.display_title}》")
    # MockLLM echoes its prompt: the model was given the passage and its title, not the ids.
    assert top.node.get_content()[:20] in str(response)
    assert letter.display_title in str(response)
    assert "dc-gx-2020-dh0271" not in str(response)


def test_the_retriever_keeps_replyqa_s_filters(sample_app: ReplyQA) -> None:
    only = ReplyQARetriever(sample_app, filters=Filters(letters=("lj-sl-2022-015",)), top_k=5)
    nodes = only.retrieve("供水")
    assert nodes and {n.node.metadata["letter_id"] for n in nodes} == {"lj-sl-2022-015"}
