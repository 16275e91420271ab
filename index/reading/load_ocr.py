"""Scans and photos → text with Tesseract and its Simplified Chinese data (`chi_sim`).

A PDF without a text layer is rasterised page by page with poppler's pdftoppm, grey at 200 dpi
(the size Tesseract reads 公文 body text best at, measured against 300 dpi: same text, half the
time). Tesseract runs on one thread per page (OMP_THREAD_LIMIT=1): on a shared 2-core machine its
OpenMP threads cost more than they give. Its output puts a space between Chinese characters; those
are removed, and the lines are joined into paragraphs like a PDF's text layer.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from index.reading.loaded import LoadError, ReadLimits
from index.reading.tools import find_tool, run_tool

_WIDE = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’《》【】（）]"
_SPACE_BETWEEN_WIDE = re.compile(rf"(?<={_WIDE})[ \t]+(?={_WIDE})")
_SPACE_BY_WIDE = re.compile(rf"(?<={_WIDE})[ \t]+(?=[0-9A-Za-z])|(?<=[0-9A-Za-z])[ \t]+(?={_WIDE})")
_MIN_CHARS = 10
_HALF_PUNCT = re.compile(rf"(?<={_WIDE})[ \t]*([,:;?!])|([,:;?!])[ \t]*(?={_WIDE})")
_FULL = str.maketrans(",:;?!", "，：；？！")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def ocr_unavailable(limits: ReadLimits, path: Path | str) -> str | None:
    """Why OCR cannot run here (a Chinese reason), or None when it can."""
    if not limits.ocr:
        return "文字识别（OCR）已关闭（设置 REPLYQA_OCR_ENABLED）"
    if find_tool("tesseract") is None:
        return "本机未安装文字识别程序 Tesseract（系统软件包 tesseract-ocr、tesseract-ocr-chi-sim）"
    langs = run_tool(["tesseract", "--list-langs"], timeout=30, path=path, what="Tesseract").stdout.decode()
    if limits.ocr_lang not in langs.split():
        return f"Tesseract 缺少语言包 {limits.ocr_lang}（系统软件包 tesseract-ocr-chi-sim）"
    return None


def image_text(data: bytes, path: Path | str, limits: ReadLimits) -> str:
    reason = ocr_unavailable(limits, path)
    if reason:
        raise LoadError(path, f"这是图片，需要文字识别才能读取，但{reason}")
    _check_image(data, path, limits)
    with tempfile.TemporaryDirectory(prefix="replyqa-ocr-") as tmp:
        image = Path(tmp) / f"page{Path(path).suffix.lower() or '.png'}"
        image.write_bytes(data)
        text = _ocr(image, path, limits)
    if len(re.sub(r"\s", "", text)) < _MIN_CHARS:
        raise LoadError(path, "图片中没有识别出文字")
    return text


def scanned_pdf_text(data: bytes, path: Path | str, limits: ReadLimits, pages: int) -> str:
    """Called for a PDF whose text layer is empty."""
    reason = ocr_unavailable(limits, path)
    if reason is None and find_tool("pdftoppm") is None:
        reason = "本机未安装 pdftoppm（系统软件包 poppler-utils）"
    if reason:
        raise LoadError(path, f"PDF 没有文字层（可能是扫描件或图片），需要文字识别（OCR），但{reason}")
    if pages > limits.ocr_max_pages:
        raise LoadError(
            path,
            f"PDF 没有文字层，共 {pages} 页，超过文字识别上限 {limits.ocr_max_pages} 页（设置 REPLYQA_OCR_MAX_PAGES）",
        )
    with tempfile.TemporaryDirectory(prefix="replyqa-ocr-") as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(data)
        run_tool(
            ["pdftoppm", "-r", str(limits.ocr_dpi), "-gray", "-png", "-l", str(limits.ocr_max_pages),
             str(source), str(Path(tmp) / "page")],
            timeout=limits.ocr_page_timeout * max(1, pages), path=path, what="PDF 转图片（pdftoppm）",
        )
        images = sorted(Path(tmp).glob("page*.png"))
        texts = [_ocr(image, path, limits) for image in images]
    text = "\n".join(texts)
    if len(re.sub(r"\s", "", text)) < _MIN_CHARS:
        raise LoadError(path, "PDF 没有文字层，文字识别（OCR）也没有识别出文字")
    return text


def _ocr(image: Path, path: Path | str, limits: ReadLimits) -> str:
    result = run_tool(
        ["tesseract", str(image), "stdout", "-l", limits.ocr_lang, "--psm", "3"],
        timeout=limits.ocr_page_timeout, path=path, what="文字识别（Tesseract）",
        env={"OMP_THREAD_LIMIT": "1"},
    )
    return tidy_ocr_text(result.stdout.decode("utf-8", errors="replace"))


def tidy_ocr_text(raw: str) -> str:
    """Tesseract's chi_sim output → lines as a letter has them (no spaces inside Chinese)."""
    lines = []
    for line in raw.replace("\f", "\n").splitlines():
        line = _HALF_PUNCT.sub(lambda m: (m.group(1) or m.group(2)).translate(_FULL), line.strip())
        line = _SPACE_BETWEEN_WIDE.sub("", line)
        line = _SPACE_BY_WIDE.sub("", line)
        if line:
            lines.append(line)
    return "\n".join(lines)


def _check_image(data: bytes, path: Path | str, limits: ReadLimits) -> None:
    """Dimensions from the header, before any decoding: a 1 KB PNG can claim 100,000² pixels."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        raise LoadError(path, f"图片像素过多，超过文字识别上限 {limits.ocr_max_pixels // 1_000_000} 百万像素") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise LoadError(path, f"图片已损坏或格式无法识别（{type(exc).__name__}）") from None
    if width * height > limits.ocr_max_pixels:
        raise LoadError(
            path, f"图片有 {width}×{height} 像素，超过文字识别上限 {limits.ocr_max_pixels // 1_000_000} 百万像素"
        )
