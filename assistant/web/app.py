"""The Gradio page: its four tabs put together, the events between them, its API, and `serve`.

Thin on purpose: every action is a call to `ReplyQA` (the same services the command line
uses). Each tab is built, with its own events, by its module (`chat_tab`, `browse_tab`,
`hittest_tab`, `upload_tab`); what crosses tabs is wired here — 就这封答复提问 narrows the chat to
a letter, 查看全文 in an answer opens the letter in the browser at the quote, and after an import
or a change to the index (and on every page load) the facets of both tabs and the example
questions are rebuilt from the index.

The page's API is two endpoints with stable names, documented in the README: `/letters` and
`/ask`. Every page event is private, and no page handler is named `ask` or `letters` (gradio
names endpoints after their handlers, numbering clashes: the public ask once came out as
`/ask_6`). Gradio's footer links (its API page, its English settings panel) are not shown; the
API stays available to `gradio_client` and plain HTTP.

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
from assistant.web.browse_tab import BrowseTab, build_browse_tab, letter_list, open_outputs
from assistant.web.chat_tab import ChatTab, build_chat_tab
from assistant.web.examples import pick_examples
from assistant.web.facets import facet_choices, letters_info
from assistant.web.hittest_tab import build_hittest_tab
from assistant.web.letters_html import locate
from assistant.web.manage import ManagePolicy
from assistant.web.references import SAMPLE_MARK
from assistant.web.state import Conversation, click_nonce, click_payload
from assistant.web.upload_tab import UPLOAD_TYPES, build_upload_tab
from index.storage.records import StoreError

TITLE = "答复问答助手"
INTRO = "## 答复问答助手\n就已导入的人大建议、政协提案答复提问；答案逐句引用原文，点击引用标记即可核对。"


def analytics_opt_in() -> bool:
    return os.environ.get("GRADIO_ANALYTICS_ENABLED", "False") == "True"


class Examples:
    """The example questions for the index as it is now, found once per index version."""

    def __init__(self, app: ReplyQA) -> None:
        self.app = app
        self.version = ""
        self.questions: list[str] = []

    def current(self) -> list[str]:
        store = self.app.store
        store.refresh()
        version = store.fingerprint()
        if version != self.version:
            entries = self.app.catalog.entries()
            fictional = self.app.catalog.containing(SAMPLE_MARK)
            self.questions, self.version = pick_examples(self.app, entries, fictional), version
        return self.questions


def example_updates(chat: ChatTab, questions: list[str]) -> list[Any]:
    buttons = [gr.Button(value=questions[i], visible=True) if i < len(questions) else
               gr.Button(value="", visible=False) for i in range(len(chat.examples))]
    return [*buttons, gr.Markdown(visible=not questions)]


def _opened_from_chat(app: ReplyQA, key: str, conv: Conversation) -> tuple[str, tuple[int, int] | None] | None:
    """The letter (and the quote's span in it) a 查看全文 in the chat points at."""
    kind, _, rest = click_payload(key).partition(":")
    turn, _, n = rest.partition(":")
    if not (turn.isdigit() and n.isdigit()) or int(turn) >= len(conv.answers):
        return None
    answer = conv.answers[int(turn)]
    if kind == "l":
        leads = answer.leads
        return (leads[int(n)].letter, None) if int(n) < len(leads) else None
    citation = next((c for c in answer.citations if c.n == int(n) and c.verified), None)
    if citation is None:
        return None
    letter = app.letter(citation.letter)
    return citation.letter, (locate(letter, citation) if letter else None)


def build_app(app: ReplyQA, *, policy: ManagePolicy | None = None) -> gr.Blocks:
    """The page over `app`; exports go to a temporary folder of this page's own. `policy` says
    who may change the index from it (by default: anyone, as on a page served on 127.0.0.1
    without login)."""
    policy = policy or ManagePolicy(login=False, local=True)
    records = app.letters()
    choices = facet_choices(records)
    exports = Path(tempfile.mkdtemp(prefix="replyqa-export-"))
    examples = Examples(app)

    with gr.Blocks(title=TITLE, delete_cache=(3600, 86400), analytics_enabled=analytics_opt_in()) as demo:
        conv = gr.State(Conversation())
        current_letter = gr.State(None)
        gr.Markdown(INTRO)
        with gr.Tabs() as tabs:
            chat = build_chat_tab(app, conv, choices, exports, letters_info(records))
            browse = build_browse_tab(app, current_letter, choices, policy)
            build_hittest_tab(app, chat.filters)
            upload = build_upload_tab(app)
        _wire(app, demo, tabs, conv, current_letter, chat, browse, (upload.ingested, upload.resumed), examples,
              policy)
        demo.load(upload.show_notice, None, [upload.notice, upload.resume], api_visibility="private")
        _api(app)
    return demo


def _wire(app: ReplyQA, demo: gr.Blocks, tabs: gr.Tabs, conv: gr.State, current_letter: gr.State, chat: ChatTab,
          browse: BrowseTab, ingested: tuple[Any, ...], examples: Examples, policy: ManagePolicy) -> None:
    # The handlers' names become (private) api names in the page config: never `ask` or `letters`.
    def refresh(text: str, issuer: str, year: str, channel: str, chosen: list[str] | None) -> tuple[Any, ...]:
        """New choices for the dropdowns of both tabs (values kept, and the chosen letters kept
        among the choices), the browse list under its current filters, and the example
        questions: what the page shows after the index changed."""
        records = app.letters()
        new = facet_choices(records, keep_letters=chosen or ())
        return (gr.Dropdown(choices=new["issuer"]), gr.Dropdown(choices=new["year"]), gr.Dropdown(choices=new["year"]),
                gr.Dropdown(choices=new["letters"], info=letters_info(records)), gr.Dropdown(choices=new["issuer"]),
                gr.Dropdown(choices=new["year"]), letter_list(app, text, issuer, year, channel),
                *example_updates(chat, examples.current()))

    def open_from_chat(key: str, conv: Conversation) -> tuple[Any, ...]:
        target = _opened_from_chat(app, key, conv)
        if target is None:
            return (gr.skip(),) * (len(browse.opened) + 2)
        letter_id, highlight = target
        return (*open_outputs(app, letter_id, highlight=highlight, nonce=click_nonce(key)), letter_id,
                gr.Tabs(selected="browse"))

    def manage_visible(request: gr.Request) -> Any:
        return gr.Column(visible=policy.allows(getattr(request, "username", None)))

    private: dict[str, Any] = {"api_visibility": "private"}
    def ask_about(letter_id: str | None) -> tuple[Any, ...]:
        """就这封答复提问: the chat narrowed to the letter being read, which need not be among the
        newest the dropdown lists."""
        if not letter_id:
            return gr.Dropdown(value=[]), gr.Tabs(selected="chat")
        choices = facet_choices(app.letters(), keep_letters=[letter_id])["letters"]
        return gr.Dropdown(choices=choices, value=[letter_id]), gr.Tabs(selected="chat")

    browse.ask_this.click(ask_about, current_letter, [chat.f_letters, tabs], **private)
    chat.open_key.change(open_from_chat, [chat.open_key, conv], [*browse.opened, current_letter, tabs],
                         show_progress="hidden", **private)
    facets = [chat.f_issuer, chat.f_from, chat.f_to, chat.f_letters, browse.issuer, browse.year, browse.letter_list,
              *chat.examples, chat.examples_note]
    shown = [*browse.inputs, chat.f_letters]
    for event in (*ingested, *browse.changed):
        event.then(refresh, shown, facets, **private)
    demo.load(refresh, shown, facets, **private)
    demo.load(manage_visible, None, browse.manage_box, **private)
    demo.load(None, js=assets.page_js(UPLOAD_TYPES))


def _api(app: ReplyQA) -> None:
    """The page's public API (see the README): the docstrings are its documentation."""

    def letters_api() -> list[dict[str, Any]]:
        """What is indexed: id, title, issuer, date, channel, 文号 (doc_number), suggestion number and chunk count."""
        try:
            entries = app.catalog.entries()
        except StoreError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        return [{"id": e.id, "title": e.record.title, "issuer": e.record.issuer or None, "date": e.record.date or None,
                 "channel": e.record.channel, "doc_number": e.doc_number or None, "number": e.number or None,
                 "chunks": e.record.n_chunks} for e in entries]

    def ask_api(question: str, history: list[str] | None = None) -> dict[str, Any]:
        """One answer with its citations, as `replyqa ask --json` gives it; `history` holds the
        conversation's earlier questions, oldest first, for a follow-up."""
        try:
            return app.ask_with_history(question, list(history or [])).model_dump(mode="json")
        except StoreError as exc:  # said as it is: gradio would prefix the class name
            raise gr.Error(str(exc), print_exception=False) from exc

    gr.api(letters_api, api_name="letters")
    gr.api(ask_api, api_name="ask")


def serve(
    app: ReplyQA,
    host: str | None = None,
    port: int | None = None,
    *,
    users: Mapping[str, str] | None = None,
    admins: str | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> gr.Blocks:
    """Build the page and serve it; with users (given, or from the settings) it needs a login,
    for the page and for every API route alike, and only the admins (given as `a,b`, or
    `REPLYQA_ADMIN_USERS`) may change the index from it.

    Several questions are answered at once (`page_concurrency`); the index is read, and the
    model warmed up, while the page starts; and what other processes commit to the index is
    noticed in the background (`ReplyQA.watch`), so several pages can serve one index.
    """
    settings = app.settings
    threading.Thread(target=app.warm_up, name="replyqa-warm-up", daemon=True).start()
    auth = make_auth(users if users is not None else users_from_settings(settings))
    host = host or settings.host
    policy = ManagePolicy.of(login=auth is not None, admin_users=admins if admins is not None else settings.admin_users,
                             host=host)
    demo = build_app(app, policy=policy)
    demo.queue(default_concurrency_limit=max(1, settings.page_concurrency))
    app.watch()
    demo.launch(
        server_name=host,
        server_port=port or settings.port,
        auth=auth,
        auth_message="请使用分配的账号登录答复问答助手。" if auth else None,
        max_file_size=f"{settings.upload_max_mb * 5}mb",
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        show_error=True,
        ssr_mode=False,
        footer_links=[],
    )
    return demo
