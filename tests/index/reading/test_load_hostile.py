"""Hostile and broken files, each built here: read correctly, or refused with a Chinese reason
naming the file, quickly, without reading more than the limits allow."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import opencc
import pytest

from index.reading.letter import parse_loaded
from index.reading.load import LoadError, ReadLimits, load_file
from tests.index.reading.samples import ISSUER, LINES, TITLE, write_docx, zip_bytes

LETTER = "\n".join(LINES)
ROOT = Path(__file__).resolve().parents[3]


def _refused(path: Path, limits: ReadLimits | None = None) -> str:
    with pytest.raises(LoadError) as err:
        load_file(path, limits)
    assert str(path) in str(err.value)
    return err.value.reason


def test_empty_and_blank_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "空.txt").write_bytes(b"")
    (tmp_path / "空白.html").write_bytes(b" \n\t\n")
    assert "空" in _refused(tmp_path / "空.txt")
    assert "空" in _refused(tmp_path / "空白.html")


@pytest.mark.parametrize("name", ["junk.txt", "junk.bin", "junk"])
def test_binary_junk_is_refused_as_binary(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(random.Random(13).randbytes(4096))
    reason = _refused(path)
    assert "二进制" in reason or "不支持的文件类型" in reason


def test_high_bytes_without_nul_are_refused_as_an_unknown_encoding(tmp_path: Path) -> None:
    path = tmp_path / "乱码.txt"
    rng = random.Random(7)
    path.write_bytes(bytes(rng.randrange(0x80, 0x100) for _ in range(4096)))
    assert "无法识别文本编码" in _refused(path)


def test_a_20_mb_text_is_refused_at_once_without_decoding(tmp_path: Path) -> None:
    path = tmp_path / "巨大.txt"
    path.write_bytes(("我局高度重视农村道路建设。" * 540_000).encode())  # 21 MB
    start = time.monotonic()
    reason = _refused(path)
    assert time.monotonic() - start < 1.0
    assert "超过上限 10 万字" in reason and "REPLYQA_READ_MAX_CHARS" in reason


def test_text_over_the_character_limit_is_refused_after_decoding(tmp_path: Path) -> None:
    path = tmp_path / "长.txt"
    path.write_bytes(("我局高度重视。" * 20_000).encode("gbk"))  # 140,000 characters in 280 KB
    assert "文字有 14 万字，超过上限 10 万字" in _refused(path)
    assert load_file(path, ReadLimits(max_chars=200_000)).text.startswith("我局")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "大.pdf"
    with path.open("wb") as handle:
        handle.truncate(60 * 1024 * 1024)  # sparse: nothing to read if the check comes first
    assert "超过上限 50.0 MB" in _refused(path)


def test_a_fifo_a_device_and_a_64_gb_sparse_file_are_refused_unread_and_the_batch_goes_on(tmp_path: Path) -> None:
    """Each would hang or exhaust a reader that reads before it checks: a FIFO with no writer
    blocks `open`, /dev/zero and a 64 GB sparse file never end. In a child process with a
    timeout, so a regression fails here instead of hanging the suite."""
    fifo = tmp_path / "管道.txt"
    os.mkfifo(fifo)
    sparse = tmp_path / "稀疏 文件.txt"
    with sparse.open("wb") as handle:
        handle.truncate(64 * 1024**3)
    good = tmp_path / "答复.txt"
    good.write_text(LETTER, encoding="utf-8")
    files = [fifo, Path("/dev/zero"), sparse, good]
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "parse", *map(str, files), "--json"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - start < 60
    by_source = {item["source"]: item for item in json.loads(result.stdout)}
    assert "不是普通文件" in by_source[str(fifo)]["error"]
    assert "不是普通文件" in by_source["/dev/zero"]["error"]
    assert "文件有 65536.0 MB，超过上限 50.0 MB" in by_source[str(sparse)]["error"]
    assert by_source[str(good)]["title"] == TITLE, "the batch went on"


def test_a_file_that_reads_longer_than_its_size_is_cut_off_at_the_limit() -> None:
    """A /proc file is a regular file of size 0 whose content is made as it is read: what a file
    growing while it is read looks like to the reader. At most the limit + 1 bytes are read."""
    path = Path("/proc/self/maps")
    assert path.stat().st_size == 0 and len(path.read_bytes()) > 64
    assert "读取过程中超过上限" in _refused(path, ReadLimits(max_file_bytes=64))


def test_a_decompression_bomb_docx_is_refused_unopened(tmp_path: Path) -> None:
    good = write_docx(tmp_path / "good.docx")
    bomb = tmp_path / "炸弹.docx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        with dst.open("word/media/filler.xml", "w") as filler:
            block = b"<w:t>" + b"0" * (1024 * 1024) + b"</w:t>"
            for _ in range(200):
                filler.write(block)
    assert bomb.stat().st_size < 1024 * 1024
    start = time.monotonic()
    reason = _refused(bomb)
    assert time.monotonic() - start < 1.0
    assert "解压后有 200" in reason and "压缩炸弹" in reason


def test_a_zip_renamed_docx_is_refused_as_not_word(tmp_path: Path) -> None:
    path = tmp_path / "压缩包.docx"
    path.write_bytes(zip_bytes({"readme.txt": "hello", "data/a.csv": "1,2"}))
    assert "不是 Word" in _refused(path)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [("truncated", "已损坏"), ("bad xml", "已损坏"), ("no content types", "已损坏")],
)
def test_a_malformed_docx_is_refused(tmp_path: Path, damage: str, reason: str) -> None:
    good = write_docx(tmp_path / "good.docx")
    with zipfile.ZipFile(good) as src:
        members: dict[str, str | bytes] = {name: src.read(name) for name in src.namelist()}
    if damage == "bad xml":
        members["word/document.xml"] = b"<w:document><w:body><w:p>"
    elif damage == "no content types":
        del members["[Content_Types].xml"]
    data = good.read_bytes()[:2000] if damage == "truncated" else zip_bytes(members)
    path = tmp_path / f"{damage}.docx"
    path.write_bytes(data)
    assert reason in _refused(path)


def test_html_nested_10000_deep_is_read_and_its_scripts_dropped(tmp_path: Path) -> None:
    path = tmp_path / "深.html"
    depth = 10_000
    path.write_text(
        "<html><body>" + "<div><span>" * depth + f"<p>{TITLE}</p><script>alert(1)</script>"
        + "</span></div>" * depth + "".join(f"<p>{line}</p>" for line in LINES[1:]) + "</body></html>",
        encoding="utf-8",
    )
    loaded = load_file(path)
    assert loaded.format == "html"
    assert TITLE in loaded.text and "感谢您对交通运输工作的关心和支持。" in loaded.text
    assert "alert" not in loaded.text


def test_big5_is_read_as_big5_not_as_gb18030_mojibake(tmp_path: Path) -> None:
    traditional = opencc.OpenCC("s2t").convert(LETTER)
    path = tmp_path / "繁體.txt"
    path.write_bytes(traditional.encode("big5"))
    loaded = load_file(path)
    assert loaded.encoding is not None and loaded.encoding.startswith("big5")
    assert loaded.text == traditional
    letter = parse_loaded(loaded, source=str(path), letter_id="b")
    assert letter.title == "關於縣十屆人大二次會議第9號建議的答覆"
    assert letter.issuer == "溫溪縣交通運輸局"


def test_gbk_is_still_read_as_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "简体.txt"
    path.write_bytes(LETTER.encode("gbk"))
    loaded = load_file(path)
    assert (loaded.text, loaded.encoding) == (LETTER, "gb18030")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16"])
def test_utf16_with_and_without_bom_is_text(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"{encoding}.txt"
    path.write_bytes(LETTER.encode(encoding))
    letter = parse_loaded(load_file(path), source=str(path), letter_id="u")
    assert letter.text.split("\n")[0] == TITLE
    assert letter.issuer == ISSUER


def test_an_encoding_change_midway_is_read_line_by_line(tmp_path: Path) -> None:
    """Lines pasted from another system keep their own encoding; each line is read in the one
    it reads in, and the record says both."""
    half = len(LINES) // 2
    path = tmp_path / "混合.txt"
    path.write_bytes(
        "\n".join(LINES[:half]).encode("utf-8") + b"\n" + "\n".join(LINES[half:]).encode("gbk")
    )
    loaded = load_file(path)
    assert loaded.text == LETTER
    assert loaded.encoding == "utf-8+gb18030"


def test_a_line_in_no_encoding_refuses_the_file_rather_than_index_garbage(tmp_path: Path) -> None:
    path = tmp_path / "坏行.txt"
    path.write_bytes(LETTER.encode("utf-8") + b"\n" + b"\xff\x80" * 20 + b"\n")
    reason = _refused(path)
    assert "有 1 行既不是 UTF-8" in reason
