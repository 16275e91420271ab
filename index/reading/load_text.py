"""Text of unknown encoding → str: BOMs, strict UTF-8, then GB18030 against Big5 by score.

GB18030 accepts almost any byte pair, so Big5 bytes decode as GB18030 without an error and come
out as mojibake. Both are tried and the decoding that reads like Chinese wins: a letter is full
of ideographs and of the punctuation in `encodings.toml`, the wrong decoding of it is full of
private-use, bopomofo, kana and Cyrillic characters. UTF-16 without a BOM is recognised by its
NUL bytes. A file whose encoding changes midway (lines pasted from another system) is decoded line
by line, each line in the encoding that reads; lines that read in none are refused with the file.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from index.reading.loaded import LoadError

_VOCAB = Path(__file__).with_name("encodings.toml")
_BAD_SHARE = 0.05
"""A decoding with more than this share of unlikely characters is not taken."""


@dataclass(frozen=True)
class EncodingVocab:
    candidates: tuple[str, ...]
    punctuation: frozenset[str]


def encoding_vocab() -> EncodingVocab:
    data = tomllib.loads(_VOCAB.read_text(encoding="utf-8"))
    return EncodingVocab(tuple(data["candidates"]), frozenset(data["common_punctuation"]))


def decode_text(data: bytes, path: Path | str, vocab: EncodingVocab | None = None) -> tuple[str, str]:
    """(text, encoding name). Raises `LoadError` for binary data or text that reads in no encoding."""
    vocab = vocab or encoding_vocab()
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise LoadError(path, "文件标明是 UTF-16 编码，但内容已损坏") from None
    if b"\x00" in data[:4096]:
        return _utf16_without_bom(data, path, vocab)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = _best_decoding(data, vocab)
    if best is not None:
        return best
    return _line_by_line(data, path, vocab)


def reads_as_text(text: str, vocab: EncodingVocab | None = None) -> bool:
    """Whether text a converter produced is words, not a binary file it took for text."""
    return _bad_share(text, vocab or encoding_vocab()) <= _BAD_SHARE


def _utf16_without_bom(data: bytes, path: Path | str, vocab: EncodingVocab) -> tuple[str, str]:
    """NULs in text are the high bytes of ASCII in UTF-16; in anything else the file is binary."""
    even, odd = data[0::2].count(0), data[1::2].count(0)
    encoding = "utf-16-le" if odd > even else "utf-16-be"
    if len(data) % 2 == 0:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            text = ""
        if text and _bad_share(text, vocab) <= _BAD_SHARE:
            return text, encoding
    raise LoadError(path, "这是一个二进制文件，不是文本、网页、Word、OFD、PDF 或图片文件")


def _best_decoding(data: bytes, vocab: EncodingVocab) -> tuple[str, str] | None:
    scored = []
    for encoding in vocab.candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        scored.append((_bad_share(text, vocab), -_good_share(text, vocab), encoding, text))
    if not scored:
        return None
    bad, _, encoding, text = min(scored, key=lambda s: s[:2])
    return (text, encoding) if bad <= _BAD_SHARE else None


def _line_by_line(data: bytes, path: Path | str, vocab: EncodingVocab) -> tuple[str, str]:
    lines: list[str] = []
    used: list[str] = []
    unreadable = 0
    for raw in data.split(b"\n"):
        try:
            line, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            best = _best_decoding(raw, vocab)
            if best is None:
                unreadable += 1
                continue
            line, encoding = best
        lines.append(line)
        if encoding not in used and not line.isascii():
            used.append(encoding)
    if unreadable:
        raise LoadError(
            path,
            f"无法识别文本编码：有 {unreadable} 行既不是 UTF-8，也不是 GBK/GB18030 或 Big5"
            "（文件可能已损坏，请用文本编辑器另存为 UTF-8 后再导入）",
        )
    return "\n".join(lines), "+".join(used) or "ascii"


def _bad_share(text: str, vocab: EncodingVocab) -> float:
    """Share of characters a Chinese letter does not contain: what a wrong decoding produces."""
    if not text:
        return 1.0
    bad = sum(1 for ch in text if _unlikely(ch))
    return bad / len(text)


def _good_share(text: str, vocab: EncodingVocab) -> float:
    good = sum(1 for ch in text if ch in vocab.punctuation or "\u4e00" <= ch <= "\u9fff")
    return good / max(1, len(text))


def _unlikely(ch: str) -> bool:
    code = ord(ch)
    if ch in "\n\r\t":
        return False
    if code < 0x20 or 0x7F <= code < 0xA0 or ch == "\ufffd":
        return True
    return (
        0xE000 <= code <= 0xF8FF  # private use: GBK's user area, Big5 read as GB18030
        or 0x3100 <= code <= 0x312F  # bopomofo
        or 0x3040 <= code <= 0x30FF  # kana
        or 0x0370 <= code <= 0x052F  # Greek, Cyrillic
        or 0x2500 <= code <= 0x257F  # box drawing
        or 0x3400 <= code <= 0x4DBF  # CJK extension A: rare in a letter, common in mojibake
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or 0x20000 <= code <= 0x3FFFF  # CJK extensions B and beyond: Big5-HKSCS read from GBK
        or unicodedata.category(ch) in ("Co", "Cn", "Cs")
    )
