"""The torch embedding model in a process of its own, so that the page never imports torch.

Importing torch, transformers and sentence-transformers and loading the model take ~12 s and
~1.1 GB, and almost all of it holds the interpreter lock: in a thread of the page's process it
would only take turns with the page's own work. For the default model the page embeds
questions itself without torch (`index.embedding.split`) and starts this process on the first
upload or correction; for a model the light encoder does not compute, it starts with the page
and answers questions too. `EmbeddingWorker` has the `Embedder` interface; questions and
documents are sent over a pipe and answered by threads of the worker (a question is never
stuck behind an upload's documents).

Its model id and dimension are known before the model is (from the settings and the model
folder), so the index can be opened meanwhile; the worker checks them once loaded.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import multiprocessing
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding.errors import EmbedModelError
from index.settings import DEFAULT_EMBED_MODEL, Settings

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 600.0


def planned_identity(settings: Settings) -> tuple[str, int | None]:
    """(model id, dimension) the embedder for these settings will have; the dimension is None
    when it cannot be read without loading the model (a model not exported yet, a hub name)."""
    name = settings.embed_model
    if name == DEFAULT_EMBED_MODEL:
        folder = settings.model_store / DEFAULT_EMBED_MODEL
        model_id = DEFAULT_EMBED_MODEL
    else:
        path = Path(name).expanduser()
        folder = path.resolve() if path.is_dir() else None
        model_id = str(folder) if folder else name
    return model_id, (_folder_dimension(folder) if folder else None)


def _folder_dimension(folder: Path) -> int | None:
    """What sentence-transformers reports as the sentence dimension, from the folder's module
    configs: the last Dense layer's output, else the pooling's input width."""
    try:
        modules = json.loads((folder / "modules.json").read_text("utf-8"))
        for module in reversed(modules):
            kind, path = str(module.get("type", "")), folder / str(module.get("path", ""))
            if kind.endswith("Dense"):
                return int(json.loads((path / "config.json").read_text("utf-8"))["out_features"])
            if kind.endswith("Pooling"):
                config = json.loads((path / "config.json").read_text("utf-8"))
                return int(config["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return None


def _serve(settings: Settings, conn: Connection) -> None:
    """The worker process: load the model, say so, then answer requests until told to stop."""
    try:
        from index.embedding.embedder import load_embedder

        embedder = load_embedder(settings)
    except Exception as exc:
        conn.send((0, "error", f"{type(exc).__name__}: {exc}" if not isinstance(exc, EmbedModelError) else str(exc)))
        return
    conn.send((0, "ready", {"model_id": embedder.model_id, "dimension": embedder.dimension,
                            "precision": embedder.precision, "batch_size": embedder.batch_size,
                            "query_prompt": embedder.query_prompt, "document_prompt": embedder.document_prompt}))
    sending = threading.Lock()

    def reply(request: int, kind: str, value: Any) -> None:
        with sending:
            conn.send((request, kind, value))

    def work(request: int, op: str, payload: Any) -> None:
        try:
            if op == "query":
                reply(request, "ok", embedder.embed_query(payload))
            else:
                reply(request, "ok", embedder.embed_documents(payload, on_batch=lambda n: reply(request, "batch", n)))
        except Exception as exc:
            reply(request, "error", f"{type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="embed") as pool:
        while True:
            try:
                request, op, payload = conn.recv()
            except (EOFError, OSError):
                return
            if op == "stop":
                return
            pool.submit(work, request, op, payload)


class EmbeddingWorker:
    """An `Embedder` whose model runs in a child process (see the module's docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.model_id, planned = planned_identity(settings)
        self._planned_dimension = planned
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(settings, child), name="replyqa-embedder", daemon=True)
        self._process.start()
        child.close()
        self._ids = itertools.count(1)
        self._waiting: dict[int, queue.SimpleQueue[tuple[str, Any]]] = {}
        self._lock = threading.Lock()
        self._loaded = threading.Event()
        self._info: dict[str, Any] | None = None
        self._failure: str | None = None
        self._reader = threading.Thread(target=self._read, name="replyqa-embedder-reader", daemon=True)
        self._reader.start()

    # -- what Embedder has ----------------------------------------------------------------

    @property
    def dimension(self) -> int:
        if self._info is None and self._planned_dimension is not None:
            return self._planned_dimension
        return int(self._ready()["dimension"])

    @property
    def precision(self) -> str:
        return str(self._ready()["precision"])

    @property
    def batch_size(self) -> int:
        return int(self._ready()["batch_size"])

    @property
    def query_prompt(self) -> str:
        return str(self._ready()["query_prompt"])

    @property
    def document_prompt(self) -> str:
        return str(self._ready()["document_prompt"])

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._call("query", text), dtype=np.float32)

    def embed_documents(self, texts: list[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        return np.asarray(self._call("documents", list(texts), on_batch), dtype=np.float32)

    def close(self) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            self._conn.send((0, "stop", None))
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()

    # -- the pipe ---------------------------------------------------------------------------

    def _ready(self) -> dict[str, Any]:
        """The loaded model's facts, waiting for them the first time."""
        if not self._loaded.wait(READY_TIMEOUT_S):
            raise EmbedModelError(f"嵌入模型 {READY_TIMEOUT_S:.0f} 秒内没有加载完成。")
        if self._info is None:
            raise EmbedModelError(f"嵌入模型未能加载：{self._failure}")
        return self._info

    def _loaded_with(self, kind: str, value: Any) -> None:
        if kind == "ready" and self._planned_dimension not in (None, value["dimension"]):
            kind, value = "error", f"维度是 {value['dimension']}，而模型文件夹的配置写的是 {self._planned_dimension}"
        if kind == "ready":
            self._info = value
        else:
            self._failure = str(value)
        self._loaded.set()

    def _call(self, op: str, payload: Any, on_batch: Callable[[int], None] | None = None) -> Any:
        self._ready()
        answers: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        with self._lock:
            if self._failure:
                raise EmbedModelError(self._failure)
            request = next(self._ids)
            self._waiting[request] = answers
            self._conn.send((request, op, payload))
        try:
            while True:
                kind, value = answers.get()
                if kind == "batch":
                    if on_batch:
                        on_batch(int(value))
                    continue
                if kind == "error":
                    raise EmbedModelError(f"嵌入模型出错：{value}")
                return value
        finally:
            with self._lock:
                self._waiting.pop(request, None)

    def _read(self) -> None:
        while True:
            try:
                request, kind, value = self._conn.recv()
            except (EOFError, OSError):
                break
            if request == 0:
                self._loaded_with(kind, value)
                continue
            with self._lock:
                waiting = self._waiting.get(request)
            if waiting is not None:
                waiting.put((kind, value))
        with self._lock:
            self._failure = self._failure or "嵌入模型进程已退出。"
            for waiting in self._waiting.values():
                waiting.put(("error", "嵌入模型进程已退出"))
        self._loaded.set()
