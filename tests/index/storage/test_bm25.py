"""Chinese BM25: ranking, and the on-disk cache against real Chroma backends."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index.settings import Settings
from index.storage.bm25 import BM25Index, cache_stem, default_cache_dir, load_or_build
from index.storage.records import LetterRecord, StoredChunk
from index.storage.store import ChunkStore
from index.tokenizer import ChineseTokenizer

DIM = 8

# Hand-written letters: (letter id, title, chunk texts). L3 is in traditional script.
LETTERS: list[tuple[str, str, list[str]]] = [
    (
        "L1",
        "关于加快5G网络建设的建议的答复",
        [
            "2019年全省共建成5G基站超1万个，实现各市主城区连续覆盖。",
            "下一步，我们将推动青岛、济南建设5G产业园区，培育龙头企业。",
        ],
    ),
    (
        "L2",
        "关于加强农村公路养护的建议的答复",
        [
            "全县农村公路总里程达3200公里，今年安排养护资金800万元。",
            "我局将把中嘎达至新发寨的连接道路纳入明年建设计划。",
        ],
    ),
    ("L3", "關於加強中小學校園安全管理的答復", ["學校已安裝監控設備，並配備專職保安人員。"]),
]


def stored_chunks(letters: list[tuple[str, str, list[str]]]) -> list[StoredChunk]:
    return [
        StoredChunk(
            letter_id=letter_id,
            version="v1",
            ordinal=i,
            section_path=[],
            section_heading="",
            paragraph=i,
            start=0,
            end=len(text),
            text=text,
            embed_text=text,
        )
        for letter_id, _, texts in letters
        for i, text in enumerate(texts)
    ]


TITLES = {letter_id: title for letter_id, title, _ in LETTERS}


@pytest.fixture(scope="module")
def jieba_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jieba")


@pytest.fixture(scope="module")
def tokenizer(jieba_dir: Path) -> ChineseTokenizer:
    return ChineseTokenizer(cache_dir=jieba_dir)


@pytest.fixture(scope="module")
def bigram_tokenizer(jieba_dir: Path) -> ChineseTokenizer:
    return ChineseTokenizer(bigrams=True, cache_dir=jieba_dir)


@pytest.fixture(scope="module")
def index(tokenizer: ChineseTokenizer) -> BM25Index:
    return BM25Index.build(stored_chunks(LETTERS), tokenizer, titles=TITLES)


# -- ranking -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "best"),
    [
        ("全省建成了多少5G基站？", "L1::v1::0000"),
        ("青岛的5G产业园区", "L1::v1::0001"),
        ("农村公路养护资金有多少", "L2::v1::0000"),
        ("連接道路什麼時候修", "L2::v1::0001"),
        ("学校安装监控了吗", "L3::v1::0000"),
        ("校园安全管理", "L3::v1::0000"),  # only the title says so
    ],
)
def test_ranking(index: BM25Index, question: str, best: str) -> None:
    hits = index.search(question, k=5)
    assert hits[0][0] == best
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_no_shared_term_means_no_hit(index: BM25Index) -> None:
    assert index.search("量子计算机", k=5) == []
    assert index.search("。？！", k=5) == []
    assert index.search("5G", k=0) == []


def test_k_and_allowed_ids(index: BM25Index) -> None:
    assert len(index.search("建设", k=1)) == 1
    only = {"L1::v1::0001", "L3::v1::0000"}
    hits = index.search("5G基站建设", k=5, allowed_ids=only)
    assert {chunk_id for chunk_id, _ in hits} <= only
    assert hits[0][0] == "L1::v1::0001"
    assert index.search("5G基站", k=5, allowed_ids=set()) == []


def test_bigram_index_ranks_too(bigram_tokenizer: ChineseTokenizer) -> None:
    index = BM25Index.build(stored_chunks(LETTERS), bigram_tokenizer, titles=TITLES)
    assert index.search("全省建成了多少5G基站？", k=3)[0][0] == "L1::v1::0000"
    assert index.search("学校安装监控了吗", k=3)[0][0] == "L3::v1::0000"


# -- cache against real Chroma -------------------------------------------------------------------


def index_letter(store: ChunkStore, letter_id: str, title: str, texts: list[str]) -> None:
    chunks = stored_chunks([(letter_id, title, texts)])
    rng = np.random.default_rng(zlib.crc32(letter_id.encode()))
    store.put_chunks(chunks, rng.normal(size=(len(chunks), DIM)))
    record = LetterRecord(
        id=letter_id,
        version="v1",
        source=f"{letter_id}.txt",
        title=title,
        n_chunks=len(chunks),
        text="\n".join(texts),
    )
    store.commit_letter(record, rng.normal(size=DIM))


@pytest.fixture
def store(store_settings: Settings) -> Iterator[ChunkStore]:
    with ChunkStore.open(store_settings, model_id="test-model", dimension=DIM) as opened:
        yield opened


def test_cache_is_reused_then_rebuilt_after_a_commit(
    store: ChunkStore, store_settings: Settings, tokenizer: ChineseTokenizer
) -> None:
    cache = default_cache_dir(store_settings)
    index_letter(store, *LETTERS[0])

    first = load_or_build(store, cache, bigrams=False, tokenizer=tokenizer)
    assert not first.loaded_from_cache
    assert (cache / f"{cache_stem(False)}.npz").is_file()
    again = load_or_build(store, cache, bigrams=False, tokenizer=tokenizer)
    assert again.loaded_from_cache
    assert again.ids == first.ids and again.terms == first.terms
    assert again.search("5G基站", k=3) == first.search("5G基站", k=3)

    index_letter(store, *LETTERS[2])
    rebuilt = load_or_build(store, cache, bigrams=False, tokenizer=tokenizer)
    assert not rebuilt.loaded_from_cache
    assert rebuilt.search("学校安装监控", k=1)[0][0] == "L3::v1::0000"
    assert load_or_build(store, cache, bigrams=False, tokenizer=tokenizer).loaded_from_cache

    store.remove_letter("L3")
    assert load_or_build(store, cache, bigrams=False, tokenizer=tokenizer).ids == first.ids


@pytest.mark.parametrize("damage", ["truncate", "garbage", "bad-json", "no-sidecar"])
def test_damaged_cache_is_rebuilt(
    store: ChunkStore, store_settings: Settings, tokenizer: ChineseTokenizer, damage: str
) -> None:
    cache = default_cache_dir(store_settings)
    index_letter(store, *LETTERS[1])
    built = load_or_build(store, cache, bigrams=False, tokenizer=tokenizer)
    npz = cache / f"{cache_stem(False)}.npz"
    sidecar = npz.with_suffix(".json")
    if damage == "truncate":
        npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
    elif damage == "garbage":
        npz.write_bytes(b"\x00not an npz" * 100)
    elif damage == "bad-json":
        sidecar.write_text("{", "utf-8")
    else:
        sidecar.unlink()

    again = load_or_build(store, cache, bigrams=False, tokenizer=tokenizer)
    assert not again.loaded_from_cache
    assert again.ids == built.ids
    assert again.search("农村公路养护", k=1)[0][0] == "L2::v1::0000"
    assert json.loads(sidecar.read_text("utf-8"))["n_docs"] == 2
    assert load_or_build(store, cache, bigrams=False, tokenizer=tokenizer).loaded_from_cache


def test_words_and_bigrams_caches_live_side_by_side(
    store: ChunkStore,
    store_settings: Settings,
    tokenizer: ChineseTokenizer,
    bigram_tokenizer: ChineseTokenizer,
) -> None:
    cache = default_cache_dir(store_settings)
    index_letter(store, *LETTERS[0])
    load_or_build(store, cache, bigrams=False, tokenizer=tokenizer)
    bigram = load_or_build(store, cache, bigrams=True, tokenizer=bigram_tokenizer)
    assert any(term.startswith("bi:") for term in bigram.terms)
    assert load_or_build(store, cache, bigrams=False, tokenizer=tokenizer).loaded_from_cache
    assert load_or_build(store, cache, bigrams=True, tokenizer=bigram_tokenizer).loaded_from_cache
    with pytest.raises(ValueError):
        load_or_build(store, cache, bigrams=True, tokenizer=tokenizer)


def test_default_tokenizer_keeps_jieba_cache_with_the_index(
    store: ChunkStore, store_settings: Settings
) -> None:
    cache = default_cache_dir(store_settings)
    index_letter(store, *LETTERS[0])
    index = load_or_build(store, cache, bigrams=False)
    assert index.search("5G基站", k=1)[0][0] == "L1::v1::0000"
    assert (cache / "jieba.cache").is_file()


def test_cache_dir_is_local_and_keyed_by_backend(tmp_path: Path) -> None:
    embedded = default_cache_dir(Settings(data_dir=tmp_path, collection="c", chroma_host=None))
    server = default_cache_dir(
        Settings(data_dir=tmp_path, collection="c", chroma_host="10.0.0.5", chroma_port=8001)
    )
    other = default_cache_dir(Settings(data_dir=tmp_path, collection="d", chroma_host=None))
    assert len({embedded, server, other}) == 3
    for path in (embedded, server, other):
        assert path.is_relative_to(tmp_path / "bm25")
