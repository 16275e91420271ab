"""Hybrid retrieval: reciprocal-rank fusion, filters, overlapping chunks merged."""

from __future__ import annotations

import pytest

from assistant.ask.retrieve import RRF_K, Filters, fuse, retrieve
from assistant.service import ReplyQA


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    scores = fuse([["a", "b", "c"], ["b", "a", "d"]])
    # a: 1/61 + 1/62, b: 1/62 + 1/61 -- a tie; c and d appear in one list only.
    assert scores["a"] == pytest.approx(1 / (RRF_K + 1) + 1 / (RRF_K + 2))
    assert scores["a"] == pytest.approx(scores["b"])
    assert scores["c"] == pytest.approx(1 / (RRF_K + 3))
    assert min(scores["a"], scores["b"]) > max(scores["c"], scores["d"])


def test_both_retrievers_contribute(sample_app: ReplyQA) -> None:
    result = retrieve("转供电改直供电节约电费", sample_app.library, sample_app.embedder)
    top = result.passages[0]
    assert top.letter_id == "dc-gx-2020-dh0271"
    assert top.dense_rank is not None and top.bm25_rank is not None


def test_filters_by_letter_issuer_year_and_channel(sample_app: ReplyQA) -> None:
    library, embedder = sample_app.library, sample_app.embedder
    only = retrieve("供水", library, embedder, filters=Filters(letters=("lj-sl-2022-015",)))
    assert {p.letter_id for p in only.passages} == {"lj-sl-2022-015"}
    cppcc = retrieve("供水", library, embedder, filters=Filters(channel="CPPCC"))
    assert cppcc.passages and all(library.snapshot().letters[p.letter_id].channel == "CPPCC" for p in cppcc.passages)
    years = retrieve("供水", library, embedder, filters=Filters(year_from=2024, year_to=2024))
    assert years.passages and all(library.snapshot().letters[p.letter_id].year == 2024 for p in years.passages)
    none = retrieve("供水", library, embedder, filters=Filters(issuer="不存在的单位"))
    assert none.passages == []


def test_overlapping_chunks_of_a_section_come_back_as_one_passage(sample_app: ReplyQA) -> None:
    result = retrieve("青河市农村公路建设养护", sample_app.library, sample_app.embedder, top_k=30)
    for i, a in enumerate(result.passages):
        for b in result.passages[i + 1:]:
            if a.letter_id == b.letter_id and a.section_path == b.section_path:
                assert a.end < b.start or b.end < a.start, "overlapping passages were not merged"
