"""What every loader returns or raises, and the bounds every loader keeps.

Kept apart from `load` so that the per-format modules (`load_doc`, `load_ofd`, `load_ocr`, …)
can share them without importing the dispatcher that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from index.settings import Settings

Format = Literal["txt", "html", "docx", "pdf", "doc", "wps", "ofd", "image"]


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
    ocr: bool = False
    """The text was recognised from an image (a scan or a photo), not read: a quote from it may
    differ from the paper in a character or two, and the page says so beside a citation."""


@dataclass(frozen=True)
class ReadLimits:
    """How much one file may cost to read. Every limit is checked before the expensive step it
    guards (unpacking, decoding, OCR, chunking), so one file cannot hold a batch for minutes."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_unpacked_bytes: int = 100 * 1024 * 1024
    """A .docx or .ofd is a zip: the sum of its members' sizes once unpacked."""
    max_chars: int = 100_000
    ocr: bool = True
    ocr_lang: str = "chi_sim"
    ocr_max_pages: int = 20
    ocr_dpi: int = 200
    ocr_max_pixels: int = 60_000_000
    """An image larger than this (about A3 at 600 dpi) is refused before Tesseract sees it."""
    ocr_page_timeout: float = 120.0
    convert_timeout: float = 90.0
    """LibreOffice's time for one .doc/.wps, its first start in a fresh profile included."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        return cls(
            max_file_bytes=settings.read_max_file_mb * 1024 * 1024,
            max_unpacked_bytes=settings.read_max_unpacked_mb * 1024 * 1024,
            max_chars=settings.read_max_chars,
            ocr=settings.ocr_enabled,
            ocr_lang=settings.ocr_lang,
            ocr_max_pages=settings.ocr_max_pages,
            ocr_page_timeout=settings.ocr_page_timeout,
            convert_timeout=settings.convert_timeout,
        )


def wan(n: int) -> str:
    """A character count as a Chinese reader says it (12.3 万字, 800 字)."""
    return f"{n / 10_000:.4g} 万字" if n >= 10_000 else f"{n} 字"


def megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"
