"""Running the system tools some formats need (LibreOffice, Tesseract, pdftoppm) with a time limit.

Each runs in its own process group, so a timeout ends the tool and whatever it started (soffice
forks oosplash and soffice.bin); its output goes to files, never through a pipe it could fill.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from index.reading.loaded import LoadError


def find_tool(name: str) -> str | None:
    return shutil.which(name)


def run_tool(
    cmd: Sequence[str],
    *,
    timeout: float,
    path: Path | str,
    what: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Raises `LoadError` naming `path` when the tool cannot start, takes too long or fails."""
    full_env = {**os.environ, **(env or {})}
    try:
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
    except OSError as exc:
        raise LoadError(path, f"无法启动{what}（{exc.strerror or exc}）") from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise LoadError(path, f"{what}超过 {timeout:g} 秒仍未完成，已停止") from None
    finally:
        _kill_group(proc)
    result = subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)
    if proc.returncode != 0:
        detail = err.decode("utf-8", errors="replace").strip().splitlines()
        tail = f"：{detail[-1][:200]}" if detail else ""
        raise LoadError(path, f"{what}失败（退出码 {proc.returncode}{tail}）")
    return result


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Children left behind by a tool that has exited are ended too."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
