"""`replyqa serve` without --host listens on 127.0.0.1 only: reachable on loopback, refused on
the machine's own network address. (Outside `tests/web`, whose guard counts any connection to
a non-loopback address as leaving the machine.)"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from assistant.evaluation.served import free_port, serve_env
from index.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _own_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))  # UDP: no packet is sent
            address = str(sock.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


pytestmark = pytest.mark.server


def test_serve_binds_loopback_unless_told_otherwise(tmp_path: Path, models_dir: Path, export_dir: Path) -> None:
    import subprocess
    import sys

    own = _own_address()
    if own is None:
        pytest.fail("this machine has no non-loopback address to check the page is unreachable on")
    port = free_port()
    env = serve_env(Settings(data_dir=tmp_path / "data", models_dir=models_dir))
    env.pop("REPLYQA_HOST", None)
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(trust_env=False, timeout=5) as http:
            deadline = time.monotonic() + 300
            while True:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                try:
                    assert http.get(f"http://127.0.0.1:{port}/config").status_code == 200
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline
                    time.sleep(0.3)
            with pytest.raises(httpx.ConnectError):
                http.get(f"http://{own}:{port}/config")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
