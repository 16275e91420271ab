"""The 导入答复 tab: upload letters and see, file by file, what became of each.

Uploads are copied into `<data dir>/uploads` under their own (made safe) names before they are
ingested, so uploading the same file again updates the letter it became instead of adding a
copy; files of the wrong type or too large never reach the pipeline but are still reported.
"""

from __future__ import annotations

import logging
import re
import shutil
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
from gradio.events import Dependency

from assistant.service import ReplyQA
from assistant.web.letters_html import ingest_html
from assistant.web.render import esc
from index.pipeline import FileResult
from index.storage.records import StoreError

log = logging.getLogger(__name__)

UPLOAD_TYPES = (".txt", ".html", ".htm", ".docx", ".doc", ".wps", ".ofd", ".pdf", ".png", ".jpg", ".jpeg")


@dataclass
class UploadTab:
    """The tab's components, and its import event for the page to chain the refresh onto."""

    files: gr.File
    ingest: gr.Button
    result: gr.HTML
    ingested: Dependency
    """The `ingest.click` event: the page chains its refresh of the facets onto it."""


def safe_name(name: str) -> str:
    """The uploaded file's own name, made safe as a file name. Kept stable, so uploading the
    same file again updates the letter it became instead of adding a copy."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r'[\x00-\x1f\x7f<>:"|?*]', "_", name).strip().lstrip(".")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = stem[:100].strip(" .") or "upload"  # never "." or ".." (`'. ..'` left one)
    suffix = suffix[:16]
    while len(stem.encode("utf-8")) > 200:  # file systems allow 255 bytes, not characters
        stem = stem[:-1]
    return f"{stem}.{suffix.lower()}" if suffix else stem


def save_uploads(
    files: Sequence[str], upload_dir: Path, max_mb: int
) -> tuple[list[tuple[str, Path]], list[tuple[str, FileResult]]]:
    """Copy acceptable uploads into `upload_dir`; the rest become failed results with a reason."""
    upload_dir.mkdir(parents=True, exist_ok=True)
    kept: list[tuple[str, Path]] = []
    refused: list[tuple[str, FileResult]] = []
    for raw in files:
        source = Path(raw)
        name = safe_name(source.name)
        if Path(name).suffix.lower() not in UPLOAD_TYPES:
            reason = f"不支持的文件类型（仅支持 {' '.join(UPLOAD_TYPES)}）"
            refused.append((name, FileResult(name, "failed", reason=reason)))
            continue
        if source.stat().st_size > max_mb * 1024 * 1024:
            refused.append((name, FileResult(name, "failed", reason=f"文件超过 {max_mb} MB 的上限")))
            continue
        target = upload_dir / name
        shutil.copyfile(source, target)
        kept.append((name, target))
    return kept, refused


def build_upload_tab(app: ReplyQA) -> UploadTab:
    """The tab and its import event."""
    settings = app.settings
    with gr.Tab("导入答复", id="upload"):
        gr.Markdown(f"支持 {' '.join(UPLOAD_TYPES)}，单个文件不超过 {settings.upload_max_mb} MB。"
                    "重新上传同名文件会更新对应的答复。")
        files = gr.File(label="选择答复文件", file_count="multiple",
                        elem_id="rq-upload")
        ingest = gr.Button("开始导入", variant="primary", elem_id="rq-ingest")
        result = gr.HTML(elem_id="rq-ingest-result")

    # The handler's name becomes its (private) api name in the page config: keep it.
    def do_ingest(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        return ingest_files(app, files, progress)

    ingested = ingest.click(do_ingest, files, result, api_visibility="private")
    return UploadTab(files, ingest, result, ingested)


class IngestProgress:
    """gr.Progress fed per letter: each file as it is read, then the chunks as they are
    embedded (the total known once the letters are read), with the letters done — so the bar
    moves from the first second instead of waiting for the first commit (see
    `assistant.cli.progress`, the same for the terminal)."""

    def __init__(self, progress: gr.Progress, names: dict[str, str], total: int) -> None:
        self.progress, self.names, self.total = progress, names, total
        self.read_count = self.done = self.chunks = self.embedded = 0
        progress((0, total), desc="正在准备导入…", unit="封")

    def _counts(self) -> str:
        return f"已读取 {self.read_count}/{self.total} 封，已完成 {self.done}/{self.total} 封"

    def read(self, path: Path, chunks: int) -> None:
        self.read_count += 1
        self.chunks += chunks
        name = self.names.get(str(path), path.name)
        self.progress((self.read_count, self.total), desc=f"正在读取 {name}（{self._counts()}）", unit="封")

    def written(self, done: int, embedded: int) -> None:
        self.done, self.embedded = done, embedded
        if self.chunks:
            self.progress((min(embedded, self.chunks), self.chunks), desc=f"正在编码与写入（{self._counts()}）",
                          unit="块")
        else:
            self.progress((done, self.total), desc=self._counts(), unit="封")


def ingest_files(app: ReplyQA, files: list[str] | None, progress: gr.Progress) -> str:
    """Save, ingest and report: one row per uploaded file, refused ones included."""
    if not files:
        return '<div class="rq-warn">请先选择要导入的答复文件。</div>'
    settings = app.settings
    kept, refused = save_uploads(files, settings.data_dir / "uploads", settings.upload_max_mb)
    names = {str(path): name for name, path in kept}
    meter = IngestProgress(progress, names, len(kept))
    try:
        report = app.ingest([path for _, path in kept], progress=meter.written, on_read=meter.read) if kept else None
    except StoreError as exc:
        return f'<div class="rq-warn">{esc(exc)}</div>'
    results = refused + ([(names.get(r.path, Path(r.path).name), r) for r in report.results] if report else [])
    for name, r in results:
        if r.status == "failed":
            log.info("upload %s failed: %s", name, r.reason)
    summary = report.summary_zh() if report else "没有可导入的文件"
    return ingest_html(results, summary)
