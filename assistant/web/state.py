"""What the page remembers per browser session, how a chat turn changes it, and how the page's
own JavaScript tells the server what was clicked.

A click on `[n]` or on a letter row is not a Gradio event: `static/page.js` writes
`payload|timestamp` into a hidden textbox (`visible="hidden"` keeps it in the DOM) and the
textbox's `change` event does the work. The timestamp makes every click a change, so the same
marker clicked twice still answers; the server only needs the payload.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from assistant.ask.answer import Answer
from assistant.ask.conversation import Turn
from assistant.ask.retrieve import Filters
from assistant.service import ReplyQA
from assistant.web import render
from assistant.web.references import SourceFacts, answer_letters, sources_for
from index.storage.records import StoreError

log = logging.getLogger(__name__)


@dataclass
class Conversation:
    """One browser session's conversation: answers (for citations and export), the turns the
    service needs for follow-ups, and the chat messages as shown."""

    answers: list[Answer] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    messages: list[dict[str, str]] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)
    """Per answer, the scope it was searched in, in words ("" for all letters)."""
    sources: dict[str, SourceFacts] = field(default_factory=dict)
    """The 文号 and sample mark of every letter the answers cite or offer, for their references."""

    def remember(self, app: ReplyQA, answer: Answer) -> None:
        missing = [i for i in answer_letters([answer]) if i not in self.sources]
        self.sources.update(sources_for(missing, app.letter))


def respond(
    app: ReplyQA, question: str, conv: Conversation, filters: Filters, scope: str = ""
) -> Iterator[Conversation]:
    """The chat turn: the question at once, the answer as it streams, then the final answer with
    clickable, verified citations (and the turn remembered for follow-ups). `scope` says in
    words what `filters` narrow the search to, for a 未找到 to say so."""
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
        detail = str(exc) if isinstance(exc, StoreError) else "回答时发生内部错误，详情已记入服务器日志"
        conv.messages[-1] = {"role": "assistant", "content": render.error_html(f"出错了：{detail}。")}
        yield conv
        return
    if answer is None:
        return
    conv.answers.append(answer)
    conv.scopes.append(scope)
    conv.turns.append(app.turn_of(answer))
    conv.remember(app, answer)
    html = render.answer_html(answer, len(conv.answers) - 1, sources=conv.sources, scope=scope)
    conv.messages[-1] = {"role": "assistant", "content": html}
    yield conv


def click_payload(value: str | None) -> str:
    """The payload of a hidden-textbox click (`payload|timestamp`)."""
    return (value or "").rpartition("|")[0]


def click_nonce(value: str | None) -> str:
    """The click's timestamp: the source panel shows it, so that the same citation clicked
    again still changes the panel and is scrolled to again."""
    return (value or "").rpartition("|")[2]
