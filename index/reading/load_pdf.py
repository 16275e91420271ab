"""PDF → text: the text layer with its hard line wraps joined, or OCR when there is none."""

from __future__ import annotations

import io
import re
from pathlib import Path

from index.reading.load_ocr import scanned_pdf_text
from index.reading.loaded import LoadError, ReadLimits, wan

_MIN_PDF_CHARS = 10


def pdf_text(data: bytes, path: Path | str, limits: ReadLimits) -> tuple[str, bool]:
    """(text, whether it was recognised by OCR)."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        reader = PdfReader(io.BytesIO(data))
        pages: list[str] = []
        total = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            total += len(pages[-1])
            if total > limits.max_chars:
                raise LoadError(path, f"PDF 的文字超过上限 {wan(limits.max_chars)}，拒绝读取")
        n_pages = len(reader.pages)
    except LoadError:
        raise
    except PdfReadError as exc:
        raise LoadError(path, f"PDF 文件已损坏，无法读取（{exc}）") from None
    except Exception as exc:  # pypdf raises many types for broken files
        raise LoadError(path, f"PDF 文件无法解析（{type(exc).__name__}: {exc}）") from None
    text = "\n".join(pages)
    if len(re.sub(r"\s", "", text)) >= _MIN_PDF_CHARS:
        return reflow_pdf_lines(text), False
    return reflow_pdf_lines(scanned_pdf_text(data, path, limits, n_pages)), True


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
