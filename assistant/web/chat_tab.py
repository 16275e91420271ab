"""The 问答 tab: ask (with follow-ups and filters), check each citation in one click, copy or
export the answer with draft-ready references.

The answer bubbles are our own escaped HTML (`render`) in a Chatbot with Markdown off. A click
on `[n]` reaches the server through the hidden `rq-cite-key` textbox (see `state`); its
`change` event renders the source panel, whose own `js_on_load` scrolls the `<mark>` into view.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.service import ReplyQA
from assistant.web import assets, render
from assistant.web.export import answer_with_references, conversation_docx, conversation_markdown
from assistant.web.facets import ALL, CHANNEL_CHOICES, Choices, make_filters
from assistant.web.state import Conversation, click_nonce, click_payload, respond

EXAMPLES = (
    "2022年青河市农村公路建设完成了多少投资？",
    "既有住宅加装一部电梯政府补贴多少？",
    "东川省在哪些城市试行了长期护理保险？",
    "哪些答复提到了新能源公交车辆？",
)
SOURCE_PLACEHOLDER = '<div class="rq-src rq-notfound">点击答案中的 [1]、[2] 等引用标记，在这里核对答复原文。</div>'


@dataclass
class ChatTab:
    """The tab's components that other tabs and the page reach into."""

    chatbot: gr.Chatbot
    question: gr.Textbox
    send: gr.Button
    examples: list[gr.Button]
    new: gr.Button
    copy: gr.Button
    docx: gr.Button
    md: gr.Button
    export_file: gr.File
    f_issuer: gr.Dropdown
    f_from: gr.Dropdown
    f_to: gr.Dropdown
    f_channel: gr.Dropdown
    f_letters: gr.Dropdown
    source: gr.HTML
    cite_key: gr.Textbox
    copy_text: gr.Textbox

    @property
    def filters(self) -> list[gr.Dropdown]:
        return [self.f_issuer, self.f_from, self.f_to, self.f_channel, self.f_letters]


def build_chat_tab(app: ReplyQA, conv: gr.State, choices: dict[str, Choices], exports: Path) -> ChatTab:
    """The tab and its own events; `exports` is the folder exported files are served from."""
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
                    examples = [gr.Button(q, size="sm", elem_classes=["rq-example"]) for q in EXAMPLES]
                with gr.Row():
                    new = gr.Button("新对话", elem_id="rq-new", size="sm")
                    copy = gr.Button("复制引用", elem_id="rq-copy", size="sm")
                    docx = gr.Button("导出 Word", elem_id="rq-export-docx", size="sm")
                    md = gr.Button("导出 Markdown", elem_id="rq-export-md", size="sm")
                export_file = gr.File(label="导出文件", visible=False, elem_id="rq-export", interactive=False)
                f_issuer, f_from, f_to, f_channel, f_letters = _filters(choices)
            with gr.Column(scale=2):
                source = gr.HTML(SOURCE_PLACEHOLDER, elem_id="rq-source", js_on_load=assets.scroll_to_mark_js())
        cite_key = gr.Textbox(visible="hidden", elem_id="rq-cite-key")
        copy_text = gr.Textbox(visible="hidden", elem_id="rq-copy-text")
    tab = ChatTab(chatbot, question, send, examples, new, copy, docx, md, export_file,
                  f_issuer, f_from, f_to, f_channel, f_letters, source, cite_key, copy_text)
    _wire(app, conv, tab, exports)
    return tab


def _filters(choices: dict[str, Choices]) -> tuple[gr.Dropdown, ...]:
    """检索范围: closed by default, so the page opens as a plain chat."""
    with gr.Accordion("检索范围（可选）", open=False, elem_id="rq-filters"):
        with gr.Row():
            f_issuer = gr.Dropdown(choices=choices["issuer"], value=ALL, label="答复单位",
                                   allow_custom_value=True, elem_id="rq-f-issuer",
                                   info="可选择，也可输入单位名称的一部分，如“交通”")
            f_from = gr.Dropdown(choices=choices["year"], value=ALL, label="年份从", elem_id="rq-f-from")
            f_to = gr.Dropdown(choices=choices["year"], value=ALL, label="年份至", elem_id="rq-f-to")
            f_channel = gr.Dropdown(choices=CHANNEL_CHOICES, value=ALL, label="渠道", elem_id="rq-f-channel")
        f_letters = gr.Dropdown(choices=choices["letters"], value=[], multiselect=True,
                                label="只在这些答复中检索", elem_id="rq-f-letters")
    return f_issuer, f_from, f_to, f_channel, f_letters


def _wire(app: ReplyQA, conv: gr.State, tab: ChatTab, exports: Path) -> None:
    # Page events are not API endpoints (only `app`'s `letters` and `ask` are), but the handlers'
    # names still become their api names in the page config: keep them.
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
        turn, _, n = click_payload(key).partition(":")
        if not (turn.isdigit() and n.isdigit()) or int(turn) >= len(conv.answers):
            return gr.skip()
        citation = next((c for c in conv.answers[int(turn)].citations if c.n == int(n)), None)
        if citation is None or not citation.verified:
            return gr.skip()
        return render.source_html(app.letter(citation.letter), citation, nonce=click_nonce(key))

    def new_conversation() -> tuple[Any, ...]:
        return Conversation(), [], SOURCE_PLACEHOLDER, "", gr.File(value=None, visible=False)

    private: dict[str, Any] = {"api_visibility": "private"}
    inputs = [tab.question, conv, *tab.filters]
    outputs = [tab.question, conv, tab.chatbot, tab.copy_text]
    tab.question.submit(ask, inputs, outputs, **private)
    tab.send.click(ask, inputs, outputs, **private)
    for button, text in zip(tab.examples, EXAMPLES, strict=True):
        button.click(lambda text=text: text, None, tab.question, **private).then(ask, inputs, outputs, **private)
    tab.cite_key.change(show_citation, [tab.cite_key, conv], tab.source, show_progress="hidden", **private)
    reset = [conv, tab.chatbot, tab.source, tab.copy_text, tab.export_file]
    tab.new.click(new_conversation, None, reset, **private)
    tab.chatbot.clear(new_conversation, None, reset, **private)  # the chat's own 清除 icon
    tab.copy.click(None, tab.copy_text, None, js=assets.copy_js())
    tab.docx.click(lambda c: write_export(c, "docx", exports), conv, tab.export_file, **private)
    tab.md.click(lambda c: write_export(c, "md", exports), conv, tab.export_file, **private)


def write_export(conv: Conversation, kind: str, exports: Path) -> Any:
    """The conversation as a `.docx` or `.md` download, in a folder of its own under `exports`
    so that the file keeps a plain, readable name."""
    if not conv.answers:
        gr.Warning("还没有可导出的问答。")
        return gr.skip()
    folder = exports / uuid.uuid4().hex[:12]
    folder.mkdir()
    path = folder / f"答复问答-{time.strftime('%Y%m%d-%H%M%S')}.{kind}"
    if kind == "docx":
        path.write_bytes(conversation_docx(conv.answers))
    else:
        path.write_text(conversation_markdown(conv.answers), encoding="utf-8")
    return gr.File(value=str(path), visible=True)
