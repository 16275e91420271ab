"""`replyqa bench load`: N users at once, each a conversation through the page's API, against a
real `replyqa serve` on 127.0.0.1.

Every question is first asked alone (one at a time, same history) to know its answer; under
load every answer must be that same answer, and every call must succeed. Each user runs
`turns`-question conversations that end in a follow-up (the follow-up questions of the
evaluation set, after other questions); with `pause` a user asks one question every `pause`
seconds (a person reading the answers), without it the next as soon as the last is answered.
Bounded by `limit_s` per round, so a stuck page fails the run instead of hanging it.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.evaluation.bench import machine
from assistant.evaluation.scale import percentile
from assistant.evaluation.served import ASK_ENDPOINT, ask, connect, same_answer, serving, takes_history
from index.settings import Settings

DEFAULT_USERS = (1, 5, 10, 20)
LIMIT_S = 300.0


@dataclass
class Turn:
    question: str
    history: tuple[str, ...]


@dataclass
class Round:
    users: int
    pause: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def figures(self) -> dict[str, Any]:
        done = len(self.latencies)
        return {
            "users": self.users, "pause_s": self.pause, "questions": done, "errors": len(self.errors),
            "different": len(self.different), "seconds": self.seconds,
            "questions_per_s": done / self.seconds if self.seconds else 0.0,
            "p50_ms": statistics.median(self.latencies) if done else 0.0,
            "p95_ms": percentile(self.latencies, 0.95), "error_samples": self.errors[:3],
            "different_samples": self.different[:3],
        }


def conversations(items: Sequence[dict[str, Any]], users: int, turns: int) -> list[list[Turn]]:
    """One conversation per user: other questions, then one of the set's follow-ups after the
    questions it follows; each turn carries every earlier question of its conversation."""
    alone = [i["question"] for i in items if not i.get("history")]
    follow = [i for i in items if i.get("history")] or [items[0]]
    out = []
    for u in range(users):
        end = follow[u % len(follow)]
        tail = [*end.get("history", []), end["question"]][-turns:]
        fillers = [alone[(u * 7 + k) % len(alone)] for k in range(max(0, turns - len(tail)))]
        asked = fillers + tail
        out.append([Turn(q, tuple(asked[:n])) for n, q in enumerate(asked)])
    return out


def run_round(url_clients: list[Any], plan: list[list[Turn]], expected: dict[tuple[str, tuple[str, ...]], Any],
              pause: float, with_history: bool, limit_s: float) -> Round:
    result = Round(users=len(plan), pause=pause)
    lock = threading.Lock()
    deadline = time.monotonic() + limit_s
    start = threading.Barrier(len(plan) + 1)

    def user(n: int) -> None:
        client = url_clients[n]
        start.wait()
        if pause:
            time.sleep(random.Random(n).uniform(0, pause))
        for turn in plan[n]:
            if time.monotonic() > deadline:
                with lock:
                    result.errors.append("超出时间上限")
                return
            began = time.monotonic()
            try:
                answer = ask(client, turn.question, turn.history, with_history=with_history)
            except Exception as exc:  # counted, not raised: the figure is how many fail
                with lock:
                    result.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                continue
            took = time.monotonic() - began
            with lock:
                result.latencies.append(took * 1000)
                if not same_answer(answer, expected[(turn.question, turn.history if with_history else ())]):
                    result.different.append(turn.question)
            if pause:
                time.sleep(max(0.0, pause - took))

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(len(plan))]
    for t in threads:
        t.start()
    start.wait()
    began = time.monotonic()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic() + 30))
    result.seconds = time.monotonic() - began
    if any(t.is_alive() for t in threads):
        result.errors.append("有用户的请求没有结束")
    return result


def bench_load(
    settings: Settings,
    *,
    corpus: Path,
    questions: Path,
    users: Sequence[int] = DEFAULT_USERS,
    turns: int = 5,
    pauses: Sequence[float] = (0.0,),
    limit_s: float = LIMIT_S,
    work: Path | None = None,
    progress: Any = print,
) -> dict[str, Any]:
    if work is None:
        with tempfile.TemporaryDirectory(prefix="replyqa-load-") as tmp:
            return bench_load(settings, corpus=corpus, questions=questions, users=users, turns=turns, pauses=pauses,
                              limit_s=limit_s, work=Path(tmp), progress=progress)
    from assistant.service import ReplyQA

    items = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    index = settings.scratch(work / "index")
    app = ReplyQA.open(index)
    try:
        app.ingest([corpus])
    finally:
        app.close()
    plan_all = conversations(items, max(users), turns)
    rounds = []
    with serving(index, work / "serve.log") as served:
        clients = [connect(served) for _ in range(max(users))]
        with_history = takes_history(clients[0])
        expected: dict[tuple[str, tuple[str, ...]], Any] = {}
        for conversation in plan_all:
            for turn in conversation:
                key = (turn.question, turn.history if with_history else ())
                if key not in expected:
                    expected[key] = ask(clients[0], turn.question, turn.history, with_history=with_history)
        progress(f"单独提问得到 {len(expected)} 个基准答案（{ASK_ENDPOINT}，{'带' if with_history else '不带'}历史）")
        for pause in pauses:
            for n in users:
                served_cpu, own_cpu = served.cpu_s(), time.process_time()
                figures = run_round(clients[:n], plan_all[:n], expected, pause, with_history, limit_s).figures()
                done = max(1, figures["questions"])
                figures["serve_cpu_ms_per_question"] = (served.cpu_s() - served_cpu) * 1000 / done
                figures["client_cpu_ms_per_question"] = (time.process_time() - own_cpu) * 1000 / done
                rounds.append(figures)
                progress(load_line(figures))
        rss = served.rss_mb()
    return {"rounds": rounds, "endpoint": ASK_ENDPOINT, "with_history": with_history, "turns": turns,
            "serve_rss_mb": rss[0], "serve_peak_mb": rss[1], "machine": machine()}


def load_line(f: dict[str, Any]) -> str:
    pace = f"每 {f['pause_s']:.0f} 秒一问" if f["pause_s"] else "不停顿"
    return (f"{f['users']} 个用户（{pace}）：{f['questions']} 问，{f['questions_per_s']:.1f} 问/秒，中位数 "
            f"{f['p50_ms']:.0f} 毫秒，p95 {f['p95_ms']:.0f} 毫秒，出错 {f['errors']}，与单独提问不同 {f['different']}；"
            f"每问 CPU：页面 {f.get('serve_cpu_ms_per_question', 0):.0f} 毫秒，客户端 "
            f"{f.get('client_cpu_ms_per_question', 0):.0f} 毫秒")
