"""The Chinese tokenizer: traditional and full-width text read like simplified, numbers keep their
units, punctuation and stopwords go."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.tokenizer import ChineseTokenizer


@pytest.fixture(scope="module")
def jieba_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jieba")


@pytest.fixture(scope="module")
def tokenizer(jieba_dir: Path) -> ChineseTokenizer:
    return ChineseTokenizer(cache_dir=jieba_dir)


@pytest.fixture(scope="module")
def bigram_tokenizer(jieba_dir: Path) -> ChineseTokenizer:
    return ChineseTokenizer(bigrams=True, cache_dir=jieba_dir)


def test_traditional_and_fullwidth_text_tokenizes_like_simplified(
    tokenizer: ChineseTokenizer,
) -> None:
    assert tokenizer("關於加強５Ｇ網絡建設") == tokenizer("关于加强5G网络建设")
    assert "5g" in tokenizer("５Ｇ基站")
    assert tokenizer("學校安裝監控") == tokenizer("学校安装监控")


def test_numbers_survive_and_punctuation_and_stopwords_go(tokenizer: ChineseTokenizer) -> None:
    tokens = tokenizer("2019年全省共建成5G基站超1万个。投资3.5亿元，占12.8%！")
    for expected in ["2019", "5g", "基站", "1万", "万个", "3.5亿", "12.8%"]:
        assert expected in tokens
    assert not {"。", "，", "！", " "} & set(tokens)
    assert "的" not in tokenizer("政府的答复")
    assert "不" in tokenizer("不符合条件")


def test_bigrams_are_switchable(
    tokenizer: ChineseTokenizer, bigram_tokenizer: ChineseTokenizer
) -> None:
    assert "bi:基站" in bigram_tokenizer("建设5G基站")
    assert not any(t.startswith("bi:") for t in tokenizer("建设5G基站"))
    assert tokenizer.signature != bigram_tokenizer.signature


def test_memoised_results_are_the_uncached_ones_and_callers_cannot_spoil_them(tokenizer: ChineseTokenizer) -> None:
    word = "产业布局"
    first = tokenizer.subwords(word)
    assert first == list(tokenizer._subwords_uncached(word)) and "产业" in first
    first.append("被调用方改了")
    assert tokenizer.subwords(word) == list(tokenizer._subwords_uncached(word)), "each call gets its own list"
    for text in ("ＡＢＣ產業佈局", "x" * 5000 + "產業"):  # a short text is memoised, a letter-length one is not
        assert tokenizer.normalize(text) == tokenizer._normalize_uncached(text)
        assert tokenizer.normalize(text) == tokenizer.normalize(text)
