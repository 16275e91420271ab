"""The 导入答复 tab: upload letters and see, file by file, what became of each.

Uploads are copied into `<data dir>/uploads` under their own (made safe) names before they are
ingested, so uploading the same file again updates the letter it became instead of adding a
copy; files of the wrong type or too large never reach the pipeline but are still reported.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
from gradio.events import Dependency

from assistant.service import ReplyQA
from assistant.web import render
from index.pipeline import FileResult
from index.storage.records import StoreError

UPLOAD_TYPES = (".txt", ".html", ".htm", ".docx", ".pdf")


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
    stem = stem[:100].strip() or "upload"
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
        files = gr.File(label="选择答复文件", file_count="multiple", file_types=list(UPLOAD_TYPES),
                        elem_id="rq-upload")
        ingest = gr.Button("开始导入", variant="primary", elem_id="rq-ingest")
        result = gr.HTML(elem_id="rq-ingest-result")

    # The handler's name becomes its (private) api name in the page config: keep it.
    def do_ingest(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        return ingest_files(app, files, progress)

    ingested = ingest.click(do_ingest, files, result, api_visibility="private")
    return UploadTab(files, ingest, result, ingested)


def ingest_files(app: ReplyQA, files: list[str] | None, progress: gr.Progress) -> str:
    """Save, ingest and report: one row per uploaded file, refused ones included."""
    if not files:
        return '<div class="rq-warn">请先选择要导入的答复文件。</div>'
    settings = app.settings
    kept, refused = save_uploads(files, settings.data_dir / "uploads", settings.upload_max_mb)
    names = {str(path): name for name, path in kept}
    progress((0, len(kept)), desc="正在导入…")

    def tick(done: int, chunks: int) -> None:
        progress((done, len(kept)), desc=f"已处理 {done}/{len(kept)} 个文件，{chunks} 个段落块")

    try:
        report = app.ingest([path for _, path in kept], progress=tick) if kept else None
    except StoreError as exc:
        return f'<div class="rq-warn">{render.esc(exc)}</div>'
    results = refused + ([(names.get(r.path, Path(r.path).name), r) for r in report.results] if report else [])
    summary = report.summary_zh() if report else "没有可导入的文件"
    return render.ingest_html(results, summary)
