"""The page works on several users' questions at once, not one queue of one (or two)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from assistant.evaluation.served import ASK_ENDPOINT
from assistant.service import ReplyQA
from tests.web.conftest import _free_port

AT_ONCE = 4
"""More than the two at a time the page used to answer."""


class _MeetingQA:
    """The real service, except that each question waits until `AT_ONCE` questions are being
    answered together: served one (or two) at a time, they would never all arrive."""

    def __init__(self, app: ReplyQA) -> None:
        self._app = app
        self.barrier = threading.Barrier(AT_ONCE, timeout=60)

    def __getattr__(self, name: str) -> object:
        return getattr(self._app, name)

    def ask(self, question: str, *args: Any, **kwargs: Any) -> object:
        self.barrier.wait()
        return self._app.ask(question, *args, **kwargs)


@pytest.fixture
def meeting_page(ui_app: ReplyQA) -> Iterator[tuple[str, _MeetingQA]]:
    from assistant.web.app import serve

    qa = _MeetingQA(ui_app)
    port = _free_port()
    demo = serve(qa, "127.0.0.1", port, users={}, prevent_thread_lock=True, quiet=True)  # type: ignore[arg-type]
    yield f"http://127.0.0.1:{port}/", qa
    demo.close()


def test_several_questions_are_answered_at_once_and_as_when_asked_alone(
    meeting_page: tuple[str, _MeetingQA], ui_app: ReplyQA
) -> None:
    from gradio_client import Client

    url, qa = meeting_page
    questions = ["北山水厂扩建工程总投资多少？", "2022年青河市农村公路建设完成了多少投资？",
                 "既有住宅加装一部电梯政府补贴多少？", "东川省在哪些城市试行了长期护理保险？"]
    clients = [Client(url, verbose=False, download_files=False, analytics_enabled=False, ssl_verify=False,
                      httpx_kwargs={"trust_env": False}) for _ in questions]
    with ThreadPoolExecutor(len(questions)) as pool:
        pairs = zip(clients, questions, strict=True)
        answers = list(pool.map(lambda cq: cq[0].predict(cq[1], api_name=ASK_ENDPOINT), pairs))
    assert not qa.barrier.broken, "the questions were not all being answered at the same time"
    for question, answer in zip(questions, answers, strict=True):
        alone = ui_app.ask(question).model_dump(mode="json")
        keys = ("found", "text", "citations")
        assert [answer[k] for k in keys] == [alone[k] for k in keys]
