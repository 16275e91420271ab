"""`EmbeddingWorker`: the real model in a real child process gives the vectors the model gives
in process, to several threads at once, and says in Chinese when it cannot load."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from index.embedding.embedder import Embedder
from index.embedding.errors import EmbedModelError
from index.embedding.worker import EmbeddingWorker, planned_identity
from index.settings import DEFAULT_EMBED_MODEL, Settings

QUESTIONS = ["农村公路养护资金怎么安排的？", "学校周边交通安全", "停车难问题如何解决", "老旧小区加装电梯"]


def test_worker_gives_the_vectors_of_the_model_in_process(
    embedder: Embedder, export_dir: Path, models_dir: Path
) -> None:
    worker = EmbeddingWorker(Settings(data_dir=models_dir.parent / "data", models_dir=models_dir))
    try:
        # Known before the model is loaded, so that the index can be opened meanwhile.
        assert (worker.model_id, worker.dimension) == (embedder.model_id, embedder.dimension)
        assert worker.precision == embedder.precision
        for question in QUESTIONS:
            np.testing.assert_allclose(worker.embed_query(question), embedder.embed_query(question), atol=1e-6)
        heard: list[int] = []
        passages = [q * (n + 1) for n, q in enumerate(QUESTIONS)] * 5
        vectors = worker.embed_documents(passages, on_batch=heard.append)
        np.testing.assert_allclose(vectors, embedder.embed_documents(passages), atol=1e-6)
        assert sum(heard) == len(passages) and len(heard) >= 1

        answers: dict[int, np.ndarray] = {}

        def asker(n: int) -> None:
            answers[n] = worker.embed_query(QUESTIONS[n % len(QUESTIONS)])

        threads = [threading.Thread(target=asker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(answers) == list(range(8)), "every thread got its answer"
        for n, vector in answers.items():
            np.testing.assert_allclose(vector, embedder.embed_query(QUESTIONS[n % len(QUESTIONS)]), atol=1e-6)
    finally:
        worker.close()
    assert not worker._process.is_alive(), "close stops the model's process"


def test_a_model_that_cannot_load_is_said_on_use(tmp_path: Path) -> None:
    (tmp_path / "empty-folder").mkdir()
    worker = EmbeddingWorker(Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models",
                                      embed_model=str(tmp_path / "empty-folder")))
    try:
        with pytest.raises(EmbedModelError, match="不是可用的"):
            worker.embed_query("预热")
        with pytest.raises(EmbedModelError, match="嵌入模型未能加载"):
            _ = worker.precision
    finally:
        worker.close()
    assert not worker._process.is_alive()


def test_planned_identity_reads_the_dimension_without_the_model(export_dir: Path, models_dir: Path,
                                                                tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", models_dir=models_dir)
    assert planned_identity(settings) == (DEFAULT_EMBED_MODEL, 384)
    folder_model = Settings(data_dir=tmp_path / "data", models_dir=models_dir, embed_model=str(export_dir))
    assert planned_identity(folder_model) == (str(export_dir.resolve()), 384)
    unknown = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "none", embed_model="org/not-here")
    assert planned_identity(unknown) == ("org/not-here", None)
