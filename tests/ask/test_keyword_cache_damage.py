"""The keyword-index caches (BM25, the word index, jieba's dictionary cache — memory-mapped files
beside the index, derived from Chroma) damaged or deleted between two runs: the next process
gives the same answers, citations and retrieved passages as with intact caches, raises nothing,
and leaves intact caches behind. Real embedded Chroma, real model, our fictional sample letters.

The index is first built in one state (A) and then changed (a letter removed, one edited, one
added: state B), so that a cache left over from A is a real "cache that disagrees with Chroma".
"""

from __future__ import annotations

import json
import marshal
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.library import WORDS_STEM
from assistant.service import ReplyQA
from index.embedding.embedder import Embedder
from index.settings import Settings
from index.storage import bm25_cache
from index.storage.cachefiles import bundle_files, default_cache_dir
from index.storage.words import WordIndex

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "letters"
FIRST = ["qh-jt-2023-058.txt", "lj-sl-2022-015.txt", "lj-zr-2019-027.txt", "wx-nync-2023-036.txt",
         "lj-wj-2024-022.txt", "qh-zj-2022-027.html"]
QUESTIONS = [
    "2022年青河市农村公路建设完成了多少投资？",
    "南山水厂扩建以后一天能供多少水？",  # the edited letter's new word: only its new version has it
    "临江县农村房地一体确权已经发了多少本证？",
    "临江县给在岗村医每月发多少岗位补助？",
    "企业招用当年毕业的大学生，能拿到多少一次性补贴？",  # the letter added in state B
    "温溪县高标准农田的管护经费按什么标准给？",  # the letter removed in state B
    "既有住宅加装一部电梯政府补贴多少？",
    "哪些答复提到了农村？",
]
BM25_STEM = bm25_cache.cache_stem(False)


@dataclass
class Built:
    settings: Settings
    cache: Path
    good: Path
    """A copy of the intact caches of state B."""
    stale: Path
    """A copy of the intact caches of state A."""
    answers: list[dict[str, Any]]
    versions: dict[str, str]


def _open(settings: Settings, embedder: Embedder) -> ReplyQA:
    return ReplyQA.open(settings, embedder=embedder)


def _answers(app: ReplyQA) -> list[dict[str, Any]]:
    return [app.ask(q).model_dump(exclude={"latency_ms"}) for q in QUESTIONS]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, models_dir: Path) -> Iterator[Built]:
    root = tmp_path_factory.mktemp("cache-damage")
    letters = root / "letters"
    letters.mkdir()
    for name in FIRST:
        shutil.copy(SAMPLES / name, letters / name)
    settings = Settings(data_dir=root / "data", models_dir=models_dir)
    cache = default_cache_dir(settings)

    app = _open(settings, embedder)
    assert not app.ingest([letters]).failures
    _answers(app)  # state A's caches written by its first snapshot
    app.close()
    stale = shutil.copytree(cache, root / "stale-cache")

    app = _open(settings, embedder)
    (letters / "wx-nync-2023-036.txt").unlink()
    edited = letters / "lj-sl-2022-015.txt"
    edited.write_text(edited.read_text(encoding="utf-8").replace("北山水厂", "南山水厂"), encoding="utf-8")
    shutil.copy(SAMPLES / "qh-rs-2025-021.txt", letters)
    report = app.ingest([letters], prune=True)
    assert (report.count("added"), report.count("updated"), report.count("removed")) == (1, 1, 1)
    app.close()

    shutil.rmtree(cache)
    app = _open(settings, embedder)  # state B from scratch: what every damaged start must give
    answers = _answers(app)
    versions = {r.id: r.version for r in app.letters()}
    app.close()
    assert answers[1]["found"] and "8000立方米" in answers[1]["text"]
    assert not answers[5]["found"], "the removed letter no longer answers"
    good = shutil.copytree(cache, root / "good-cache")
    yield Built(settings, cache, Path(good), Path(stale), answers, versions)


def _array(cache: Path, stem: str, name: str) -> Path:
    return next(p for p in bundle_files(cache, stem) if p.name == f"{name}.npy")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _random_body(path: Path) -> None:
    """Same length, the .npy header kept: only a checksum over the data can tell."""
    data = path.read_bytes()
    header = data.index(b"\n") + 1
    path.write_bytes(data[:header] + random.Random(13).randbytes(len(data) - header))
    assert path.stat().st_size == len(data)


def _disagreeing_key(cache: Path) -> None:
    sidecar = cache / f"{BM25_STEM}.json"
    meta = json.loads(sidecar.read_text("utf-8"))
    meta["tokenizer"] = "v0-some-other-tokenizer"
    sidecar.write_text(json.dumps(meta), "utf-8")


DAMAGE: dict[str, Callable[[Built], None]] = {
    "deleted": lambda b: shutil.rmtree(b.cache),
    "bm25-truncated": lambda b: _truncate(_array(b.cache, BM25_STEM, "rows")),
    "words-truncated": lambda b: _truncate(_array(b.cache, WORDS_STEM, "positions")),
    "bm25-random-same-length": lambda b: _random_body(_array(b.cache, BM25_STEM, "tf")),
    "words-random-same-length": lambda b: _random_body(_array(b.cache, WORDS_STEM, "codes")),
    "bm25-sidecar-other-tokenizer": lambda b: _disagreeing_key(b.cache),
    "older-than-chroma": lambda b: (shutil.rmtree(b.cache), shutil.copytree(b.stale, b.cache)),
    "jieba-truncated": lambda b: _truncate(b.cache / "jieba.cache"),
    "jieba-random-same-length": lambda b: (b.cache / "jieba.cache").write_bytes(
        random.Random(7).randbytes((b.cache / "jieba.cache").stat().st_size)),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_keyword_cache_gives_the_same_answers_and_is_rebuilt(
    built: Built, embedder: Embedder, damage: str
) -> None:
    shutil.rmtree(built.cache)
    shutil.copytree(built.good, built.cache)
    DAMAGE[damage](built)

    app = _open(built.settings, embedder)
    try:
        answers = _answers(app)
        snapshot = app.library.snapshot()
        tokenizer = app.tokenizer
    finally:
        app.close()
    for question, got, expected in zip(QUESTIONS, answers, built.answers, strict=True):
        assert got == expected, question

    # What was damaged was noticed (not just lucky answers), and the caches left behind load.
    if damage.startswith(("bm25", "deleted")):
        assert not snapshot.bm25.loaded_from_cache
    if damage.startswith(("words", "deleted")):
        assert not snapshot.words.loaded_from_cache
    if damage == "older-than-chroma":
        assert snapshot.bm25.loaded_from_cache and snapshot.words.loaded_from_cache
        assert snapshot.bm25.tokenized_letters == 2, "only the edited and the added letter are tokenised"
    bm25 = bm25_cache.load(built.cache, BM25_STEM, tokenizer)
    words = WordIndex.load(built.cache, WORDS_STEM, app.library._words_recipe())
    if damage != "older-than-chroma":  # a few letters behind is left for the next start to apply
        assert bm25.versions == built.versions and words.versions == built.versions
    freq, total = marshal.loads((built.cache / "jieba.cache").read_bytes())
    assert len(freq) > 100_000 and total > 0, "jieba's dictionary cache is whole again"
