"""The Chroma server stopped and started again under a running `replyqa serve`: while it is down
the page's API and the chat say in Chinese that the index service at its address cannot be
reached (not httpx's `ConnectError: [Errno 111] Connection refused`), and once it is back they
answer again without a restart. A real `chroma run` server that the test stops and restarts on
the same port and folder."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from assistant.evaluation.recovery import LIMIT_S, restart_and_time
from assistant.evaluation.served import ask, cli, connect, free_port, serving, stop_chroma
from assistant.service import ReplyQA
from assistant.web.state import Conversation, respond
from index.settings import Settings
from tests.cli.test_serve_processes import letter
from tests.conftest import running_chroma

pytestmark = pytest.mark.server
QUESTION = "东湾镇观景栈道总投资多少？"


def _until(check: object, timeout: float = 90.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()  # type: ignore[operator]
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_chroma_down_is_said_in_chinese_and_the_running_page_recovers(
    tmp_path: Path, models_dir: Path, export_dir: Path
) -> None:
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=tmp_path / "data", models_dir=models_dir, chroma_host="127.0.0.1", chroma_port=port,
                        collection=f"t{uuid.uuid4().hex[:12]}")
    folder = tmp_path / "letters"
    folder.mkdir()
    source = letter(folder, "first", "东湾镇", 1234)
    root = tmp_path / "chroma"
    root.mkdir()
    with running_chroma(root, port) as server:
        assert cli(settings, "ingest", str(source)).returncode == 0
        with serving(settings, tmp_path / "serve.log") as served:
            client = connect(served)
            before = ask(client, QUESTION)
            assert "1234万元" in before["text"]
            app = ReplyQA.open(settings)  # the chat's path, in this process
            try:
                server.terminate()
                server.wait(timeout=10)

                with pytest.raises(Exception) as raised:
                    ask(client, QUESTION)
                said = str(raised.value)
                assert f"未能连接索引服务 {address}" in said and "Chroma" in said, said
                assert "Errno" not in said and "ConnectError" not in said

                shown = list(respond(app, QUESTION, Conversation(), None))[-1].messages[-1]["content"]
                assert f"未能连接索引服务 {address}" in shown and "Errno" not in shown

                ingest = cli(settings, "ingest", str(letter(folder, "second", "西岭乡", 4321)))
                assert ingest.returncode == 2 and f"未能连接索引服务 {address}" in ingest.stderr
                assert "Traceback" not in ingest.stderr

                # The running page answers again, not restarted (`bench recovery`'s own timing:
                # it fails unless the page gives the answer of before within its limit).
                recovery = restart_and_time(root, port, client, QUESTION, before)
                try:
                    assert recovery["recovered_s"] < LIMIT_S and served.process.poll() is None
                    answer = _until(lambda: app.ask(QUESTION))
                    assert "1234万元" in answer.text
                finally:
                    stop_chroma(recovery["proc"])
            finally:
                app.close()
