"""Word (.docx) → text: paragraphs and table rows in document order, after the zip's sizes are
checked (python-docx loads every part into memory, images included)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from index.reading.loaded import LoadError, ReadLimits
from index.reading.zipped import open_bounded_zip


def docx_text(data: bytes, path: Path | str, limits: ReadLimits) -> str:
    archive = open_bounded_zip(data, path, limits, "Word 文件")
    if "word/document.xml" not in archive.namelist():
        raise LoadError(path, "这是一个压缩包，不是 Word（.docx）文件（其中没有 word/document.xml）")
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(path, f"Word 文件已损坏，无法打开（{type(exc).__name__}）") from None
    except Exception as exc:  # python-docx raises many types for broken packages
        raise LoadError(path, f"Word 文件已损坏，无法解析（{type(exc).__name__}）") from None
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
