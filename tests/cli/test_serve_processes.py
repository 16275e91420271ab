"""Past one machine: two `replyqa serve` processes (each with its own data folder, as on two
hosts) over one real `chroma run` server, each answering from letters that other processes
ingest and no longer citing letters they remove."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.evaluation.served import ask, cli, connect, serving
from assistant.service import ReplyQA
from index.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 120.0
LETTER = """{place}交通运输局关于县第{n}号建议的答复

　　您提出的《关于在{place}修建观景栈道的建议》收悉，现答复如下：
　　{place}观景栈道项目已列入今年县级重点工程，总投资{money}万元，计划于2024年底前建成。
　　感谢您对我县工作的关心和支持。

{place}交通运输局
2024年5月6日

【示例（虚构）：本答复为测试用虚构文本，所涉地名、单位和数据均为虚构】
"""


def letter(folder: Path, name: str, place: str, money: int) -> Path:
    path = folder / f"{name}.txt"
    path.write_text(LETTER.format(place=place, n=money % 97, money=money), encoding="utf-8")
    return path


def answers_from(client: Any, place: str, money: int) -> bool:
    answer = ask(client, f"{place}观景栈道总投资多少？")
    return bool(answer.get("found")) and f"{money}万元" in str(answer.get("text"))


def wait_until(clients: list[Any], place: str, money: int, expected: bool) -> None:
    deadline = time.monotonic() + WAIT_S
    pending = list(clients)
    while pending and time.monotonic() < deadline:
        pending = [c for c in pending if answers_from(c, place, money) != expected]
        time.sleep(0.3)
    assert not pending, f"{len(pending)} page(s) still {'not ' if expected else ''}answering about {place}"


@contextlib.contextmanager
def two_pages(tmp_path: Path, settings: Settings) -> Iterator[list[Any]]:
    with serving(settings.model_copy(update={"data_dir": tmp_path / "host-a"}), tmp_path / "a.log") as a, \
            serving(settings.model_copy(update={"data_dir": tmp_path / "host-b"}), tmp_path / "b.log") as b:
        yield [connect(a), connect(b)]


def test_two_pages_over_one_chroma_server_see_each_others_ingests(
    tmp_path: Path, chroma_server: tuple[str, int], models_dir: Path, export_dir: Path
) -> None:
    host, port = chroma_server
    settings = Settings(data_dir=tmp_path / "ingester", models_dir=models_dir, chroma_host=host, chroma_port=port,
                        collection=f"t{uuid.uuid4().hex[:12]}")
    letters = tmp_path / "letters"
    letters.mkdir()
    first = letter(letters, "first", "东湾镇", 1234)
    app = ReplyQA.open(settings)
    try:
        assert not app.ingest([first]).failures
        with two_pages(tmp_path, settings) as pages:
            wait_until(pages, "东湾镇", 1234, True)

            by_cli = letter(letters, "by-cli", "西岭乡", 4321)
            result = cli(settings, "ingest", str(by_cli))
            assert result.returncode == 0, result.stderr
            wait_until(pages, "西岭乡", 4321, True)

            by_service = letter(letters, "by-service", "南屏村", 2468)
            assert not app.ingest([by_service]).failures
            wait_until(pages, "南屏村", 2468, True)

            result = cli(settings, "remove", "by-cli")
            assert result.returncode == 0, result.stderr
            wait_until(pages, "西岭乡", 4321, False)
            assert all(answers_from(p, "南屏村", 2468) for p in pages)
    finally:
        app.close()
