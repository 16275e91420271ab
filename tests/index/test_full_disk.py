"""A full disk during ingest, on a real full disk: a small tmpfs mounted as the data directory
(the tests run as root in CI's container; without the right to mount, this fails rather than
pretending). The ingest says in Chinese that the disk of the data directory is full, writes
nothing half, and the index already there keeps answering — in the process that tried, and in
new processes, which used to fail to open Chroma until space was freed."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.service import ReplyQA
from index.settings import Settings
from index.storage.records import StoreError
from index.storage.space import RESERVE_NAME

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "letters"
QUESTION = "东川省首批5G应用示范项目有多少个？"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the full-disk test (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    """Write until the disk says no more."""
    filler = disk / "filler"
    block = b"\1" * (1024 * 1024)
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(block)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    with filler.open("ab", buffering=0) as handle:  # the last partial block's worth too
        try:
            while True:
                handle.write(b"\1" * 4096)
        except OSError:
            pass
    return filler


def _new_letters(folder: Path) -> list[Path]:
    folder.mkdir()
    out = []
    for n, name in enumerate(("qh-sl-2024-112.txt", "lj-wj-2024-022.txt", "bs-jt-2021-036.txt")):
        path = folder / f"new-{n}.txt"
        path.write_text((SAMPLES / name).read_text(encoding="utf-8") + f"\n附：第{n + 1}号补充说明。\n",
                        encoding="utf-8")
        out.append(path)
    return out


def _ask_in_a_new_process(data: Path, models: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REPLYQA_DATA_DIR": str(data), "REPLYQA_MODELS_DIR": str(models)}
    return subprocess.run([sys.executable, "-m", "assistant.cli", "ask", QUESTION, "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_a_full_disk_stops_the_ingest_in_chinese_and_the_index_keeps_answering(
    small_disk: Path, tmp_path: Path, export_dir: Path
) -> None:
    models = export_dir.parent
    data = small_disk / "data"
    settings = Settings(data_dir=data, models_dir=models)
    app = ReplyQA.open(settings)
    try:
        first = app.ingest([SAMPLES])
        assert not first.failures
        assert (data / RESERVE_NAME).stat().st_size > 0, "the reserve is laid down while there is room"
        before = app.ask(QUESTION)
        assert before.found and "46个" in before.text
        letters_before = [r.id for r in app.letters()]

        filler = _fill(small_disk)
        with pytest.raises(StoreError) as raised:
            app.ingest(_new_letters(tmp_path / "more"))
        message = str(raised.value)
        assert "磁盘空间不足" in message and str(data) in message
        assert [r.id for r in app.letters()] == letters_before, "nothing half-written"
        assert app.ask(QUESTION).text == before.text, "the running process still answers"

        fresh = _ask_in_a_new_process(data, models)
        assert fresh.returncode == 0, fresh.stderr
        assert json.loads(fresh.stdout)["answer"] == before.text, "a new process opens the index and answers"

        env = {**os.environ, "REPLYQA_DATA_DIR": str(data), "REPLYQA_MODELS_DIR": str(models)}
        cli = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(tmp_path / "more")], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=600, check=False)
        assert cli.returncode == 2, cli.stderr
        assert "磁盘空间不足" in cli.stderr and str(data) in cli.stderr
        assert "Traceback" not in cli.stderr and "database or disk is full" not in cli.stderr

        filler.unlink()
        after = app.ingest([tmp_path / "more"])
        assert after.count("added") == 3 and not after.failures, "space freed: the same ingest goes through"
        assert (data / RESERVE_NAME).exists(), "and the reserve is back"
        assert app.ask(QUESTION).text == before.text
    finally:
        app.close()
