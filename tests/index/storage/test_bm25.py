"""Chinese BM25: ranking, growing it letter by letter exactly as a rebuild would rank, and the
on-disk cache against real Chroma backends."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index.settings import Settings
from index.storage.bm25 import BM25Index
from index.storage.bm25_cache import cache_stem, load_or_build
from index.storage.cachefiles import bundle_files, default_cache_dir
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


def test_search_by_letters(index: BM25Index) -> None:
    hits = index.search("建设", k=5, letters={"L2"})
    assert hits and {chunk_id.split("::")[0] for chunk_id, _ in hits} == {"L2"}
    assert index.search("5G基站", k=5, letters=set()) == []


# -- growing the index letter by letter ----------------------------------------------------------

EXTRA: list[tuple[str, str, list[str]]] = [
    ("L4", "关于加快5G基站建设的建议的答复",
     ["今年新建5G基站3000个，重点覆盖农村地区。", "5G基站建设资金由省级财政补助。"]),
    ("L5", "关于农村公路建设的建议的答复", ["新建农村公路120公里，养护资金纳入预算。"]),
]
QUESTIONS = ["5G基站建设", "农村公路养护资金", "学校监控", "建设", "资金", "青岛5G产业园区", "不相干的问题"]


def renamed(letters: list[tuple[str, str, list[str]]], version: str) -> list[StoredChunk]:
    return [c.model_copy(update={"version": version}) for c in stored_chunks(letters)]


def test_adding_changing_and_removing_letters_ranks_as_a_rebuild(tokenizer: ChineseTokenizer) -> None:
    """Every step applied to the last index, compared with an index built from scratch on what
    is left: the same hits, the same scores to the last bit, the same idf."""
    titles = {**TITLES, **{i: t for i, t, _ in EXTRA}}
    grown = BM25Index.build(stored_chunks(LETTERS[:2]), tokenizer, titles=titles)
    live = {c.id: c for c in stored_chunks(LETTERS[:2])}
    changed_l2 = [(LETTERS[1][0], LETTERS[1][1], ["全县农村公路总里程达3500公里，今年安排养护资金900万元。"])]
    steps: list[tuple[list[StoredChunk], list[str]]] = [
        (stored_chunks(LETTERS[2:]), []),  # add L3
        (stored_chunks(EXTRA[:1]), []),  # add L4
        (renamed(changed_l2, "v2"), []),  # L2 changes
        ([], ["L1"]),  # L1 removed
        (stored_chunks(EXTRA[1:]), ["L3"]),  # L5 in, L3 out
    ]
    for added, removed in steps:
        before = grown.tokenized_letters
        grown = grown.apply(added, removed=removed, titles=titles)
        assert grown.tokenized_letters - before == len({c.letter_id for c in added}), "only new letters tokenised"
        gone = set(removed) | {c.letter_id for c in added}
        live = {i: c for i, c in live.items() if c.letter_id not in gone} | {c.id: c for c in added}
        fresh = BM25Index.build(list(live.values()), tokenizer, titles=titles)
        assert grown.ids == fresh.ids and len(grown) == len(fresh)
        assert grown.terms == fresh.terms
        for question in QUESTIONS:
            assert grown.search(question, k=10) == fresh.search(question, k=10), question
            for term in tokenizer(question):
                assert grown.idf(term) == fresh.idf(term)
    assert {c.split("::")[0] for c in grown.ids} == {"L2", "L4", "L5"}
    assert grown.search("3500公里", k=1)[0][0] == "L2::v2::0000"


def test_many_small_additions_are_merged_without_changing_ranks(tokenizer: ChineseTokenizer) -> None:
    titles = {**TITLES, **{i: t for i, t, _ in EXTRA}}
    everything = LETTERS + EXTRA
    grown = BM25Index.build([], tokenizer)
    for letter in everything:
        grown = grown.apply(stored_chunks([letter]), titles=titles)
    for letter in everything[:3]:  # each changes once more: the old rows die
        grown = grown.apply(renamed([letter], "v2"), titles=titles)
    assert len(grown.segments) <= 6
    fresh_chunks = [c for c in stored_chunks(everything[3:])] + renamed(everything[:3], "v2")
    fresh = BM25Index.build(fresh_chunks, tokenizer, titles=titles)
    assert grown.ids == fresh.ids
    for question in QUESTIONS:
        assert grown.search(question, k=10) == fresh.search(question, k=10)


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


def test_cache_is_reused_and_only_changed_letters_are_tokenised(
    store: ChunkStore, store_settings: Settings, tokenizer: ChineseTokenizer
) -> None:
    cache = default_cache_dir(store_settings)
    index_letter(store, *LETTERS[0])
    index_letter(store, *LETTERS[1])

    first = load_or_build(store, cache, bigrams=False, tokenizer=tokenizer)
    assert not first.loaded_from_cache and first.tokenized_letters == 2
    assert bundle_files(cache, cache_stem(False))
    again = load_or_build(store, cache, bigrams=False, tokenizer=tokenizer)
    assert again.loaded_from_cache and again.tokenized_letters == 0
    assert again.ids == first.ids and again.terms == first.terms
    assert again.search("5G基站", k=3) == first.search("5G基站", k=3)

    index_letter(store, *LETTERS[2])
    grown = load_or_build(store, cache, bigrams=False, tokenizer=tokenizer)
    assert grown.loaded_from_cache and grown.tokenized_letters == 1, "the other letters are not tokenised again"
    assert grown.search("学校安装监控", k=1)[0][0] == "L3::v1::0000"
    fresh = BM25Index.build(store.committed_chunks(), tokenizer, titles={r.id: r.title for r in store.letters()})
    assert grown.search("建设", k=10) == fresh.search("建设", k=10)

    store.remove_letter("L3")
    shrunk = load_or_build(store, cache, bigrams=False, tokenizer=tokenizer)
    assert shrunk.ids == first.ids and shrunk.tokenized_letters == 0
    assert shrunk.search("5G基站", k=3) == first.search("5G基站", k=3)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "bad-json", "no-sidecar", "missing-file"])
def test_damaged_cache_is_rebuilt(
    store: ChunkStore, store_settings: Settings, tokenizer: ChineseTokenizer, damage: str
) -> None:
    cache = default_cache_dir(store_settings)
    index_letter(store, *LETTERS[1])
    built = load_or_build(store, cache, bigrams=False, tokenizer=tokenizer)
    array = next(p for p in bundle_files(cache, cache_stem(False)) if p.name == "rows.npy")
    sidecar = cache / f"{cache_stem(False)}.json"
    if damage == "truncate":
        array.write_bytes(array.read_bytes()[: array.stat().st_size // 2])
    elif damage == "garbage":
        array.write_bytes(b"\x00not an npy" * (array.stat().st_size // 12 + 1))
    elif damage == "bad-json":
        sidecar.write_text("{", "utf-8")
    elif damage == "no-sidecar":
        sidecar.unlink()
    else:
        array.unlink()

    again = load_or_build(store, cache, bigrams=False, tokenizer=tokenizer)
    assert not again.loaded_from_cache and again.tokenized_letters == 1
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
