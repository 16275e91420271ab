"""Bytes → text for the formats letters are published and archived in.

The format is sniffed from the content, not the extension (a `.txt` that is really an HTML page
is read as HTML, a zip is a .docx or an OFD by what it holds), and text encodings are detected,
not assumed. Each format has its module beside this one; this one decides which runs and keeps
the bounds every format shares: the file's size before anything is read (and no more than that
read, whatever the file does meanwhile), the text's length before it is chunked (`ReadLimits`, from `REPLYQA_READ_*`).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

from index.reading.load_doc import doc_text
from index.reading.load_docx import docx_text
from index.reading.load_html import html_to_text
from index.reading.load_ocr import IMAGE_SUFFIXES, image_text
from index.reading.load_ofd import is_ofd, ofd_text
from index.reading.load_pdf import pdf_text, reflow_pdf_lines
from index.reading.load_text import decode_text
from index.reading.loaded import Format, LoadedText, LoadError, ReadLimits, megabytes, wan
from index.reading.zipped import open_bounded_zip

__all__ = [
    "SUPPORTED_SUFFIXES", "Format", "LoadError", "LoadedText", "ReadLimits", "decode_text",
    "html_to_text", "load_bytes", "load_file", "read_limited", "reflow_pdf_lines",
]

TEXT_SUFFIXES = (".txt", ".text", ".html", ".htm", ".shtml")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".docx", ".doc", ".wps", ".ofd", ".pdf", *IMAGE_SUFFIXES)

_HTML_HINT = re.compile(
    rb"<!doctype\s+html|<html[\s>]|<body[\s>]|<head[\s>]|<meta\s|<div[\s>]|<p[\s>]|<table[\s>]",
    re.IGNORECASE,
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
_SUPPORTED_ZH = "支持 .txt、.html、.docx、.doc、.wps、.ofd、.pdf、.png、.jpg"


def load_file(path: Path, limits: ReadLimits | None = None) -> LoadedText:
    path = Path(path)
    limits = limits or ReadLimits()
    return load_bytes(read_limited(path, limits), path, limits)


_READ_BLOCK = 1 << 20


def read_limited(path: Path, limits: ReadLimits) -> bytes:
    """The file's bytes, never more than the limit allows: refused from its `stat` before a
    byte is read when it is too large or no regular file (a FIFO would block the batch, a device
    or a `/proc` file would stream without end), and at most limit + 1 bytes read, so a file
    that grows while it is read is refused rather than followed. `LoadError` in Chinese."""
    path = Path(path)
    try:
        info = os.stat(path)
        _check_stat(path, info, limits)
        # O_NONBLOCK: if the path was swapped for a FIFO since the stat, opening does not wait
        # for a writer (the fstat below refuses it).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise LoadError(path, _os_reason(exc)) from None
    try:
        _check_stat(path, os.fstat(fd), limits)
        data = bytearray()
        while len(data) <= limits.max_file_bytes:
            block = os.read(fd, min(_READ_BLOCK, limits.max_file_bytes + 1 - len(data)))
            if not block:
                break
            data += block
    except OSError as exc:
        raise LoadError(path, _os_reason(exc)) from None
    finally:
        os.close(fd)
    if len(data) > limits.max_file_bytes:
        raise LoadError(path, f"文件在读取过程中超过上限 {megabytes(limits.max_file_bytes)}（可能正在被写入，"
                              "或不是普通的文件），拒绝导入")
    return bytes(data)


def _check_stat(path: Path, info: os.stat_result, limits: ReadLimits) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise LoadError(path, "这是一个文件夹，不是文件")
    if not stat.S_ISREG(info.st_mode):
        raise LoadError(path, "不是普通文件（是命名管道、设备或套接字），拒绝导入")
    if info.st_size > limits.max_file_bytes:
        raise LoadError(path, _too_big(info.st_size, limits))


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "文件不存在"
    if exc.errno == errno.EISDIR:
        return "这是一个文件夹，不是文件"
    if exc.errno == errno.ELOOP:
        return "符号链接循环，无法读取文件"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "没有读取该文件的权限"
    return f"无法读取文件（{exc.strerror or exc}）"


def load_bytes(data: bytes, path: Path | str, limits: ReadLimits | None = None) -> LoadedText:
    """Raises `LoadError` (Chinese, naming the file) for whatever cannot be read or is too large."""
    path = Path(path)
    limits = limits or ReadLimits()
    if len(data) > limits.max_file_bytes:
        raise LoadError(path, _too_big(len(data), limits))
    loaded = _load(data, path, limits)
    if len(loaded.text) > limits.max_chars:
        raise LoadError(
            path, f"文字有 {wan(len(loaded.text))}，超过上限 {wan(limits.max_chars)}（不像一封答复；"
            "设置 REPLYQA_READ_MAX_CHARS 可调整），拒绝导入",
        )
    return loaded


def _load(data: bytes, path: Path, limits: ReadLimits) -> LoadedText:
    suffix = path.suffix.lower()
    if not data.strip():
        raise LoadError(path, "文件是空的")
    if data.startswith(b"%PDF-"):
        text, ocr = pdf_text(data, path, limits)
        return LoadedText(text, "pdf", ocr=ocr)
    if data.startswith(b"PK\x03\x04"):
        archive = open_bounded_zip(data, path, limits, "文件（压缩包）")
        if is_ofd(archive):
            return LoadedText(reflow_pdf_lines(ofd_text(data, path, limits)), "ofd")
        return LoadedText(docx_text(data, path, limits), "docx")
    if data.startswith(_OLE2):
        fmt: Format = "wps" if suffix == ".wps" else "doc"
        return LoadedText(doc_text(data, path, limits, f".{fmt}"), fmt)
    if data.startswith(_IMAGE_MAGIC):
        return LoadedText(reflow_pdf_lines(image_text(data, path, limits)), "image", ocr=True)
    if suffix in (".pdf", ".docx", ".doc", ".wps", ".ofd", *IMAGE_SUFFIXES):
        raise LoadError(path, f"文件已损坏或不是真正的 {suffix} 文件")
    if suffix and suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(path, f"不支持的文件类型“{suffix}”（{_SUPPORTED_ZH}）")
    if len(data) > limits.max_chars * 4:
        # No encoding takes more than 4 bytes a character: this text is over the limit unread.
        raise LoadError(
            path, f"文本文件有 {megabytes(len(data))}，文字必然超过上限 {wan(limits.max_chars)}（不像一封答复；"
            "设置 REPLYQA_READ_MAX_CHARS 可调整），拒绝导入",
        )
    text, encoding = decode_text(data, path)
    if _looks_like_html(data, suffix):
        body, title = html_to_text(text)
        return LoadedText(body, "html", encoding, title)
    return LoadedText(text, "txt", encoding)


def _too_big(size: int, limits: ReadLimits) -> str:
    return (
        f"文件有 {megabytes(size)}，超过上限 {megabytes(limits.max_file_bytes)}"
        "（设置 REPLYQA_READ_MAX_FILE_MB 可调整），拒绝导入"
    )


def _looks_like_html(data: bytes, suffix: str) -> bool:
    if suffix in (".html", ".htm", ".shtml"):
        return True
    head = data[:8192]
    return len(_HTML_HINT.findall(head)) >= 2
