"""The 导入答复 tab: upload letters and see, file by file, what became of each.

Uploads are copied into `<data dir>/uploads` under their own (made safe) names before they are
ingested, so uploading the same file again updates the letter it became instead of adding a
copy; files of the wrong type or too large never reach the pipeline but are still reported.
An import cut short by the process dying is said on the tab afterwards, with its files offered
for import again (`assistant.web.pending`).
"""

from __future__ import annotations

import logging
import re
import shutil
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.events import Dependency

from assistant.service import ReplyQA
from assistant.web.letters_html import ingest_html
from assistant.web.pending import importing, interrupted, settle
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
    notice: gr.HTML
    resume: gr.Button
    resumed: Dependency
    """The `resume.click` event (importing an interrupted import's files again)."""
    show_notice: Callable[[], tuple[Any, Any]]
    """Updates of `notice` and `resume`: the page runs it on every load."""


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
    """The tab and its import events; the page shows the notice on load (`show_notice`)."""
    settings = app.settings
    with gr.Tab("导入答复", id="upload"):
        gr.Markdown(f"支持 {' '.join(UPLOAD_TYPES)}，单个文件不超过 {settings.upload_max_mb} MB。"
                    "重新上传同名文件会更新对应的答复。")
        notice = gr.HTML(visible=False, elem_id="rq-upload-interrupted")
        resume = gr.Button("继续导入这些文件", visible=False, elem_id="rq-upload-resume")
        files = gr.File(label="选择答复文件", file_count="multiple",
                        elem_id="rq-upload")
        ingest = gr.Button("开始导入", variant="primary", elem_id="rq-ingest")
        result = gr.HTML(elem_id="rq-ingest-result")

    # The handlers' names become their (private) api names in the page config: keep them.
    def do_ingest(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        return ingest_files(app, files, progress)

    def resume_uploads(progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        return resume_files(app, progress)

    def upload_notice() -> tuple[Any, Any]:
        return notice_updates(app)

    ingested = ingest.click(do_ingest, files, result, api_visibility="private")
    resumed = resume.click(resume_uploads, None, result, api_visibility="private")
    for event in (ingested, resumed):
        event.then(upload_notice, None, [notice, resume], api_visibility="private")
    return UploadTab(files, ingest, result, ingested, notice, resume, resumed, upload_notice)


def notice_updates(app: ReplyQA) -> tuple[Any, Any]:
    """The notice of an interrupted import and its button, shown only when there is one."""
    found = interrupted(app.settings.data_dir / "uploads")
    if not found.names:
        return gr.HTML(value="", visible=False), gr.Button(visible=False)
    shown = "、".join(found.names[:20]) + (f" 等 {len(found.names)} 个文件" if len(found.names) > 20 else "")
    html = (f'<div class="rq-warn">上次导入没有完成（导入过程中程序被终止）。以下已上传的文件可能尚未导入：'
            f"{esc(shown)}。请点击“继续导入这些文件”，或重新上传它们；已经导入的会显示为“未变”，不会重复。</div>")
    return gr.HTML(value=html, visible=True), gr.Button(visible=True)


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
    upload_dir = settings.data_dir / "uploads"
    kept, refused = save_uploads(files, upload_dir, settings.upload_max_mb)
    html = _import(app, kept, refused, progress)
    settle(upload_dir, [name for name, _ in kept])
    return html


def resume_files(app: ReplyQA, progress: gr.Progress) -> str:
    """Import again the saved uploads of imports that did not finish."""
    upload_dir = app.settings.data_dir / "uploads"
    found = interrupted(upload_dir)
    if not found.names:
        return '<div class="rq-warn">没有未完成的导入。</div>'
    html = _import(app, [(name, upload_dir / name) for name in found.names], [], progress)
    for journal in found.journals:  # what became of each file is said now, failures included
        journal.unlink(missing_ok=True)
    return html


def _import(app: ReplyQA, kept: list[tuple[str, Path]], refused: list[tuple[str, FileResult]],
            progress: gr.Progress) -> str:
    names = {str(path): name for name, path in kept}
    meter = IngestProgress(progress, names, len(kept))
    try:
        with importing(app.settings.data_dir / "uploads", [name for name, _ in kept]):
            report = app.ingest([path for _, path in kept], progress=meter.written,
                                on_read=meter.read) if kept else None
    except StoreError as exc:
        return f'<div class="rq-warn">{esc(exc)}</div>'
    results = refused + ([(names.get(r.path, Path(r.path).name), r) for r in report.results] if report else [])
    for name, r in results:
        if r.status == "failed":
            log.info("upload %s failed: %s", name, r.reason)
    summary = report.summary_zh() if report else "没有可导入的文件"
    return ingest_html(results, summary)
