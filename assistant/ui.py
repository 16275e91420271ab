"""The Gradio page: ask (with follow-ups and filters), check each citation in one click, copy or
export the answer with draft-ready references, browse the letters, import new ones.

Thin on purpose: every action is a call to `ReplyQA` (the same services the command line
uses); HTML comes from `ui_render`, documents from `export`, login from `auth`.

How a click on `[n]` reaches the server: answers are our own escaped HTML in the Chatbot
(Markdown off). `ui_render.PAGE_JS`, installed by `demo.load(js=...)`, catches clicks on
`.rq-cite` markers and writes `turn:n|timestamp` into a hidden textbox (`visible="hidden"`
keeps it in the DOM); the textbox's `change` event renders the source panel, whose own
`js_on_load` scrolls the `<mark>` into view. Rows of the letter list work the same way.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported

import logging
import re
import shutil
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from assistant import ui_render as render
from assistant.answer import Answer
from assistant.auth import make_auth, users_from_settings
from assistant.chat import Turn
from assistant.export import answer_with_references, conversation_docx, conversation_markdown
from assistant.retrieve import Filters
from assistant.service import ReplyQA
from index.pipeline import FileResult
from index.storage.records import LetterRecord, StoreError

log = logging.getLogger(__name__)

ALL = "__all__"
UPLOAD_TYPES = (".txt", ".html", ".htm", ".docx", ".pdf")
EXAMPLES = (
    "2022年青河市农村公路建设完成了多少投资？",
    "既有住宅加装一部电梯政府补贴多少？",
    "东川省在哪些城市试行了长期护理保险？",
    "哪些答复提到了新能源公交车辆？",
)
SOURCE_PLACEHOLDER = '<div class="rq-src rq-notfound">点击答案中的 [1]、[2] 等引用标记，在这里核对答复原文。</div>'
READER_PLACEHOLDER = '<div class="rq-reader rq-notfound">在左侧列表中点击一封答复即可阅读全文。</div>'


@dataclass
class Conversation:
    """One browser session's conversation: answers (for citations and export), the turns the
    service needs for follow-ups, and the chat messages as shown."""

    answers: list[Answer] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    messages: list[dict[str, str]] = field(default_factory=list)


def make_filters(
    issuer: str | None, year_from: str | None, year_to: str | None, channel: str | None,
    letters: Sequence[str] | None = None,
) -> Filters:
    def year(value: str | None) -> int | None:
        return int(value) if value and value != ALL and str(value).isdigit() else None

    lo, hi = year(year_from), year(year_to)
    if lo and hi and lo > hi:
        lo, hi = hi, lo
    return Filters(
        letters=tuple(letters or ()),
        issuer=issuer.strip() if issuer and issuer != ALL and issuer.strip() else None,
        year_from=lo, year_to=hi,
        channel=channel if channel and channel != ALL else None,
    )


def respond(app: ReplyQA, question: str, conv: Conversation, filters: Filters) -> Iterator[Conversation]:
    """The chat turn: the question at once, the answer as it streams, then the final answer with
    clickable, verified citations (and the turn remembered for follow-ups)."""
    question = question.strip()
    if not question:
        return
    conv.messages.append({"role": "user", "content": render.user_html(question)})
    conv.messages.append({"role": "assistant", "content": render.partial_html("")})
    yield conv
    text = ""
    answer: Answer | None = None
    try:
        for piece in app.stream(question, conv.turns, filters=filters):
            if isinstance(piece, Answer):
                answer = piece
            else:
                text += piece
                conv.messages[-1] = {"role": "assistant", "content": render.partial_html(text)}
                yield conv
    except Exception as exc:  # the page must say what went wrong, not spin forever
        log.exception("answering %r failed", question)
        detail = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
        conv.messages[-1] = {"role": "assistant", "content": render.error_html(f"出错了：{detail}")}
        yield conv
        return
    if answer is None:
        return
    conv.answers.append(answer)
    conv.turns.append(app.turn_of(answer))
    conv.messages[-1] = {"role": "assistant", "content": render.answer_html(answer, len(conv.answers) - 1)}
    yield conv


def _key(value: str | None) -> str:
    """The payload of a hidden-textbox click (`payload|timestamp`)."""
    return (value or "").rpartition("|")[0]


# --- letters ----------------------------------------------------------------------------------
def match_letters(
    records: Sequence[LetterRecord], text: str | None, issuer: str | None, year: str | None, channel: str | None
) -> list[LetterRecord]:
    words = (text or "").split()
    out = []
    for r in records:
        hay = f"{r.title} {r.id} {r.issuer}"
        if any(w not in hay for w in words):
            continue
        if issuer and issuer != ALL and issuer.strip() not in r.issuer:
            continue
        if year and year != ALL and str(r.year) != str(year):
            continue
        if channel and channel != ALL and r.channel != channel:
            continue
        out.append(r)
    return sorted(out, key=lambda r: (r.date or "", r.id), reverse=True)


def _choices(records: Sequence[LetterRecord]) -> dict[str, list[tuple[str, str]]]:
    issuers = sorted({r.issuer for r in records if r.issuer})
    years = sorted({r.year for r in records if r.year > 0}, reverse=True)
    return {
        "issuer": [("全部单位", ALL)] + [(i, i) for i in issuers],
        "year": [("不限", ALL)] + [(str(y), str(y)) for y in years],
        "letters": [(f"{r.title}（{r.date or '日期不详'}）", r.id)
                    for r in sorted(records, key=lambda r: r.date or "", reverse=True)],
    }


CHANNEL_CHOICES = [("全部", ALL), ("人大建议", "NPC"), ("政协提案", "CPPCC"), ("其他", "other")]


# --- uploads ----------------------------------------------------------------------------------
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


# --- the page ---------------------------------------------------------------------------------
def build_app(app: ReplyQA) -> gr.Blocks:
    settings = app.settings
    choices = _choices(app.letters())
    exports = Path(tempfile.mkdtemp(prefix="replyqa-export-"))

    def ask(question: str, conv: Conversation, issuer: str, year_from: str, year_to: str, channel: str,
            letters: list[str]) -> Iterator[tuple[Any, ...]]:
        if not question.strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        filters = make_filters(issuer, year_from, year_to, channel, letters)
        for state in respond(app, question, conv, filters):
            copy = answer_with_references(state.answers[-1]) if state.answers else ""
            yield "", state, list(state.messages), copy

    def show_citation(key: str, conv: Conversation) -> Any:
        turn, _, n = _key(key).partition(":")
        if not (turn.isdigit() and n.isdigit()) or int(turn) >= len(conv.answers):
            return gr.skip()
        citation = next((c for c in conv.answers[int(turn)].citations if c.n == int(n)), None)
        if citation is None or not citation.verified:
            return gr.skip()
        return render.source_html(app.letter(citation.letter), citation, nonce=key.rpartition("|")[2])

    def new_conversation() -> tuple[Any, ...]:
        return Conversation(), [], SOURCE_PLACEHOLDER, "", gr.File(value=None, visible=False)

    def export(conv: Conversation, kind: str) -> Any:
        if not conv.answers:
            gr.Warning("还没有可导出的问答。")
            return gr.skip()
        folder = exports / uuid.uuid4().hex[:12]  # one folder per export: the file keeps a plain name
        folder.mkdir()
        path = folder / f"答复问答-{time.strftime('%Y%m%d-%H%M%S')}.{kind}"
        if kind == "docx":
            path.write_bytes(conversation_docx(conv.answers))
        else:
            path.write_text(conversation_markdown(conv.answers), encoding="utf-8")
        return gr.File(value=str(path), visible=True)

    def browse(text: str, issuer: str, year: str, channel: str) -> str:
        records = app.letters()
        return render.letter_list_html(match_letters(records, text, issuer, year, channel), len(records))

    def open_letter(key: str) -> tuple[Any, Any]:
        letter = app.letter(_key(key))
        if letter is None:
            return '<div class="rq-reader rq-warn">找不到这封答复，它可能已被移除。</div>', None
        return render.letter_html(letter), letter.id

    def refresh(text: str, issuer: str, year: str, channel: str) -> tuple[Any, ...]:
        new = _choices(app.letters())
        return (gr.Dropdown(choices=new["issuer"]), gr.Dropdown(choices=new["year"]), gr.Dropdown(choices=new["year"]),
                gr.Dropdown(choices=new["letters"]), gr.Dropdown(choices=new["issuer"]),
                gr.Dropdown(choices=new["year"]), browse(text, issuer, year, channel))

    def do_ingest(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        if not files:
            return '<div class="rq-warn">请先选择要导入的答复文件。</div>'
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

    def letters_api() -> list[dict[str, Any]]:
        """What is indexed: id, title, issuer, date, channel and chunk count per letter."""
        return [{"id": r.id, "title": r.title, "issuer": r.issuer or None, "date": r.date or None,
                 "channel": r.channel, "chunks": r.n_chunks} for r in app.letters()]

    def ask_api(question: str) -> dict[str, Any]:
        """One answer with its citations, as `replyqa ask --json` gives it."""
        return app.ask(question).model_dump(mode="json")

    private: dict[str, Any] = {"api_visibility": "private"}
    with gr.Blocks(title="答复问答助手", delete_cache=(3600, 86400)) as demo:
        conv = gr.State(Conversation())
        current_letter = gr.State(None)
        gr.Markdown("## 答复问答助手\n就已导入的人大建议、政协提案答复提问；答案逐句引用原文，点击引用标记即可核对。")
        with gr.Tabs() as tabs:
            with gr.Tab("问答", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            elem_id="rq-chat", label="对话", height=520, render_markdown=False, sanitize_html=True,
                            latex_delimiters=[], allow_tags=False, buttons=[], feedback_options=None,
                            placeholder="请在下方输入问题，例如：某项工作投入了多少资金？下一步怎么安排？",
                        )
                        with gr.Row():
                            question = gr.Textbox(elem_id="rq-question", show_label=False, scale=5, lines=1,
                                                  placeholder="输入问题后按回车发送；可以接着追问，如“那青河市呢？”")
                            send = gr.Button("发送", variant="primary", scale=1, elem_id="rq-send")
                        with gr.Row():
                            example_buttons = [gr.Button(q, size="sm", elem_classes=["rq-example"]) for q in EXAMPLES]
                        with gr.Row():
                            new_btn = gr.Button("新对话", elem_id="rq-new", size="sm")
                            copy_btn = gr.Button("复制引用", elem_id="rq-copy", size="sm")
                            docx_btn = gr.Button("导出 Word", elem_id="rq-export-docx", size="sm")
                            md_btn = gr.Button("导出 Markdown", elem_id="rq-export-md", size="sm")
                        export_file = gr.File(label="导出文件", visible=False, elem_id="rq-export", interactive=False)
                        with gr.Accordion("检索范围（可选）", open=False, elem_id="rq-filters"):
                            with gr.Row():
                                f_issuer = gr.Dropdown(choices=choices["issuer"], value=ALL, label="答复单位",
                                                       allow_custom_value=True, elem_id="rq-f-issuer",
                                                       info="可选择，也可输入单位名称的一部分，如“交通”")
                                f_from = gr.Dropdown(choices=choices["year"], value=ALL, label="年份从",
                                                     elem_id="rq-f-from")
                                f_to = gr.Dropdown(choices=choices["year"], value=ALL, label="年份至",
                                                   elem_id="rq-f-to")
                                f_channel = gr.Dropdown(choices=CHANNEL_CHOICES, value=ALL, label="渠道",
                                                        elem_id="rq-f-channel")
                            f_letters = gr.Dropdown(choices=choices["letters"], value=[], multiselect=True,
                                                    label="只在这些答复中检索", elem_id="rq-f-letters")
                    with gr.Column(scale=2):
                        source = gr.HTML(SOURCE_PLACEHOLDER, elem_id="rq-source", js_on_load=render.SCROLL_TO_MARK_JS)
                cite_key = gr.Textbox(visible="hidden", elem_id="rq-cite-key")
                copy_text = gr.Textbox(visible="hidden", elem_id="rq-copy-text")
            with gr.Tab("信件浏览", id="browse"):
                with gr.Row():
                    b_text = gr.Textbox(label="标题搜索", placeholder="输入标题、编号或单位中的文字",
                                        elem_id="rq-b-text", scale=2)
                    b_issuer = gr.Dropdown(choices=choices["issuer"], value=ALL, label="答复单位",
                                           allow_custom_value=True, elem_id="rq-b-issuer")
                    b_year = gr.Dropdown(choices=choices["year"], value=ALL, label="年份", elem_id="rq-b-year")
                    b_channel = gr.Dropdown(choices=CHANNEL_CHOICES, value=ALL, label="渠道", elem_id="rq-b-channel")
                with gr.Row():
                    with gr.Column(scale=2):
                        letter_list = gr.HTML(elem_id="rq-letter-list")
                    with gr.Column(scale=3):
                        reader = gr.HTML(READER_PLACEHOLDER, elem_id="rq-reader", js_on_load=render.SCROLL_TO_TOP_JS)
                        ask_this = gr.Button("就这封答复提问", size="sm", elem_id="rq-ask-this")
                letter_key = gr.Textbox(visible="hidden", elem_id="rq-letter-key")
            with gr.Tab("导入答复", id="upload"):
                gr.Markdown(f"支持 {' '.join(UPLOAD_TYPES)}，单个文件不超过 {settings.upload_max_mb} MB。"
                            "重新上传同名文件会更新对应的答复。")
                files = gr.File(label="选择答复文件", file_count="multiple", file_types=list(UPLOAD_TYPES),
                                elem_id="rq-upload")
                ingest_btn = gr.Button("开始导入", variant="primary", elem_id="rq-ingest")
                ingest_result = gr.HTML(elem_id="rq-ingest-result")

        filters = [f_issuer, f_from, f_to, f_channel, f_letters]
        chat_outputs = [question, conv, chatbot, copy_text]
        question.submit(ask, [question, conv, *filters], chat_outputs, api_visibility="private")
        send.click(ask, [question, conv, *filters], chat_outputs, api_visibility="private")
        for button, text in zip(example_buttons, EXAMPLES, strict=True):
            button.click(lambda text=text: text, None, question, **private).then(
                ask, [question, conv, *filters], chat_outputs, **private)
        cite_key.change(show_citation, [cite_key, conv], source, show_progress="hidden", **private)
        reset_outputs = [conv, chatbot, source, copy_text, export_file]
        new_btn.click(new_conversation, None, reset_outputs, **private)
        chatbot.clear(new_conversation, None, reset_outputs, **private)  # the chat's own 清除 icon
        copy_btn.click(None, copy_text, None, js=render.COPY_JS)
        docx_btn.click(lambda c: export(c, "docx"), conv, export_file, **private)
        md_btn.click(lambda c: export(c, "md"), conv, export_file, **private)

        browse_inputs = [b_text, b_issuer, b_year, b_channel]
        for component in browse_inputs:
            component.change(browse, browse_inputs, letter_list, show_progress="hidden", **private)
        letter_key.change(open_letter, letter_key, [reader, current_letter], show_progress="hidden", **private)
        ask_this.click(lambda lid: (gr.Dropdown(value=[lid] if lid else []), gr.Tabs(selected="chat")),
                       current_letter, [f_letters, tabs], **private)
        facet_outputs = [f_issuer, f_from, f_to, f_letters, b_issuer, b_year, letter_list]
        ingest_btn.click(do_ingest, files, ingest_result, **private).then(
            refresh, browse_inputs, facet_outputs, **private)

        demo.load(refresh, browse_inputs, facet_outputs, **private)
        demo.load(None, js=render.PAGE_JS)
        gr.api(letters_api, api_name="letters")
        gr.api(ask_api, api_name="ask")
    return demo


def serve(
    app: ReplyQA,
    host: str | None = None,
    port: int | None = None,
    *,
    users: Mapping[str, str] | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> gr.Blocks:
    """Build the page and serve it; with users (given, or from the settings) it needs a login,
    for the page and for every API route alike."""
    settings = app.settings
    demo = build_app(app)
    auth = make_auth(users if users is not None else users_from_settings(settings))
    demo.queue(default_concurrency_limit=2)
    demo.launch(
        server_name=host or settings.host,
        server_port=port or settings.port,
        auth=auth,
        auth_message="请使用分配的账号登录答复问答助手。" if auth else None,
        max_file_size=f"{settings.upload_max_mb}mb",
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        show_error=True,
        ssr_mode=False,
        footer_links=["api", "settings"],
    )
    return demo
