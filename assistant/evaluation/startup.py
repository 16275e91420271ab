"""`replyqa bench startup`: how long each command takes from the shell prompt to its last line,
on an index of a folder of letters built for the measurement.

Each command runs as its own process (`python -m assistant.cli …`), as a user types it: the
time is start-up (imports, opening Chroma, loading the model where the command needs one) plus
the work. The commands are measured in turn, `rounds` times, and the median reported; a bare
`python -c pass` is measured the same way as the floor, and `ask` as what a command loading the
model costs — on a shared machine the ratios between them mean more than any one time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.evaluation.bench import machine
from index.pipeline import discover
from index.settings import Settings

QUESTION = "2019年山东全省建成多少5G基站？"


def commands(folder: Path) -> list[tuple[str, list[str]]]:
    """(shown name, argv after `python`) of every measured command."""
    files = [str(p) for p in discover([folder])]
    cli = ["-m", "assistant.cli"]
    return [
        ("python -c pass", ["-c", "pass"]),
        ("replyqa --help", [*cli, "--help"]),
        ("replyqa letters", [*cli, "letters"]),
        ("replyqa letters --json", [*cli, "letters", "--json"]),
        ("replyqa remove （不存在的编号）", [*cli, "remove", "no-such-letter"]),
        (f"replyqa parse （{len(files)} 个文件）--json", [*cli, "parse", *files, "--json"]),
        ("replyqa ask （一个问题）", [*cli, "ask", QUESTION]),
    ]


def _run(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], env=env, capture_output=True, timeout=600, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} 失败（{done.returncode}）：{done.stderr.decode(errors='replace')[-500:]}")
    return seconds


def bench_startup(folder: Path, settings: Settings, rounds: int = 3) -> dict[str, Any]:
    """Ingest `folder` into a scratch index, then time every command against it."""
    from assistant.service import ReplyQA

    with tempfile.TemporaryDirectory(prefix="replyqa-bench-") as tmp:
        scratch = settings.scratch(Path(tmp))
        app = ReplyQA.open(scratch)
        try:
            report = app.ingest([folder])
            letters = len(app.letters())
        finally:
            app.close()
        env = {**os.environ, "REPLYQA_DATA_DIR": str(scratch.data_dir), "REPLYQA_MODELS_DIR": str(scratch.model_store)}
        env.pop("REPLYQA_CHROMA_HOST", None)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).resolve().parents[2]),
                                                         env.get("PYTHONPATH", "")) if p)
        measured = commands(folder)
        seconds: dict[str, list[float]] = {name: [] for name, _ in measured}
        for _ in range(max(1, rounds)):
            for name, argv in measured:
                seconds[name].append(_run(argv, env))
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    return {
        "letters": letters,
        "failures": len(report.failures),
        "rounds": max(1, rounds),
        "seconds": seconds,
        "median_s": medians,
        "machine": machine(),
    }


def startup_table(f: dict[str, Any]) -> str:
    ask = next((v for k, v in f["median_s"].items() if k.startswith("replyqa ask")), None)
    lines = [f"每条命令从启动到结束的用时（{f['letters']} 封答复的索引，{f['rounds']} 轮取中位数）",
             f"机器：{f['machine']}", ""]
    for name, value in f["median_s"].items():
        ratio = f"{value / ask:>8.2f}× ask" if ask else ""
        lines.append(f"  {name:<36}{value:>7.2f} 秒{ratio}")
    return "\n".join(lines)
