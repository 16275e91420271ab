"""`replyqa bench recovery`: how long a running page takes to answer again once the `chroma
run` server it reads is back.

A real `chroma run` server on 127.0.0.1, an index of the corpus in it, a real `replyqa serve`
over it. Each trial stops the server (SIGTERM), checks that the page's ask API now says the
index service cannot be reached, starts the server again on the same folder and port, and
asks the same question through the API as fast as answers come back (a request in flight
included) until the answer is the one given before the stop. Measured from the moment the
server accepts connections again (polled every 5 ms), so the server's own start-up is not
counted; that is reported beside it, and so is what one answer takes with the server up (the
least recovery can take).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.evaluation.bench import machine
from assistant.evaluation.served import (
    ask,
    connect,
    free_port,
    listening,
    same_answer,
    serving,
    start_chroma,
    stop_chroma,
    wait_for_chroma,
)
from index.settings import Settings

HOST = "127.0.0.1"
LIMIT_S = 120.0
POLL_S = 0.005


def _first_question(questions: Path) -> str:
    for line in questions.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            if not item.get("history") and item.get("answerable", True):
                return str(item["question"])
    raise ValueError(f"{questions} 中没有可用的问题")


def restart_and_time(root: Path, port: int, client: Any, question: str, expected: dict[str, Any]) -> dict[str, Any]:
    """Start the stopped server again and time the page's recovery (see the module); the
    figures, and the new server's process under "proc" for the caller to stop."""
    began = time.monotonic()
    proc = start_chroma(root, port, HOST)
    while not listening(HOST, port):
        if proc.poll() is not None or time.monotonic() - began > LIMIT_S:
            stop_chroma(proc)
            raise RuntimeError("chroma server did not start listening again")
        time.sleep(POLL_S)
    listened = time.monotonic()
    failed, errors = 0, []
    while True:
        try:
            answer = ask(client, question)
            if same_answer(answer, expected):
                break
            errors.append("不同的答案")
        except Exception as exc:  # counted: the figure is how long the page keeps failing
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
        failed += 1
        if time.monotonic() - listened > LIMIT_S:
            stop_chroma(proc)
            raise RuntimeError(f"the page did not answer again within {LIMIT_S:.0f} s: {errors[-3:]}")
    recovered = time.monotonic()
    return {"proc": proc, "server_listening_s": listened - began, "recovered_s": recovered - listened,
            "failed_asks": failed, "error_samples": errors[:3]}


def bench_recovery(
    settings: Settings, *, corpus: Path, questions: Path, trials: int = 5, down_s: float = 0.0,
    work: Path | None = None, progress: Callable[[str], object] = print,
) -> dict[str, Any]:
    """`down_s`: how long the server stays stopped (the page's watcher meanwhile fails every
    second), after the page has said it cannot reach it."""
    if work is None:
        with tempfile.TemporaryDirectory(prefix="replyqa-recovery-") as tmp:
            return bench_recovery(settings, corpus=corpus, questions=questions, trials=trials, down_s=down_s,
                                  work=Path(tmp), progress=progress)
    from assistant.service import ReplyQA

    question = _first_question(questions)
    port = free_port()
    root = work / "chroma"
    root.mkdir(parents=True, exist_ok=True)
    index = settings.scratch(work / "index").model_copy(
        update={"chroma_host": HOST, "chroma_port": port, "collection": "bench-recovery"})
    proc = start_chroma(root, port, HOST)
    rows: list[dict[str, Any]] = []
    try:
        wait_for_chroma(proc, HOST, port)
        app = ReplyQA.open(index)
        try:
            app.ingest([corpus])
        finally:
            app.close()
        with serving(index, work / "serve.log") as served:
            client = connect(served)
            expected = ask(client, question)
            normal = []
            for _ in range(5):  # what one answer takes with the server up, to read recovery against
                began = time.monotonic()
                ask(client, question)
                normal.append(time.monotonic() - began)
            for n in range(trials):
                stop_chroma(proc)
                try:
                    ask(client, question)
                    raise RuntimeError("the page still answered with the chroma server stopped")
                except Exception as exc:
                    if "未能连接索引服务" not in str(exc):
                        raise
                time.sleep(down_s)
                row = restart_and_time(root, port, client, question, expected)
                proc = row.pop("proc")
                rows.append(row)
                progress(f"第 {n + 1} 次：服务器 {row['server_listening_s']:.2f} 秒后开始监听，其后 "
                         f"{row['recovered_s'] * 1000:.0f} 毫秒网页重新给出正确答案"
                         f"（其间失败 {row['failed_asks']} 次）")
    finally:
        stop_chroma(proc)
    recovered = [r["recovered_s"] for r in rows]
    return {"question": question, "down_s": down_s, "trials": rows, "median_recovered_s": statistics.median(recovered),
            "max_recovered_s": max(recovered),
            "median_server_listening_s": statistics.median(r["server_listening_s"] for r in rows),
            "median_ask_s": statistics.median(normal),
            "machine": machine()}


def recovery_summary(f: dict[str, Any]) -> str:
    return (f"{len(f['trials'])} 次重启（每次停机 {f['down_s']:.0f} 秒以上）：网页恢复回答的中位数 "
            f"{f['median_recovered_s'] * 1000:.0f} 毫秒，最长 {f['max_recovered_s'] * 1000:.0f} 毫秒"
            f"（自服务器重新监听起算；服务器启动到监听中位数 {f['median_server_listening_s']:.1f} 秒；"
            f"服务器正常时一问 {f['median_ask_s'] * 1000:.0f} 毫秒）\n机器：{f['machine']}")
