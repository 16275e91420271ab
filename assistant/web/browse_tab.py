"""The 信件浏览 tab: find a letter by words of its title, id or issuer and by facets, read it
whole with a clickable outline, and ask about it.

Rows of the list are our own HTML (`render.letter_list_html`); a click on one reaches the
server through the hidden `rq-letter-key` textbox, as citation clicks do (see `state`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.service import ReplyQA
from assistant.web import assets, render
from assistant.web.facets import ALL, CHANNEL_CHOICES, Choices, match_letters
from assistant.web.state import click_payload

READER_PLACEHOLDER = '<div class="rq-reader rq-notfound">在左侧列表中点击一封答复即可阅读全文。</div>'


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

    @property
    def inputs(self) -> list[Any]:
        """What the list is filtered by, in `letter_list`'s argument order."""
        return [self.text, self.issuer, self.year, self.channel]


def letter_list(app: ReplyQA, text: str, issuer: str, year: str, channel: str) -> str:
    """The list as the filters say, over the index as it is now."""
    records = app.letters()
    return render.letter_list_html(match_letters(records, text, issuer, year, channel), len(records))


def build_browse_tab(app: ReplyQA, current_letter: gr.State, choices: dict[str, Choices]) -> BrowseTab:
    """The tab and its own events; `current_letter` receives the id of the letter being read."""
    with gr.Tab("信件浏览", id="browse"):
        with gr.Row():
            text = gr.Textbox(label="标题搜索", placeholder="输入标题、编号或单位中的文字",
                              elem_id="rq-b-text", scale=2)
            issuer = gr.Dropdown(choices=choices["issuer"], value=ALL, label="答复单位",
                                 allow_custom_value=True, elem_id="rq-b-issuer")
            year = gr.Dropdown(choices=choices["year"], value=ALL, label="年份", elem_id="rq-b-year")
            channel = gr.Dropdown(choices=CHANNEL_CHOICES, value=ALL, label="渠道", elem_id="rq-b-channel")
        with gr.Row():
            with gr.Column(scale=2):
                shown = gr.HTML(elem_id="rq-letter-list")
            with gr.Column(scale=3):
                reader = gr.HTML(READER_PLACEHOLDER, elem_id="rq-reader", js_on_load=assets.scroll_to_top_js())
                ask_this = gr.Button("就这封答复提问", size="sm", elem_id="rq-ask-this")
        letter_key = gr.Textbox(visible="hidden", elem_id="rq-letter-key")
    tab = BrowseTab(text, issuer, year, channel, shown, reader, ask_this, letter_key)

    # The handlers' names become their (private) api names in the page config: keep them.
    def browse(text: str, issuer: str, year: str, channel: str) -> str:
        return letter_list(app, text, issuer, year, channel)

    def open_letter(key: str) -> tuple[Any, Any]:
        letter = app.letter(click_payload(key))
        if letter is None:
            return '<div class="rq-reader rq-warn">找不到这封答复，它可能已被移除。</div>', None
        return render.letter_html(letter), letter.id

    private: dict[str, Any] = {"api_visibility": "private"}
    for component in tab.inputs:
        component.change(browse, tab.inputs, tab.letter_list, show_progress="hidden", **private)
    tab.letter_key.change(open_letter, tab.letter_key, [tab.reader, current_letter], show_progress="hidden", **private)
    return tab
