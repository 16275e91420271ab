"""Hybrid retrieval: dense (Chroma) and Chinese BM25, fused by reciprocal rank.

Dense retrieval wins on reworded questions, BM25 on questions that reuse the letter's words;
their scores live on different scales (cosine similarities bunch between 0.85 and 0.95), so
they are fused by rank, not by value. Overlapping chunks of one section (the small overlap
left by chunking) are merged into one passage, so the answer step sees each span once.
`assistant.integrations.llama_index` wraps it as a llama-index retriever for query engines
built outside replyqa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.library import Library, Snapshot
from index.embedding.embedder import Embedder
from index.storage.records import StoredChunk

RRF_K = 60
"""The usual reciprocal-rank constant: top ranks count, but a hit at rank 5 in both lists
still beats a rank-1 hit in one."""


@dataclass(frozen=True)
class Filters:
    """What the user narrowed the search to (the letter browser's facets)."""

    letters: tuple[str, ...] = ()
    issuer: str | None = None
    """A part of the issuer's name (`交通` matches 马关县交通运输局)."""
    year_from: int | None = None
    year_to: int | None = None
    channel: str | None = None
    """`NPC`, `CPPCC` or `other`."""

    @property
    def empty(self) -> bool:
        return not (self.letters or self.issuer or self.year_from or self.year_to or self.channel)

    def allows(self, chunk: StoredChunk) -> bool:
        if self.letters and chunk.letter_id not in self.letters:
            return False
        if self.issuer and self.issuer not in str(chunk.meta.get("issuer", "")):
            return False
        year = int(chunk.meta.get("year", -1))
        if self.year_from and (year < 0 or year < self.year_from):
            return False
        if self.year_to and (year < 0 or year > self.year_to):
            return False
        return not (self.channel and chunk.meta.get("channel") != self.channel)


@dataclass
class Passage:
    """A retrieved span of one letter: one chunk, or overlapping chunks of a section merged."""

    letter_id: str
    start: int
    end: int
    text: str
    score: float
    section_path: list[str]
    section_heading: str
    chunk_ids: list[str] = field(default_factory=list)
    dense_rank: int | None = None
    bm25_rank: int | None = None
    similarity: float = 0.0
    """Cosine similarity of the query and the passage's best chunk (0 when dense retrieval did not
    return it): an absolute measure, unlike the ranks, of how close the question came."""


@dataclass
class Retrieval:
    query: str
    passages: list[Passage]
    snapshot: Snapshot
    query_vector: np.ndarray | None = None
    """The dense embedding of the query, kept for comparing candidate sentences with it."""


def fuse(rankings: list[list[str]], weights: list[float] | None = None, k: int = RRF_K) -> dict[str, float]:
    """Reciprocal-rank fusion: each list adds weight / (k + rank) to every id it holds."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return scores


def retrieve(
    query: str,
    library: Library,
    embedder: Embedder,
    *,
    filters: Filters | None = None,
    prefer_letters: tuple[str, ...] = (),
    top_k: int = 10,
    depth: int = 40,
) -> Retrieval:
    """The best passages for `query`; `prefer_letters` (the letter in focus of a conversation)
    get a bonus of one extra first place, enough to win ties, not to hide better letters."""
    snapshot = library.snapshot()
    filters = filters or Filters()
    if not snapshot.chunks:
        return Retrieval(query, [], snapshot)
    allowed = None if filters.empty else {cid for cid, c in snapshot.chunks.items() if filters.allows(c)}
    if allowed is not None and not allowed:
        return Retrieval(query, [], snapshot)

    where: dict[str, Any] | None = None
    if allowed is not None:
        where = {"letter_id": {"$in": sorted({snapshot.chunks[c].letter_id for c in allowed})}}
    vector = embedder.embed_query(query)
    similarity: dict[str, float] = {}
    for chunk, sim in library.store.query(vector, depth, where=where):
        if chunk.id in snapshot.chunks and (allowed is None or chunk.id in allowed):
            similarity[chunk.id] = sim
    dense = list(similarity)
    sparse = [cid for cid, _ in snapshot.bm25.search(query, depth, allowed_ids=allowed) if cid in snapshot.chunks]
    scores = fuse([dense, sparse])
    if prefer_letters:
        for cid in scores:
            if snapshot.chunks[cid].letter_id in prefer_letters:
                scores[cid] += 1.0 / (RRF_K + 1)
    dense_rank = {cid: i for i, cid in enumerate(dense, start=1)}
    sparse_rank = {cid: i for i, cid in enumerate(sparse, start=1)}
    ranked = sorted(scores, key=lambda cid: (-scores[cid], cid))
    passages = _merge(
        [(snapshot.chunks[cid], scores[cid], dense_rank.get(cid), sparse_rank.get(cid), similarity.get(cid, 0.0))
         for cid in ranked],
        snapshot,
    )
    return Retrieval(query, passages[:top_k], snapshot, vector)


def _merge(
    hits: list[tuple[StoredChunk, float, int | None, int | None, float]], snapshot: Snapshot
) -> list[Passage]:
    """Overlapping or touching chunks of one section become one passage, ranked at its best chunk."""
    passages: list[Passage] = []
    for chunk, score, d_rank, s_rank, sim in hits:
        for p in passages:
            if p.letter_id == chunk.letter_id and p.section_path == chunk.section_path and (
                chunk.start <= p.end and p.start <= chunk.end
            ):
                p.start, p.end = min(p.start, chunk.start), max(p.end, chunk.end)
                p.text = snapshot.letter(p.letter_id).text[p.start:p.end]
                p.chunk_ids.append(chunk.id)
                p.dense_rank = _best(p.dense_rank, d_rank)
                p.bm25_rank = _best(p.bm25_rank, s_rank)
                p.similarity = max(p.similarity, sim)
                break
        else:
            passages.append(Passage(
                letter_id=chunk.letter_id, start=chunk.start, end=chunk.end, text=chunk.text,
                score=score, section_path=list(chunk.section_path), section_heading=chunk.section_heading,
                chunk_ids=[chunk.id], dense_rank=d_rank, bm25_rank=s_rank, similarity=sim,
            ))
    return passages


def _best(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)
