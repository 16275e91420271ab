"""A real `replyqa serve` in its own process, and asking it questions the way any client would:
through `gradio_client` over HTTP on 127.0.0.1. What `bench scale`, `bench load` and `bench
recovery` measure the page with; `running_chroma` is the real `chroma run` server the tests and
`bench recovery` start, stop and restart.

The ask endpoint's name is one constant (`ASK_ENDPOINT`), the page's stable public `/ask`. If
the endpoint also takes the earlier questions (`history`), they are sent.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.settings import Settings

CHROMA_START_TIMEOUT_S = 60.0
ASK_ENDPOINT = "/ask"
"""The page's one-question API route (see `assistant.web.app`); switch here when it is renamed."""
START_TIMEOUT_S = 600.0
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaStartError(RuntimeError):
    """The `chroma run` server exited or did not answer in time."""


def chroma_answers(host: str, port: int) -> bool:
    """Whether a Chroma server answers its heartbeat (no proxy: one from the environment must
    not swallow requests to 127.0.0.1)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{host}:{port}/api/v2/heartbeat", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def listening(host: str, port: int) -> bool:
    """Whether something accepts TCP connections at host:port."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


def start_chroma(root: Path, port: int, host: str = "127.0.0.1") -> subprocess.Popen[bytes]:
    """A real `chroma run` over `root / "db"`, started and not waited for (its log appended to
    `root / "server.log"`, so a server restarted on the same folder keeps one log)."""
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        raise ChromaStartError(f"chroma console script not found next to {sys.executable}")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with (root / "server.log").open("ab") as log:
        return subprocess.Popen(
            [str(exe), "run", "--path", str(root / "db"), "--host", host, "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )


def wait_for_chroma(proc: subprocess.Popen[bytes], host: str, port: int) -> None:
    """Until the server answers its heartbeat; `ChromaStartError` if it exits or takes too long."""
    deadline = time.monotonic() + CHROMA_START_TIMEOUT_S
    while not chroma_answers(host, port):
        if proc.poll() is not None:
            raise ChromaStartError(f"chroma server exited ({proc.returncode}); see its server.log")
        if time.monotonic() > deadline:
            raise ChromaStartError(f"chroma server did not answer in {CHROMA_START_TIMEOUT_S:.0f} s")
        time.sleep(0.1)


def stop_process(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Ask it to stop; kill it if it has not within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop_chroma(proc: subprocess.Popen[bytes]) -> None:
    stop_process(proc, 10)


@contextlib.contextmanager
def running_chroma(root: Path, port: int, host: str = "127.0.0.1") -> Iterator[subprocess.Popen[bytes]]:
    """A real `chroma run` over `root / "db"` until the block ends, once it answers.
    `ChromaStartError` if it exits or does not answer in time."""
    proc = start_chroma(root, port, host)
    try:
        wait_for_chroma(proc, host, port)
        yield proc
    finally:
        stop_chroma(proc)


def serve_env(settings: Settings) -> dict[str, str]:
    """The environment a child `replyqa` process needs to open the same index with the same model."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
        "REPLYQA_DATA_DIR": str(settings.data_dir),
        "REPLYQA_MODELS_DIR": str(settings.model_store),
        "REPLYQA_COLLECTION": settings.collection,
        "HF_HUB_OFFLINE": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    if settings.chroma_host:
        env["REPLYQA_CHROMA_HOST"] = settings.chroma_host
        env["REPLYQA_CHROMA_PORT"] = str(settings.chroma_port)
    else:
        env.pop("REPLYQA_CHROMA_HOST", None)
    for name in ("GRADIO_ANALYTICS_ENABLED", "REPLYQA_AUTH_USERS", "REPLYQA_AUTH_FILE", "REPLYQA_LLM_BASE_URL"):
        env.pop(name, None)  # no login, no LLM: the page as measured answers from the letters alone
    return env


def cli(settings: Settings, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """`replyqa ARGS…` as a child process over the same index."""
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=serve_env(settings), cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    started: float
    """`time.monotonic()` when the process was started."""
    log: Path

    def pids(self) -> list[int]:
        """The serving process and its live descendants (the embedding model's process)."""
        out, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            for children in Path(f"/proc/{pid}/task").glob("*/children"):
                with contextlib.suppress(OSError):
                    todo.extend(int(c) for c in children.read_text().split())
        return out

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the serving processes have used so far."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> tuple[float, float]:
        """(now, peak) resident memory of the serving processes together, MB: the page's and
        its model's, which is what the machine has to hold."""
        now = peak = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                kb = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines()
                      if line.startswith(("VmRSS:", "VmHWM:"))}
                now, peak = now + kb["VmRSS"], peak + kb["VmHWM"]
        return now / 1024, peak / 1024


@contextlib.contextmanager
def serving(settings: Settings, log: Path, *, port: int | None = None) -> Iterator[Served]:
    """`replyqa serve` on 127.0.0.1 for the duration; stopped (and waited for) afterwards."""
    port = port or free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=serve_env(settings), cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
        )
        served = Served(process, f"http://127.0.0.1:{port}/", time.monotonic(), log)
        try:
            yield served
        finally:
            stop_process(process, 30)


def connect(served: Served, timeout: float = START_TIMEOUT_S) -> Any:
    """A `gradio_client.Client` once the page answers (polling while it starts)."""
    from gradio_client import Client

    deadline = time.monotonic() + timeout
    while True:
        if served.process.poll() is not None:
            raise RuntimeError(f"replyqa serve 已退出（{served.process.returncode}），见 {served.log}")
        try:
            # Plain HTTP to 127.0.0.1: no certificate to check, and without ssl_verify=False
            # gradio_client builds an SSL context per request (measured: 51 of its 57 ms of CPU).
            return Client(served.url, verbose=False, download_files=False, analytics_enabled=False,
                          ssl_verify=False, httpx_kwargs={"trust_env": False, "timeout": 120})
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def takes_history(client: Any, endpoint: str = ASK_ENDPOINT) -> bool:
    info = client.view_api(print_info=False, return_format="dict") or {}
    params = info.get("named_endpoints", {}).get(endpoint, {}).get("parameters", [])
    return any(p.get("parameter_name") == "history" for p in params)


def ask(client: Any, question: str, history: Sequence[str] = (), *, with_history: bool = False) -> dict[str, Any]:
    """One answer as the page's API gives it (`replyqa ask --json`'s shape)."""
    if with_history:
        return dict(client.predict(question, list(history), api_name=ASK_ENDPOINT))
    return dict(client.predict(question, api_name=ASK_ENDPOINT))


def same_answer(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The same text, found-ness and citations (timings aside)."""
    keys = ("found", "text", "citations")
    return all(a.get(k) == b.get(k) for k in keys)
