"""The journal of an import in progress: a running import (in this process or another) is never
taken for an interrupted one, a killed one is, and importing its files again settles it. Real
processes, killed with SIGKILL; no model."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from assistant.web.pending import PENDING_DIR, importing, interrupted, settle

ROOT = Path(__file__).resolve().parents[2]
HOLD = """
import sys, time
from pathlib import Path
from assistant.web.pending import importing
with importing(Path(sys.argv[1]), sys.argv[2:]):
    print("importing", flush=True)
    time.sleep(600)
"""


def _importing_in_a_child(upload_dir: Path, *names: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(upload_dir), *names], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "importing"
    return child


def test_a_running_import_is_not_interrupted_and_a_killed_one_is(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text("答复", encoding="utf-8")
    with importing(tmp_path, ["a.txt"]):
        assert interrupted(tmp_path).names == [], "this process's own import is running"
    assert not list((tmp_path / PENDING_DIR).iterdir()), "an import that ended leaves no journal"

    child = _importing_in_a_child(tmp_path, "b.txt", "c.txt", "gone.txt")
    try:
        assert interrupted(tmp_path).names == [], "another process's import is running"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    found = interrupted(tmp_path)
    assert found.names == ["b.txt", "c.txt"], "a file no longer in the upload folder is not offered"
    assert len(found.journals) == 1

    settle(tmp_path, ["b.txt"])
    assert interrupted(tmp_path).names == ["b.txt", "c.txt"], "c.txt is still not imported"
    settle(tmp_path, ["b.txt", "c.txt", "x.txt"])
    assert interrupted(tmp_path).names == [] and not list((tmp_path / PENDING_DIR).glob("*.json"))


CHURN = """
import sys, time
from pathlib import Path
from assistant.web.pending import importing
print("churning", flush=True)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    with importing(Path(sys.argv[1]), ["a.txt"]):
        pass
"""


def test_a_journal_being_written_is_never_read_as_a_dead_one(tmp_path: Path) -> None:
    """A reader polling while another process starts and ends imports as fast as it can never
    takes one of them for a dead one. (It did, at the end of an import, before the reader checked
    that the journal it had locked was still there: opened just before the import removed it,
    locked just after.)"""
    (tmp_path / "a.txt").write_text("答复", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHURN, str(tmp_path), "1.5"], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "churning"
    seen, reads = [], 0
    while child.poll() is None:
        seen.extend(interrupted(tmp_path).names)
        reads += 1
    assert child.wait(timeout=30) == 0
    assert reads > 100 and seen == []
