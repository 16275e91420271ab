"""The letter-level word index gives exactly the counts a scan of every letter's text gives:
on hand-made texts, on the shared corpus's letters, after letters are added, changed and
removed, and read back from its (memory-mapped) cache."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from index.reading.letter import parse_file
from index.storage.cachefiles import CacheMiss, bundle_files
from index.storage.words import WordIndex, build_segment
from index.tokenizer import ChineseTokenizer

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "letters"

TEXTS = {
    "A": "2019年全省共建成5g基站超1万个。青岛、济南建设5g产业园区。",
    "B": "全县农村公路总里程达3200公里，今年安排养护资金800万元。",
    "C": "学校已安装监控设备。青岛",
    "D": "岛",
    "E": "",
}


def scan(texts: dict[str, str], word: str) -> int:
    return sum(1 for text in texts.values() if word in text)


def index_of(texts: dict[str, str]) -> WordIndex:
    return WordIndex([build_segment([(i, "v1", t) for i, t in texts.items()])])


def probe_words(texts: dict[str, str], rng: random.Random, n: int = 400) -> list[str]:
    """Substrings of the texts (which occur), their edges across letters (which must not), and
    words that occur nowhere."""
    words = ["", "\x00", "岛", "青岛", "5g", "量子计算", "。", "青岛青岛"]
    joined = "".join(texts.values())
    for _ in range(n):
        text = rng.choice([t for t in texts.values() if t] or ["x"])
        i = rng.randrange(len(text))
        words.append(text[i : i + rng.randint(1, 6)])
        j = rng.randrange(max(1, len(joined) - 6))
        words.append(joined[j : j + rng.randint(2, 6)])
    return words


def test_counts_equal_a_scan_of_every_text() -> None:
    index = index_of(TEXTS)
    for word in probe_words(TEXTS, random.Random(1)):
        assert index.count(word) == scan(TEXTS, word), word
    assert index.count("") == len(TEXTS)
    assert index.count("岛") == 3 and index.count("青岛") == 2
    assert index.count("。青") == 2 and index.count("个。青岛") == 1
    assert index.count("青岛全县") == 0, "no match runs from one letter into the next"
    assert index.text("A") == TEXTS["A"] and index.text("E") == "" and index.text("Z") is None


def test_adding_changing_and_removing_letters_keeps_counts_exact() -> None:
    texts = dict(TEXTS)
    index = index_of(texts)
    rng = random.Random(2)
    for step in range(12):
        removed = rng.sample(sorted(texts), k=min(len(texts), rng.randint(0, 2)))
        added = {f"N{step}-{k}": "".join(rng.choice("青岛农村公路5g基站建设资金") for _ in range(rng.randint(0, 30)))
                 for k in range(rng.randint(0, 3))}
        if texts and rng.random() < 0.5:
            changed = rng.choice(sorted(texts))
            added[changed] = texts[changed][::-1]
        index = index.apply([(i, f"v{step}", t) for i, t in added.items()], removed=removed)
        texts = {i: t for i, t in texts.items() if i not in removed} | added
        assert len(index) == len(texts) and set(index.versions) == set(texts)
        assert len(index.segments) <= 6
        for word in probe_words(texts or {"x": ""}, rng, 60):
            assert index.count(word) == scan(texts, word), (step, word)
        assert all(index.text(i) == t for i, t in texts.items())


@pytest.fixture(scope="module")
def corpus_texts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The shared corpus's letters as `Snapshot.searchable_text` compacts them."""
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing: {CORPUS}")
    tokenizer = ChineseTokenizer(cache_dir=tmp_path_factory.mktemp("jieba"))
    texts = {}
    for path in sorted(CORPUS.iterdir()):
        letter = parse_file(path)
        texts[letter.id] = tokenizer.compact(letter.identity_text() + " " + letter.text)
    return texts


def test_counts_on_the_shared_corpus_equal_a_scan(corpus_texts: dict[str, str], tmp_path: Path) -> None:
    index = index_of(corpus_texts)
    index.save(tmp_path, "words", "test")
    loaded = WordIndex.load(tmp_path, "words", "test")
    rng = random.Random(3)
    words = probe_words(corpus_texts, rng, 1500)
    words += ["山东", "山东省", "青岛市", "5g基站", "老旧小区", "加装电梯", "交通运输局", "政协", "人大代表"]
    for word in words:
        expected = scan(corpus_texts, word)
        assert index.count(word) == expected, word
        assert loaded.count(word) == expected, word
    assert all(loaded.text(i) == t for i, t in corpus_texts.items())


def test_a_damaged_cache_is_refused(corpus_texts: dict[str, str], tmp_path: Path) -> None:
    index_of(dict(list(corpus_texts.items())[:5])).save(tmp_path, "words", "test")
    with pytest.raises(CacheMiss):
        WordIndex.load(tmp_path, "words", "other recipe")
    positions = next(p for p in bundle_files(tmp_path, "words") if p.name == "positions.npy")
    data = bytearray(positions.read_bytes())
    data[-1] ^= 0xFF
    positions.write_bytes(bytes(data))
    with pytest.raises(CacheMiss):
        WordIndex.load(tmp_path, "words", "test")
