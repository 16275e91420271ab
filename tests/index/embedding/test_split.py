"""`SplitEmbedder`, what every process embeds with: questions without torch, documents by torch
loaded on the first of them, several page threads at once; and a user's model of another
architecture keeps the torch path for both.

Real model and real torch; no mocks.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from index.embedding.embedder import Embedder, load_embedder
from index.embedding.query_encoder import QueryEncoder
from index.embedding.split import SplitEmbedder, open_embedder
from index.settings import DEFAULT_EMBED_MODEL
from tests.index.embedding.test_query_encoder import QUESTIONS, _settings, _variant


def test_traditional_script_is_simplified_as_torch_does(export_dir: Path, models_dir: Path) -> None:
    settings = _settings(models_dir, embed_simplified=True)
    split = open_embedder(settings)
    assert isinstance(split, SplitEmbedder)
    torch32 = load_embedder(settings)
    for question in ("鼓山湖區域周邊公廁已選址于麗晶華庭小區嗎", "關於加強科技創新推進山東省5G產業佈局的建議"):
        assert float(split.embed_query(question) @ torch32.embed_query(question)) >= 0.9999
    assert not split.documents_loaded, "questions alone never load torch"


def test_documents_load_torch_on_first_use_and_match_it(export_dir: Path, models_dir: Path) -> None:
    split = open_embedder(_settings(models_dir))
    assert isinstance(split, SplitEmbedder)
    assert (split.model_id, split.dimension) == (DEFAULT_EMBED_MODEL, 384)
    assert (split.query_prompt, split.document_prompt) == ("query: ", "passage: ")
    assert split.embed_documents([]).shape == (0, 384) and not split.documents_loaded
    passages = ["农村公路养护资金由省市县三级共同承担。", "2019年全省共建成5G基站超1万个。"]
    heard: list[int] = []
    vectors = split.embed_documents(passages, on_batch=heard.append)
    assert split.documents_loaded and sum(heard) == 2
    np.testing.assert_allclose(vectors, load_embedder(_settings(models_dir)).embed_documents(passages), atol=1e-6)
    split.close()


def test_several_threads_get_the_vectors_one_gets(export_dir: Path, models_dir: Path) -> None:
    """The page answers several questions at once: the encoder is loaded once, under a lock,
    and the one-BLAS-thread limit is shared, not undone by whichever thread ends first."""
    from threadpoolctl import threadpool_info

    def blas_threads() -> list[int]:
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    split = open_embedder(_settings(models_dir))
    got: dict[int, np.ndarray] = {}
    start = threading.Barrier(8)

    def ask(n: int) -> None:
        start.wait()
        for _ in range(3):
            got[n] = split.embed_query(QUESTIONS[n])

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    alone = QueryEncoder(export_dir)
    assert sorted(got) == list(range(8))
    for n, vector in got.items():
        np.testing.assert_allclose(vector, alone.encode(QUESTIONS[n]), atol=1e-6)
    assert blas_threads() == before, "the limit is lifted after the last question, not kept or lost"


def test_a_folder_of_another_architecture_keeps_the_torch_path(export_dir: Path, tmp_path: Path) -> None:
    folder = _variant(export_dir, tmp_path / "cls", pooling={"pooling_mode_mean_tokens": False,
                                                             "pooling_mode_cls_token": True})
    settings = _settings(tmp_path / "models", embed_model=str(folder))
    chosen = open_embedder(settings)
    assert isinstance(chosen, Embedder), type(chosen)
    np.testing.assert_allclose(chosen.embed_query("停车难问题如何解决"),
                               load_embedder(settings).embed_query("停车难问题如何解决"), atol=1e-6)


def test_the_model_process_is_given_back_when_idle_and_comes_back_for_the_next_upload(
    export_dir: Path, models_dir: Path,
) -> None:
    """`serve`'s documents go to a process holding ~1.1 GB: gone after `idle_release_s`
    without documents, started again (same vectors) for the next."""
    import multiprocessing
    import time

    from index.embedding.worker import EmbeddingWorker

    def model_processes() -> list[str]:
        return [p.name for p in multiprocessing.active_children() if p.name == "replyqa-embedder"]

    split = open_embedder(_settings(models_dir), documents=EmbeddingWorker, idle_release_s=1.0)
    passages = ["农村公路养护资金由省市县三级共同承担。"]
    try:
        first = split.embed_documents(passages)
        assert model_processes() and split.documents_loaded
        deadline = time.monotonic() + 60
        while split.documents_loaded and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not split.documents_loaded
        deadline = time.monotonic() + 15
        while model_processes() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not model_processes()
        np.testing.assert_allclose(split.embed_documents(passages), first, atol=1e-6)
        assert model_processes()
    finally:
        split.close()
    assert not model_processes()
