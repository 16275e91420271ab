"""The 命中测试 tab: for a question, what retrieval found (ranked passages) and why each candidate
sentence was taken or refused — the question asked alone, in the chat's scope if wanted.

Read-only, so open to every user of the page. The panel's content is `explain`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.ask.retrieve import Filters
from assistant.service import ReplyQA
from assistant.web.explain import examination_html
from assistant.web.facets import make_filters, scope_words

PLACEHOLDER = ('<div class="rq-notfound">输入一个问题并点击“测试”，查看检索到的段落和每个候选句子'
               "被采用或未被采用的原因。</div>")


@dataclass
class HitTestTab:
    question: gr.Textbox
    use_scope: gr.Checkbox
    run: gr.Button
    result: gr.HTML


def answer_bar(app: ReplyQA) -> float | None:
    """The probability the best sentence must reach to be given as an answer, if the engine has one."""
    calibration = getattr(getattr(app, "asking", None), "calibration", None)
    value = getattr(calibration, "threshold", None)
    return float(value) if isinstance(value, int | float) else None


def hit_test(app: ReplyQA, question: str, filters: Filters) -> str:
    question = question.strip()
    if not question:
        return '<div class="rq-warn">请先输入要测试的问题。</div>'
    titles = {r.id: r.title for r in app.letters()}
    examined = app.examine(question, (), filters=filters)
    answer = app.ask(question, (), filters=filters)
    return examination_html(examined, answer, answer_bar(app), lambda i: titles.get(i, i), scope_words(filters, titles))


def build_hittest_tab(app: ReplyQA, chat_filters: list[Any]) -> HitTestTab:
    with gr.Tab("命中测试", id="hittest"):
        gr.Markdown("检查一个问题为什么得到现在的回答：检索到了哪些段落、名次如何，每个候选句子为什么被采用或没有被采用。")
        with gr.Row():
            question = gr.Textbox(label="要测试的问题", elem_id="rq-h-question", scale=4,
                                  placeholder="如：2022年青河市农村公路建设完成了多少投资？")
            run = gr.Button("测试", variant="primary", elem_id="rq-h-run", scale=1)
        use_scope = gr.Checkbox(value=True, label="使用问答页当前的检索范围", elem_id="rq-h-scope")
        result = gr.HTML(PLACEHOLDER, elem_id="rq-h-result")
    tab = HitTestTab(question, use_scope, run, result)

    def examine_question(question: str, use_scope: bool, issuer: str, year_from: str, year_to: str, channel: str,
                         letters: list[str]) -> str:
        filters = make_filters(issuer, year_from, year_to, channel, letters) if use_scope else Filters()
        return hit_test(app, question, filters)

    inputs = [question, use_scope, *chat_filters]
    for event in (run.click, question.submit):
        event(examine_question, inputs, result, api_visibility="private")
    return tab
