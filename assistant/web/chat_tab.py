"""The 问答 tab: ask (with follow-ups, in a scope you can see), check each citation in one click,
open the whole letter from any citation or lead, copy or export the answer with draft-ready
references.

The answer bubbles are our own escaped HTML (`render`) in a Chatbot with Markdown off. Clicks
in them reach the server through hidden textboxes (see `state`): `rq-cite-key` for `[n]` (its
`change` event renders the source panel, whose own `js_on_load` scrolls the `<mark>` into
view), `rq-open-key` for 查看全文 (wired by the page, since it opens the browse tab),
`rq-retry-key` for 在全部答复中再问, `rq-scope-key` for a click on a scope chip.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.ask.retrieve import Filters
from assistant.service import ReplyQA
from assistant.web import assets, render
from assistant.web.examples import COUNT
from assistant.web.export import conversation_docx, conversation_markdown
from assistant.web.facets import ALL, CHANNEL_CHOICES, Choices, describe_scope, make_filters, scope_words
from assistant.web.letters_html import source_html
from assistant.web.references import answer_with_references
from assistant.web.state import Conversation, click_nonce, click_payload, respond

SOURCE_PLACEHOLDER = '<div class="rq-src rq-notfound">点击答案中的 [1]、[2] 等引用标记，在这里核对答复原文。</div>'
NO_EXAMPLES = "尚未导入答复：请先在“导入答复”中导入答复文件，再来提问。"


@dataclass
class ChatTab:
    """The tab's components that other tabs and the page reach into."""

    chatbot: gr.Chatbot
    question: gr.Textbox
    send: gr.Button
    examples: list[gr.Button]
    examples_note: gr.Markdown
    new: gr.Button
    copy: gr.Button
    docx: gr.Button
    md: gr.Button
    export_file: gr.File
    scope: gr.HTML
    f_issuer: gr.Dropdown
    f_from: gr.Dropdown
    f_to: gr.Dropdown
    f_channel: gr.Dropdown
    f_letters: gr.Dropdown
    source: gr.HTML
    cite_key: gr.Textbox
    open_key: gr.Textbox
    retry_key: gr.Textbox
    scope_key: gr.Textbox
    copy_text: gr.Textbox

    @property
    def filters(self) -> list[gr.Dropdown]:
        return [self.f_issuer, self.f_from, self.f_to, self.f_channel, self.f_letters]


def build_chat_tab(app: ReplyQA, conv: gr.State, choices: dict[str, Choices], exports: Path,
                   letters_note: str | None = None) -> ChatTab:
    """The tab and its own events; `exports` is the folder exported files are served from, and
    `letters_note` says when 只在这些答复中检索 does not list every letter."""
    with gr.Tab("问答", id="chat"):
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    elem_id="rq-chat", label="对话", height=520, render_markdown=False, sanitize_html=True,
                    latex_delimiters=[], allow_tags=False, buttons=[], feedback_options=None,
                    placeholder="请在下方输入问题，例如：某项工作投入了多少资金？下一步怎么安排？",
                )
                scope = gr.HTML(render.scope_html([]), elem_id="rq-scope")
                with gr.Row():
                    question = gr.Textbox(elem_id="rq-question", label="问题", show_label=False, scale=5, lines=1,
                                          placeholder="输入问题后按回车发送；可以接着追问，如“那青河市呢？”")
                    send = gr.Button("发送", variant="primary", scale=1, elem_id="rq-send")
                examples_note = gr.Markdown(NO_EXAMPLES, visible=False, elem_id="rq-no-examples")
                with gr.Row(elem_id="rq-examples"):
                    examples = [gr.Button("", size="sm", visible=False, elem_classes=["rq-example"])
                                for _ in range(COUNT)]
                with gr.Row():
                    new = gr.Button("新对话", elem_id="rq-new", size="sm")
                    copy = gr.Button("复制引用", elem_id="rq-copy", size="sm")
                    docx = gr.Button("导出 Word", elem_id="rq-export-docx", size="sm")
                    md = gr.Button("导出 Markdown", elem_id="rq-export-md", size="sm")
                export_file = gr.File(label="导出文件", visible=False, elem_id="rq-export", interactive=False)
                f_issuer, f_from, f_to, f_channel, f_letters = _filters(choices, letters_note)
            with gr.Column(scale=2):
                source = gr.HTML(SOURCE_PLACEHOLDER, elem_id="rq-source", js_on_load=assets.scroll_to_mark_js())
        cite_key = gr.Textbox(visible="hidden", elem_id="rq-cite-key", label="所点引用")
        open_key = gr.Textbox(visible="hidden", elem_id="rq-open-key", label="要打开的答复")
        retry_key = gr.Textbox(visible="hidden", elem_id="rq-retry-key", label="在全部答复中再问")
        scope_key = gr.Textbox(visible="hidden", elem_id="rq-scope-key", label="要取消的检索范围")
        copy_text = gr.Textbox(visible="hidden", elem_id="rq-copy-text", label="复制内容")
    tab = ChatTab(chatbot, question, send, examples, examples_note, new, copy, docx, md, export_file, scope,
                  f_issuer, f_from, f_to, f_channel, f_letters, source, cite_key, open_key, retry_key, scope_key,
                  copy_text)
    _wire(app, conv, tab, exports)
    return tab


def _filters(choices: dict[str, Choices], letters_note: str | None) -> tuple[gr.Dropdown, ...]:
    """检索范围: closed by default, so the page opens as a plain chat; what is set in it shows
    as chips by the question box all the same."""
    with gr.Accordion("检索范围（可选）", open=False, elem_id="rq-filters"):
        with gr.Row():
            f_issuer = gr.Dropdown(choices=choices["issuer"], value=ALL, label="答复单位",
                                   allow_custom_value=True, elem_id="rq-f-issuer",
                                   info="可选择，也可输入单位名称的一部分，如“交通”")
            f_from = gr.Dropdown(choices=choices["year"], value=ALL, label="年份从", elem_id="rq-f-from")
            f_to = gr.Dropdown(choices=choices["year"], value=ALL, label="年份至", elem_id="rq-f-to")
            f_channel = gr.Dropdown(choices=CHANNEL_CHOICES, value=ALL, label="渠道", elem_id="rq-f-channel")
        f_letters = gr.Dropdown(choices=choices["letters"], value=[], multiselect=True, info=letters_note,
                                label="只在这些答复中检索", elem_id="rq-f-letters")
    return f_issuer, f_from, f_to, f_channel, f_letters


def cleared_filters() -> tuple[Any, ...]:
    """Every filter back to 全部 / 不限 / none."""
    return gr.Dropdown(value=ALL), gr.Dropdown(value=ALL), gr.Dropdown(value=ALL), gr.Dropdown(value=ALL), \
        gr.Dropdown(value=[])


def titles_for(app: ReplyQA, filters: Filters) -> dict[str, str]:
    """The names of the letters a scope narrows to (read only when it does)."""
    return {r.id: r.title for r in app.letters()} if filters.letters else {}


def scope_of(app: ReplyQA, filters: Filters) -> list[tuple[str, str]]:
    return describe_scope(filters, titles_for(app, filters))


def _wire(app: ReplyQA, conv: gr.State, tab: ChatTab, exports: Path) -> None:
    # Page events are not API endpoints (only the page's `ask` and `letters` are), but the
    # handlers' names still take api names in the page config: none of them may be `ask`.
    def chat_turn(question: str, conv: Conversation, issuer: str, year_from: str, year_to: str, channel: str,
                  letters: list[str]) -> Iterator[tuple[Any, ...]]:
        if not question.strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        filters = make_filters(issuer, year_from, year_to, channel, letters)
        for state in respond(app, question, conv, filters, scope_words(filters, titles_for(app, filters))):
            copy = answer_with_references(state.answers[-1], state.sources) if state.answers else ""
            yield "", state, list(state.messages), copy

    def ask_everywhere(key: str, conv: Conversation) -> Iterator[tuple[Any, ...]]:
        turn = click_payload(key)
        if not turn.isdigit() or int(turn) >= len(conv.answers):
            return
        question = conv.answers[int(turn)].question
        for state in respond(app, question, conv, Filters()):
            copy = answer_with_references(state.answers[-1], state.sources) if state.answers else ""
            yield ("", state, list(state.messages), copy, *cleared_filters())

    def show_citation(key: str, conv: Conversation) -> Any:
        turn, _, n = click_payload(key).partition(":")
        if not (turn.isdigit() and n.isdigit()) or int(turn) >= len(conv.answers):
            return gr.skip()
        citation = next((c for c in conv.answers[int(turn)].citations if c.n == int(n)), None)
        if citation is None or not citation.verified:
            return gr.skip()
        return source_html(app.letter(citation.letter), citation, nonce=click_nonce(key), turn=int(turn))

    def show_scope(issuer: str, year_from: str, year_to: str, channel: str, letters: list[str]) -> str:
        return render.scope_html(scope_of(app, make_filters(issuer, year_from, year_to, channel, letters)))

    def drop_scope(key: str, issuer: str, year_from: str, year_to: str, channel: str,
                   letters: list[str]) -> tuple[Any, ...]:
        part = click_payload(key)
        keep = gr.skip()
        return (
            gr.Dropdown(value=ALL) if part in ("issuer", "all") else keep,
            gr.Dropdown(value=ALL) if part in ("years", "all") else keep,
            gr.Dropdown(value=ALL) if part in ("years", "all") else keep,
            gr.Dropdown(value=ALL) if part in ("channel", "all") else keep,
            gr.Dropdown(value=[]) if part in ("letters", "all") else keep,
        )

    def new_conversation() -> tuple[Any, ...]:
        return (Conversation(), [], SOURCE_PLACEHOLDER, "", gr.File(value=None, visible=False), *cleared_filters())

    private: dict[str, Any] = {"api_visibility": "private"}
    inputs = [tab.question, conv, *tab.filters]
    outputs = [tab.question, conv, tab.chatbot, tab.copy_text]
    tab.question.submit(chat_turn, inputs, outputs, **private)
    tab.send.click(chat_turn, inputs, outputs, **private)
    for button in tab.examples:
        button.click(lambda text: text, button, tab.question, **private).then(chat_turn, inputs, outputs, **private)
    tab.retry_key.change(ask_everywhere, [tab.retry_key, conv], [*outputs, *tab.filters], **private)
    tab.cite_key.change(show_citation, [tab.cite_key, conv], tab.source, show_progress="hidden", **private)
    for component in tab.filters:
        component.change(show_scope, tab.filters, tab.scope, show_progress="hidden", **private)
    tab.scope_key.change(drop_scope, [tab.scope_key, *tab.filters], tab.filters, show_progress="hidden", **private)
    reset = [conv, tab.chatbot, tab.source, tab.copy_text, tab.export_file, *tab.filters]
    tab.new.click(new_conversation, None, reset, **private)
    tab.chatbot.clear(new_conversation, None, reset, **private)  # the chat's own 清除 icon
    tab.copy.click(None, tab.copy_text, None, js=assets.copy_js())
    tab.docx.click(lambda c: write_export(c, "docx", exports), conv, tab.export_file, **private)
    tab.md.click(lambda c: write_export(c, "md", exports), conv, tab.export_file, **private)


def write_export(conv: Conversation, kind: str, exports: Path) -> Any:
    """The conversation as a `.docx` or `.md` download, in a folder of its own under `exports`
    so that the file keeps a plain, readable name."""
    if not conv.answers:
        gr.Warning("还没有可导出的问答。", title="提示")
        return gr.skip()
    folder = exports / uuid.uuid4().hex[:12]
    folder.mkdir()
    path = folder / f"答复问答-{time.strftime('%Y%m%d-%H%M%S')}.{kind}"
    if kind == "docx":
        path.write_bytes(conversation_docx(conv.answers, conv.sources))
    else:
        path.write_text(conversation_markdown(conv.answers, conv.sources), encoding="utf-8")
    return gr.File(value=str(path), visible=True)

