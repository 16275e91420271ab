"""The 信件浏览 tab: find any letter (words of its title, the suggestion it answers, the deputy
or member, its 文号 or number, or its text) and by facets, read it whole with a clickable
outline, ask about it — and, for users allowed to, delete it, read it again from its file, or
correct its title, issuer or date.

Rows of the list are our own HTML (`letters_html.letter_list_html`); a click on one reaches the
server through the hidden `rq-letter-key` textbox, as citation clicks do (see `state`). The
reader's own script (`static/reader.js`) brings an opened letter — and the quote it was opened
for — into view, on a phone too, where the reader sits far below the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from assistant.service import ReplyQA
from assistant.web import assets, manage
from assistant.web.facets import ALL, CHANNEL_CHOICES, Choices
from assistant.web.letters_html import letter_html, letter_list_html
from assistant.web.manage import ManagePolicy
from assistant.web.render import esc
from assistant.web.search import search
from assistant.web.state import click_nonce, click_payload

READER_PLACEHOLDER = '<div class="rq-reader rq-notfound">在列表中点击一封答复即可阅读全文。</div>'


@dataclass
class BrowseTab:
    """The tab's components that the page reaches into."""

    text: gr.Textbox
    issuer: gr.Dropdown
    year: gr.Dropdown
    channel: gr.Dropdown
    letter_list: gr.HTML
    reader: gr.HTML
    ask_this: gr.Button
    letter_key: gr.Textbox
    manage_box: gr.Column
    form: list[gr.Textbox]
    status: gr.HTML
    changed: list[Any] = field(default_factory=list)
    """Events after which the index is different: the page refreshes its facets after them."""

    @property
    def inputs(self) -> list[Any]:
        """What the list is filtered by, in `letter_list`'s argument order."""
        return [self.text, self.issuer, self.year, self.channel]

    @property
    def opened(self) -> list[Any]:
        """What opening a letter sets (`open_outputs` returns them in this order)."""
        return [self.reader, *self.form, self.status]


def letter_list(app: ReplyQA, text: str, issuer: str, year: str, channel: str) -> str:
    """The list as the search and the facets say, over the index as it is now."""
    entries = app.catalog.entries()
    return letter_list_html(search(app.catalog, entries, text, issuer, year, channel), len(entries), query=text or "")


def open_outputs(app: ReplyQA, letter_id: str, *, highlight: tuple[int, int] | None = None,
                 nonce: str = "") -> tuple[Any, ...]:
    """The reader showing a letter (the quote it was opened for marked), the correction form
    filled in for it, the status line cleared — or a warning when the letter is gone."""
    letter = app.letter(letter_id) if letter_id else None
    if letter is None:
        gone = '<div class="rq-reader rq-warn">找不到这封答复，它可能已被移除。</div>'
        return gone, "", "", "", ""
    html = letter_html(letter, highlight=highlight, correction=app.catalog.correction(letter.id), nonce=nonce)
    return (html, *manage.form_values(letter), "")


def _status(outcome: manage.Outcome) -> str:
    return f'<div class="{"rq-ok" if outcome.ok else "rq-warn"}" role="status">{esc(outcome.message)}</div>'


def build_browse_tab(app: ReplyQA, current_letter: gr.State, choices: dict[str, Choices],
                     policy: ManagePolicy) -> BrowseTab:
    """The tab and its own events; `current_letter` receives the id of the letter being read."""
    with gr.Tab("信件浏览", id="browse"):
        with gr.Row(elem_classes=["rq-b-filters"]):
            text = gr.Textbox(label="搜索答复", placeholder="标题、所答建议、代表委员、文号、编号或正文中的词",
                              elem_id="rq-b-text", scale=2)
            issuer = gr.Dropdown(choices=choices["issuer"], value=ALL, label="答复单位",
                                 allow_custom_value=True, elem_id="rq-b-issuer")
            year = gr.Dropdown(choices=choices["year"], value=ALL, label="年份", elem_id="rq-b-year")
            channel = gr.Dropdown(choices=CHANNEL_CHOICES, value=ALL, label="渠道", elem_id="rq-b-channel")
        with gr.Row():
            with gr.Column(scale=1):
                shown = gr.HTML(elem_id="rq-letter-list")
            with gr.Column(scale=1):
                reader = gr.HTML(READER_PLACEHOLDER, elem_id="rq-reader", js_on_load=assets.reader_js())
                ask_this = gr.Button("就这封答复提问", size="sm", elem_id="rq-ask-this")
                with gr.Column(visible=False, elem_id="rq-manage", variant="panel") as manage_box:
                    gr.Markdown("**管理这封答复**（更正的字段在重新导入后仍会保留，并标注“已更正”）")
                    with gr.Row():
                        f_title = gr.Textbox(label="标题", elem_id="rq-m-title", scale=2)
                        f_issuer = gr.Textbox(label="答复单位", elem_id="rq-m-issuer")
                        f_date = gr.Textbox(label="日期", placeholder="如 2023-06-18", elem_id="rq-m-date")
                    with gr.Row():
                        save = gr.Button("保存更正", size="sm", variant="primary", elem_id="rq-m-save")
                        undo = gr.Button("撤销更正", size="sm", elem_id="rq-m-undo")
                        again = gr.Button("重新解析", size="sm", elem_id="rq-m-reparse")
                        delete = gr.Button("删除这封答复", size="sm", variant="stop", elem_id="rq-m-delete")
                    with gr.Row(visible=False, elem_id="rq-m-confirm") as confirm_row:
                        confirm = gr.Button("确认删除", size="sm", variant="stop", elem_id="rq-m-confirm-yes")
                        cancel = gr.Button("取消", size="sm", elem_id="rq-m-confirm-no")
                    status = gr.HTML(elem_id="rq-m-status")
        letter_key = gr.Textbox(visible="hidden", elem_id="rq-letter-key", label="所选答复")
    tab = BrowseTab(text, issuer, year, channel, shown, reader, ask_this, letter_key, manage_box,
                    [f_title, f_issuer, f_date], status)
    _wire(app, tab, current_letter, policy, save, undo, again, delete, confirm_row, confirm, cancel)
    return tab


def _wire(app: ReplyQA, tab: BrowseTab, current_letter: gr.State, policy: ManagePolicy, save: gr.Button,
          undo: gr.Button, again: gr.Button, delete: gr.Button, confirm_row: gr.Row, confirm: gr.Button,
          cancel: gr.Button) -> None:
    # The handlers' names become their (private) api names in the page config: keep them
    # distinct from the public `ask` and `letters`.
    def browse(text: str, issuer: str, year: str, channel: str) -> str:
        return letter_list(app, text, issuer, year, channel)

    def open_letter(key: str) -> tuple[Any, ...]:
        letter_id = click_payload(key)
        return (*open_outputs(app, letter_id, nonce=click_nonce(key)), letter_id or None)

    def act(action: Any) -> Any:
        """A management handler: the open letter and the correction form in, the reader, the
        form, the status line and the open letter out; refused unless the user may manage."""

        def run(letter_id: str | None, title: str, issuer: str, date: str,
                request: gr.Request) -> tuple[Any, ...]:
            if not letter_id:
                outcome = manage.Outcome(False, "请先打开一封答复。", ok=False)
            elif not policy.allows(getattr(request, "username", None)):
                outcome = manage.Outcome(False, manage.REFUSED, ok=False)
            else:
                outcome = action(letter_id, {"title": title, "issuer": issuer, "date": date})
                if action is delete_letter and outcome.ok:
                    return READER_PLACEHOLDER, "", "", "", _status(outcome), None
                *shown, _ = open_outputs(app, letter_id)
                return (*shown, _status(outcome), letter_id)
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), _status(outcome), letter_id

        return run

    def delete_letter(letter_id: str, form: dict[str, str]) -> manage.Outcome:
        return manage.delete(app, letter_id)

    private: dict[str, Any] = {"api_visibility": "private"}
    for component in tab.inputs:
        component.change(browse, tab.inputs, tab.letter_list, show_progress="hidden", **private)
    tab.letter_key.change(open_letter, tab.letter_key, [*tab.opened, current_letter], show_progress="hidden",
                          **private)
    inputs, outputs = [current_letter, *tab.form], [*tab.opened, current_letter]
    tab.changed += [
        save.click(act(lambda i, form: manage.correct(app, i, form)), inputs, outputs, **private),
        undo.click(act(lambda i, form: manage.withdraw(app, i)), inputs, outputs, **private),
        again.click(act(lambda i, form: manage.reparse(app, i)), inputs, outputs, **private),
    ]
    delete.click(lambda: gr.Row(visible=True), None, confirm_row, **private)
    cancel.click(lambda: gr.Row(visible=False), None, confirm_row, **private)
    removed = confirm.click(lambda: gr.Row(visible=False), None, confirm_row, **private).then(
        act(delete_letter), inputs, outputs, **private)
    tab.changed.append(removed)
