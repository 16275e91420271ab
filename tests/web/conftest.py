"""The page's tests share one real index (the sample letters plus the hostile one), the page
served from it in-process, Chromium, and an offline guard.

Offline is part of the contract: an audit hook records any socket to a non-loopback host
(checked per test and right after each session-scoped launch), and every browser page gets a
Playwright route that aborts and records any request that leaves 127.0.0.1 (`pagekit`).

GRADIO_ANALYTICS_ENABLED is removed rather than set to False: the page must stay offline by
its own default, and this guard is what proves it. The Hugging Face switches stay: they are
for `gradio_client.Client`, which the login test uses and which would otherwise fetch from
the hub.
"""

from __future__ import annotations

import os

os.environ.pop("GRADIO_ANALYTICS_ENABLED", None)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"

import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from assistant.ask.retrieve import Filters
from assistant.service import ReplyQA
from index.settings import Settings
from index.storage.store import ChunkStore
from tests.web.pagekit import PHONE, T, Watch, is_local, open_page

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
CORPUS = ROOT.parent / "shared" / "corpus" / "letters"
REAL_LETTERS = ("000_10d0eb4a9841965d.txt", "032.txt", "082.txt", "057.txt")
"""Real letters for the page over real material: the 5G seed letter (no issuer parsed), one to
deputy 李剑波, one with 文号 粤卫案函〔2020〕208号, one more about 5G 基站."""
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
USERS = "staff:青河-2024:pw,admin:x"
"""The login server's users (a password holding a colon, and Chinese)."""


# --- markers ----------------------------------------------------------------------------------
_PAGE_SERVERS = {"page_server", "auth_page_server", "doubtful_page_server", "real_page_server",
                 "small_upload_server"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that start the page's own server are `server` tests too; the top-level rule knows
    only the Chroma server's fixture. (This hook sees every item; the fixture names are ours.)"""
    for item in items:
        if _PAGE_SERVERS & set(getattr(item, "fixturenames", ())):
            item.add_marker("server")


# --- offline guard ----------------------------------------------------------------------------
OUTSIDE: list[str] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "socket.getaddrinfo":
        host = args[0]
    elif event == "socket.connect":
        address = args[1]
        if not isinstance(address, tuple):
            return  # a Unix socket
        host = address[0]
    else:
        return
    if not is_local(host):
        OUTSIDE.append(f"{event} {host!r}")


if not getattr(sys, "_replyqa_ui_audit", False):
    sys.addaudithook(_audit)
    sys._replyqa_ui_audit = True  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _stays_offline() -> Iterator[None]:
    start = len(OUTSIDE)
    yield
    assert OUTSIDE[start:] == [], "the test reached beyond 127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the app, served ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def ui_app(tmp_path_factory: pytest.TempPathFactory, export_dir: Path, models_dir: Path) -> Iterator[ReplyQA]:
    """One real index of samples/letters + the hostile letter (export_dir first: it must create
    the model folder before anything else touches it)."""
    start = len(OUTSIDE)
    settings = Settings(data_dir=tmp_path_factory.mktemp("ui-data"), models_dir=models_dir,
                        auth_users=None, auth_file=None, chroma_host=None, llm_base_url=None)
    app = ReplyQA.open(settings)
    report = app.ingest([SAMPLES / "letters", SAMPLES / "broken" / "hostile.html"])
    assert not report.failures, report.failures
    assert OUTSIDE[start:] == []
    yield app
    app.close()


@pytest.fixture(scope="session")
def page_server(ui_app: ReplyQA) -> Iterator[str]:
    from assistant.web.app import serve

    start = len(OUTSIDE)
    port = _free_port()
    demo = serve(ui_app, "127.0.0.1", port, users={}, prevent_thread_lock=True, quiet=True)
    assert OUTSIDE[start:] == [], "launching the page reached beyond 127.0.0.1"
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="session")
def auth_page_server(ui_app: ReplyQA) -> Iterator[str]:
    """A second page on another port over the same service, with login on."""
    from assistant.web.app import serve
    from assistant.web.auth import parse_users

    start = len(OUTSIDE)
    port = _free_port()
    demo = serve(ui_app, "127.0.0.1", port, users=parse_users(USERS), admins="admin", prevent_thread_lock=True,
                 quiet=True)
    assert OUTSIDE[start:] == []
    yield f"http://127.0.0.1:{port}/"
    demo.close()


class _DoubtfulQA:
    """The real service, except that the last citation of every answer failed verification —
    as the LLM path reports a sentence its source does not support."""

    def __init__(self, app: ReplyQA) -> None:
        self._app = app

    def __getattr__(self, name: str) -> object:
        return getattr(self._app, name)

    def stream(self, question: str, history: object = (), *, filters: Filters | None = None) -> Iterator[object]:
        for piece in self._app.stream(question, history, filters=filters):  # type: ignore[arg-type]
            if not isinstance(piece, str) and piece.citations:
                last = piece.citations[-1].model_copy(update={"verified": False, "note": "所引原文没有这句话的数字"})
                piece = piece.model_copy(update={"citations": [*piece.citations[:-1], last]})
            yield piece


@pytest.fixture(scope="session")
def doubtful_page_server(ui_app: ReplyQA) -> Iterator[str]:
    from assistant.web.app import serve

    port = _free_port()
    demo = serve(_DoubtfulQA(ui_app), "127.0.0.1", port, users={}, prevent_thread_lock=True, quiet=True)  # type: ignore[arg-type]
    yield f"http://127.0.0.1:{port}/"
    demo.close()


class _SmallUploads:
    """The real service with a 1 MB upload limit, so gradio's own limit (5×) is a small file."""

    def __init__(self, app: ReplyQA) -> None:
        self._app = app
        self.settings = app.settings.model_copy(update={"upload_max_mb": 1})

    def __getattr__(self, name: str) -> object:
        return getattr(self._app, name)


@pytest.fixture(scope="session")
def small_upload_server(ui_app: ReplyQA) -> Iterator[str]:
    from assistant.web.app import serve

    port = _free_port()
    demo = serve(_SmallUploads(ui_app), "127.0.0.1", port, users={}, prevent_thread_lock=True, quiet=True)  # type: ignore[arg-type]
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="session")
def real_app(ui_app: ReplyQA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplyQA]:
    """A second index, of a few real letters (copied, so they can be edited), over the same
    model and tokenizer: the page's management changes it, and its example questions must come
    from these letters, not from the fictional samples."""
    folder = tmp_path_factory.mktemp("real-letters")
    for name in REAL_LETTERS:
        shutil.copyfile(CORPUS / name, folder / name)
    settings = ui_app.settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("real-data")})
    store = ChunkStore.open(settings, model_id=ui_app.embedder.model_id, dimension=ui_app.embedder.dimension)
    app = ReplyQA(settings, ui_app.embedder, store, ui_app.tokenizer)
    report = app.ingest([folder])
    assert not report.failures, report.failures
    yield app
    app.close()


@pytest.fixture(scope="session")
def real_page_server(real_app: ReplyQA) -> Iterator[str]:
    from assistant.web.app import serve

    port = _free_port()
    demo = serve(real_app, "127.0.0.1", port, users={}, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y --no-install-recommends chromium fonts-noto-cjk")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()



def _guarded(chromium: Browser, url: str, viewport: dict[str, int] | None = None) -> Iterator[tuple[Page, Watch]]:
    """The page, loaded and ready; afterwards it must have opened no dialog, logged no error
    and requested nothing beyond 127.0.0.1."""
    page, watch = open_page(chromium, url, viewport=viewport)
    page.wait_for_function("window.__replyqa === true", timeout=T)
    expect(page.locator("#rq-question textarea")).to_be_visible(timeout=T)
    yield page, watch
    page.context.close()
    assert watch.dialogs == [], "a dialog opened: page content ran as script"
    assert watch.errors == [], "the browser console reported errors"
    assert watch.outside == [], "the page requested something beyond 127.0.0.1"


@pytest.fixture
def ui(chromium: Browser, page_server: str) -> Iterator[tuple[Page, Watch]]:
    yield from _guarded(chromium, page_server)


@pytest.fixture(params=["desktop", "phone"])
def any_ui(request: pytest.FixtureRequest, chromium: Browser, page_server: str) -> Iterator[tuple[Page, Watch]]:
    """The sample page on a desktop and on a 390 px phone."""
    yield from _guarded(chromium, page_server, None if request.param == "desktop" else PHONE)


@pytest.fixture(params=["desktop", "phone"])
def real_ui(request: pytest.FixtureRequest, chromium: Browser, real_page_server: str) -> Iterator[tuple[Page, Watch]]:
    """The page over the real letters, on a desktop and on a 390 px phone."""
    yield from _guarded(chromium, real_page_server, None if request.param == "desktop" else PHONE)
