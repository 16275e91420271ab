"""Bytes → text for the formats letters are published in.

The format is sniffed from the content (a `.txt` that is really an HTML page is read as
HTML) and text encodings are detected, not assumed from the extension: real letters come
as UTF-8 with or without a BOM and as GBK/GB18030 from older county sites.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Format = Literal["txt", "html", "docx", "pdf"]

SUPPORTED_SUFFIXES = (".txt", ".text", ".html", ".htm", ".shtml", ".docx", ".pdf")

_HTML_HINT = re.compile(
    rb"<!doctype\s+html|<html[\s>]|<body[\s>]|<head[\s>]|<meta\s|<div[\s>]|<p[\s>]|<table[\s>]",
    re.IGNORECASE,
)
_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "center", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "tfoot",
    "thead", "title", "tr", "ul",
}
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "svg", "head")
_MIN_PDF_CHARS = 10


class LoadError(Exception):
    """A letter that cannot be read. The message is for users (Chinese) and names the file."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}：{reason}")


@dataclass(frozen=True)
class LoadedText:
    text: str
    format: Format
    encoding: str | None = None
    page_title: str | None = None
    """The HTML `<title>`, kept aside: it is page chrome, but a useful title candidate."""


def load_file(path: Path) -> LoadedText:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LoadError(path, "文件不存在") from None
    except IsADirectoryError:
        raise LoadError(path, "这是一个文件夹，不是文件") from None
    except OSError as exc:
        raise LoadError(path, f"无法读取文件（{exc.strerror or exc}）") from None
    return load_bytes(data, path)


def load_bytes(data: bytes, path: Path | str) -> LoadedText:
    path = Path(path)
    suffix = path.suffix.lower()
    if not data.strip():
        raise LoadError(path, "文件是空的")
    if data.startswith(b"%PDF-"):
        return LoadedText(_pdf_text(data, path), "pdf")
    if data.startswith(b"PK\x03\x04"):
        return LoadedText(_docx_text(data, path), "docx")
    if suffix in (".pdf", ".docx"):
        raise LoadError(path, f"文件已损坏或不是真正的 {suffix} 文件")
    if suffix == ".doc" or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise LoadError(path, "不支持旧版 Word（.doc）文件，请另存为 .docx 后再导入")
    if suffix and suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(
            path, f"不支持的文件类型“{suffix}”（支持 .txt、.html、.htm、.docx、.pdf）"
        )
    text, encoding = decode_text(data, path)
    if _looks_like_html(data, suffix):
        body, title = html_to_text(text)
        return LoadedText(body, "html", encoding, title)
    return LoadedText(text, "txt", encoding)


def decode_text(data: bytes, path: Path | str) -> tuple[str, str]:
    """Decode bytes whose encoding is unknown: BOMs first, strict UTF-8, then GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    if b"\x00" in data[:4096]:
        raise LoadError(path, "这是一个二进制文件，不是文本、网页、Word 或 PDF 文件")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise LoadError(path, "无法识别文本编码（不是 UTF-8 或 GBK/GB18030）")
    return str(best), best.encoding


def _looks_like_html(data: bytes, suffix: str) -> bool:
    if suffix in (".html", ".htm", ".shtml"):
        return True
    head = data[:8192]
    return len(_HTML_HINT.findall(head)) >= 2


def html_to_text(html: str) -> tuple[str, str | None]:
    """Visible text with one line per block element; scripts, styles and comments dropped."""
    from bs4 import BeautifulSoup, Comment, NavigableString, Tag

    soup = BeautifulSoup(html, "lxml")
    title_tag = soup.find("title")
    page_title = title_tag.get_text(" ", strip=True) if title_tag else None
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if not isinstance(tag, Tag) or tag.attrs is None:
            continue
        style = str(tag.get("style", "")).replace(" ", "").lower()
        if tag.has_attr("hidden") or "display:none" in style or "visibility:hidden" in style:
            tag.decompose()

    parts: list[str] = []

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                parts.append(str(child).replace("\n", " "))
            elif isinstance(child, Tag):
                name = child.name.lower()
                if name == "br":
                    parts.append("\n")
                    continue
                block = name in _BLOCK_TAGS
                if block:
                    parts.append("\n")
                if name in ("td", "th") and parts and not parts[-1].endswith("\n"):
                    parts.append(" | ")
                walk(child)
                if block:
                    parts.append("\n")

    walk(soup.body or soup)
    text = "".join(parts)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line), page_title


def _docx_text(data: bytes, path: Path) -> str:
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(path, f"Word 文件已损坏，无法打开（{type(exc).__name__}）") from None
    except Exception as exc:  # python-docx raises many types for broken packages
        raise LoadError(path, f"Word 文件无法解析（{type(exc).__name__}: {exc}）") from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                cells = []
                for cell in row.cells:
                    value = cell.text.strip()
                    if value and (not cells or cells[-1] != value):
                        cells.append(value)
                lines.append(" | ".join(cells))
    text = "\n".join(line.strip() for line in lines if line.strip())
    if not text:
        raise LoadError(path, "Word 文件中没有文字")
    return text


def _pdf_text(data: bytes, path: Path) -> str:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except PdfReadError as exc:
        raise LoadError(path, f"PDF 文件已损坏，无法读取（{exc}）") from None
    except Exception as exc:  # pypdf raises many types for broken files
        raise LoadError(path, f"PDF 文件无法解析（{type(exc).__name__}: {exc}）") from None
    text = "\n".join(pages)
    if len(re.sub(r"\s", "", text)) < _MIN_PDF_CHARS:
        raise LoadError(path, "PDF 没有文字层（可能是扫描件或图片），请先做文字识别（OCR）后再导入")
    return reflow_pdf_lines(text)


_SENTENCE_END = "。！？；：:;!?”」）)】"
_PAGE_NUMBER = re.compile(r"[—–\-]\s*\d{1,3}\s*[—–\-]|第\s*\d{1,3}\s*页(?:\s*共\s*\d{1,3}\s*页)?")
_LINE_START_MARK = re.compile(
    r"^(?:[一二三四五六七八九十]+[、是]|（[一二三四五六七八九十\d]+）|\(\d+\)|\d+[.．、]|第[一二三四五六七八九十]+[，、：:]"
    r"|附件|联系|抄送|此致|敬礼|感谢|[\u4e00-\u9fff]{2,20}(?:代表|委员|同志)[:：]$)"
)
_DATE_LINE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")


def reflow_pdf_lines(text: str) -> str:
    """Join the hard line wraps a PDF puts inside paragraphs.

    A line is continued on the next one unless it ends a sentence or the next line starts a
    new numbered item, a salutation, a closing formula or a date; short lines (titles,
    signatures) stand alone.
    """
    lines = [_PAGE_NUMBER.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    widths = sorted(len(line) for line in lines)
    full = widths[int(len(widths) * 0.8)] if len(widths) > 4 else widths[-1]
    out: list[str] = [lines[0]]
    for line in lines[1:]:
        prev = out[-1]
        wrapped = (
            len(prev) >= full - 2
            and not prev.endswith(tuple(_SENTENCE_END))
            and not _LINE_START_MARK.match(line)
            and not _DATE_LINE.match(line)
            and not line.startswith(("关于", "对", "【"))
        )
        if wrapped:
            out[-1] = prev + line
        else:
            out.append(line)
    return "\n".join(out)
