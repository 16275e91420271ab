"""The one Chinese tokenizer of a process: jieba words (precise and search mode), parts of
speech, and the OpenCC/NFKC normalisation that lets a traditional-script letter match a
simplified question.

jieba's dictionary (~0.5 s and ~50 MB to load) and OpenCC's tables are loaded once per
`ChineseTokenizer`, which is created where a process starts and passed to everything that
segments or normalises text; nothing here keeps module-level state.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
import tempfile
import unicodedata
from pathlib import Path

import jieba
import jieba.posseg as posseg
import opencc

from index.vocab import load_vocabulary

TOKENIZER_VERSION = 1
"""Bump when tokenisation changes in a way the signature below cannot see."""

STOPWORDS = frozenset(load_vocabulary(Path(__file__).with_name("tokenizer.toml"))["stopwords"])
"""Function words dropped from every token list (tokenizer.toml says which and why)."""

BIGRAM_PREFIX = "bi:"
"""Bigrams get their own namespace so a two-character word found by jieba and the same
bigram stay two terms with their own statistics. jieba tokens never contain ':'."""

NORMALIZED_CACHED = 16384
NORMALIZED_MAX_CHARS = 1000
SUBWORDS_CACHED = 65536

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")
_QUANTITY = re.compile(r"\d+(?:\.\d+)?[百千万亿]")


class ChineseTokenizer:
    """jieba search-mode words over NFKC-normalised, simplified, lower-cased text.

    Some letters are in traditional script (mirror sites), so both documents and questions go
    through OpenCC t2s: a traditional letter then matches a simplified question. Search mode
    also emits the shorter words inside long compounds (产业布局 → 产业, 布局, 产业布局), which
    is what lets a question phrased differently still hit. jieba splits "1万个" into "1" and
    "万个"; a quantity token "1万" is added so the number keeps its unit.
    """

    def __init__(self, *, bigrams: bool = False, cache_dir: Path | None = None) -> None:
        jieba.setLogLevel(logging.WARNING)
        self.bigrams = bigrams
        self._jieba = jieba.Tokenizer()
        self._jieba.tmp_dir = _jieba_cache_dir(cache_dir)
        self._pos = posseg.POSTokenizer(self._jieba)
        self._opencc = opencc.OpenCC("t2s.json")
        # Memoised per tokenizer (pure functions of their text while the dictionary does not
        # change, and nothing here adds words): answering a question scores each candidate
        # sentence against the question's words, so the same words are cut and the same texts
        # normalised again and again; these were most of a question's CPU besides the model.
        self._normalize = functools.lru_cache(maxsize=NORMALIZED_CACHED)(self._normalize_uncached)
        self._subwords = functools.lru_cache(maxsize=SUBWORDS_CACHED)(self._subwords_uncached)

    @property
    def signature(self) -> str:
        """Everything that changes the tokens; part of the BM25 cache key."""
        stop = hashlib.sha256(" ".join(sorted(STOPWORDS)).encode()).hexdigest()[:8]
        mode = "words+bigrams" if self.bigrams else "words"
        return f"v{TOKENIZER_VERSION}-jieba{jieba.__version__}-{mode}-stop{stop}"

    def normalize(self, text: str) -> str:
        if len(text) > NORMALIZED_MAX_CHARS:  # a whole letter: seen once, not worth keeping
            return self._normalize_uncached(text)
        return self._normalize(text)

    def _normalize_uncached(self, text: str) -> str:
        return self._opencc.convert(unicodedata.normalize("NFKC", text)).lower()

    def simplify(self, text: str) -> str:
        """NFKC and simplified script, case kept: for comparing texts written in either script."""
        return self._opencc.convert(unicodedata.normalize("NFKC", text))

    def compact(self, text: str) -> str:
        """`normalize` without any whitespace: how two spans are compared character by character."""
        return re.sub(r"\s+", "", self.normalize(text))

    def cut(self, text: str) -> list[str]:
        """jieba's precise mode on the text as given, every token kept (punctuation included)."""
        return list(self._jieba.cut(text))

    def tag(self, text: str) -> list[tuple[str, str]]:
        """(word, part of speech) pairs on the text as given; `ns`/`nr`/`nt` mark places,
        people and organisations as far as jieba's dictionary knows them."""
        return [(pair.word, pair.flag) for pair in self._pos.cut(text)]

    def words(self, text: str) -> list[str]:
        """jieba's precise mode (no overlapping sub-words): a question's words, each counted once."""
        norm = self.normalize(text)
        return [w for w in self._jieba.cut(norm) if w not in STOPWORDS and any(ch.isalnum() for ch in w)]

    def subwords(self, word: str) -> list[str]:
        """The shorter words search mode finds inside a long one (产业布局 → 产业, 布局)."""
        return list(self._subwords(word))

    def _subwords_uncached(self, word: str) -> tuple[str, ...]:
        return tuple(w for w in self._jieba.cut_for_search(word) if w != word and len(w) >= 2)

    def __call__(self, text: str) -> list[str]:
        norm = self.normalize(text)
        tokens = [
            token
            for token in self._jieba.cut_for_search(norm)
            if token not in STOPWORDS and any(ch.isalnum() for ch in token)
        ]
        tokens.extend(_QUANTITY.findall(norm))
        if self.bigrams:
            for run in _CJK_RUN.findall(norm):
                tokens.extend(BIGRAM_PREFIX + run[i : i + 2] for i in range(len(run) - 1))
        return tokens


def _jieba_cache_dir(cache_dir: Path | None) -> str:
    """Where jieba keeps its 9 MB prefix-dictionary cache (a warm start is ~0.3 s faster).

    Next to our own caches when we can write there or a cache already exists (read-only data
    dirs then still work); otherwise the system temp dir, jieba's own default.
    """
    if cache_dir is None:
        return tempfile.gettempdir()
    with contextlib.suppress(OSError):
        cache_dir.mkdir(parents=True, exist_ok=True)
    if os.access(cache_dir, os.W_OK) or (cache_dir / "jieba.cache").is_file():
        return str(cache_dir)
    return tempfile.gettempdir()


