"""The Gradio page: its three tabs put together, the events between them, its API, and `serve`.

Thin on purpose: every action is a call to `ReplyQA` (the same services the command line
uses). Each tab is built, with its own events, by its module (`chat_tab`, `browse_tab`,
`upload_tab`); what crosses tabs is wired here — 就这封答复提问 narrows the chat to a letter,
and after an import (and on every page load) the facets of both tabs are rebuilt from the index.

The page does not phone home: gradio 6 gates its version check and all its telemetry on the
Blocks' `analytics_enabled`, which is off unless `GRADIO_ANALYTICS_ENABLED=True` is set
explicitly (gradio's own default is on). The environment is read, never written.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.service import ReplyQA
from assistant.web import assets
from assistant.web.auth import make_auth, users_from_settings
from assistant.web.browse_tab import build_browse_tab, letter_list
from assistant.web.chat_tab import build_chat_tab
from assistant.web.facets import facet_choices
from assistant.web.state import Conversation
from assistant.web.upload_tab import build_upload_tab

TITLE = "答复问答助手"
INTRO = "## 答复问答助手\n就已导入的人大建议、政协提案答复提问；答案逐句引用原文，点击引用标记即可核对。"


def analytics_opt_in() -> bool:
    return os.environ.get("GRADIO_ANALYTICS_ENABLED", "False") == "True"


def facet_updates(app: ReplyQA, text: str, issuer: str, year: str, channel: str) -> tuple[Any, ...]:
    """New choices for the chat's and the browse tab's dropdowns (values kept), and the browse
    list under the current filters: what the page shows after the index changed."""
    new = facet_choices(app.letters())
    return (gr.Dropdown(choices=new["issuer"]), gr.Dropdown(choices=new["year"]), gr.Dropdown(choices=new["year"]),
            gr.Dropdown(choices=new["letters"]), gr.Dropdown(choices=new["issuer"]),
            gr.Dropdown(choices=new["year"]), letter_list(app, text, issuer, year, channel))


def build_app(app: ReplyQA) -> gr.Blocks:
    """The page over `app`; exports go to a temporary folder of this page's own."""
    choices = facet_choices(app.letters())
    exports = Path(tempfile.mkdtemp(prefix="replyqa-export-"))

    # The handlers' names become api names in the page config; `letters` and `ask` are the
    # page's public API (their docstrings are its documentation).
    def refresh(text: str, issuer: str, year: str, channel: str) -> tuple[Any, ...]:
        return facet_updates(app, text, issuer, year, channel)

    def letters_api() -> list[dict[str, Any]]:
        """What is indexed: id, title, issuer, date, channel and chunk count per letter."""
        return [{"id": r.id, "title": r.title, "issuer": r.issuer or None, "date": r.date or None,
                 "channel": r.channel, "chunks": r.n_chunks} for r in app.letters()]

    def ask_api(question: str) -> dict[str, Any]:
        """One answer with its citations, as `replyqa ask --json` gives it."""
        return app.ask(question).model_dump(mode="json")

    private: dict[str, Any] = {"api_visibility": "private"}
    with gr.Blocks(title=TITLE, delete_cache=(3600, 86400), analytics_enabled=analytics_opt_in()) as demo:
        conv = gr.State(Conversation())
        current_letter = gr.State(None)
        gr.Markdown(INTRO)
        with gr.Tabs() as tabs:
            chat = build_chat_tab(app, conv, choices, exports)
            browse = build_browse_tab(app, current_letter, choices)
            upload = build_upload_tab(app)

        browse.ask_this.click(lambda lid: (gr.Dropdown(value=[lid] if lid else []), gr.Tabs(selected="chat")),
                              current_letter, [chat.f_letters, tabs], **private)
        facets = [chat.f_issuer, chat.f_from, chat.f_to, chat.f_letters, browse.issuer, browse.year,
                  browse.letter_list]
        upload.ingested.then(refresh, browse.inputs, facets, **private)
        demo.load(refresh, browse.inputs, facets, **private)
        demo.load(None, js=assets.page_js())
        gr.api(letters_api, api_name="letters")
        # Served as /ask_6, not /ask: gradio already gave `ask`…`ask_5` to the chat's private
        # events. Kept as it was before the split; renaming the chat handler would free /ask.
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
    for the page and for every API route alike.

    Several questions are answered at once (`page_concurrency`); the index is read, and the
    model warmed up, while the page starts; and what other processes commit to the index is
    noticed in the background (`ReplyQA.watch`), so several pages can serve one index.
    """
    settings = app.settings
    threading.Thread(target=app.warm_up, name="replyqa-warm-up", daemon=True).start()
    demo = build_app(app)
    auth = make_auth(users if users is not None else users_from_settings(settings))
    demo.queue(default_concurrency_limit=max(1, settings.page_concurrency))
    app.watch()
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
