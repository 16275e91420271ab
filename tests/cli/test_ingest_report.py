"""`replyqa ingest` as a script sees it: 0 when every file is in the index, 3 when some failed
and the rest are in, 1 when none is; `--json` says per file what became of it and why."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "letters"
BROKEN = ROOT / "samples" / "broken"


def _ingest(data: Path, models: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REPLYQA_DATA_DIR": str(data), "REPLYQA_MODELS_DIR": str(models)}
    return subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_partial_failure_has_its_own_exit_status_and_a_json_report(tmp_path: Path, export_dir: Path) -> None:
    models = export_dir.parent
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "qh-jt-2023-058.txt", folder / "a-good.txt")
    shutil.copy(SAMPLES / "qh-jt-2023-058.txt", folder / "b-good-copy.txt")
    shutil.copy(BROKEN / "corrupt.docx", folder / "broken.docx")
    # Refused from their stat, never opened for a read that would block (a FIFO without writer)
    # or run to 64 GB (a sparse file): with a read before the check this run hangs, and the
    # timeout fails it instead of the suite.
    os.mkfifo(folder / "c-管道.txt")
    with (folder / "d-稀疏.txt").open("wb") as handle:
        handle.truncate(64 * 1024**3)
    data = tmp_path / "data"

    start = time.monotonic()
    partial = _ingest(data, models, str(folder), str(tmp_path / "missing.txt"), "--json", timeout=300)
    assert time.monotonic() - start < 240
    assert partial.returncode == 3, partial.stderr
    report = json.loads(partial.stdout)
    assert report["exit_status"] == 3
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    assert set(by_name) == {"a-good.txt", "b-good-copy.txt", "broken.docx", "c-管道.txt", "d-稀疏.txt", "missing.txt"}
    for f in report["files"]:
        assert set(f) == {"path", "status", "status_zh", "letter_id", "chunks", "reason"}
    assert by_name["a-good.txt"]["status"] == "added" and by_name["a-good.txt"]["chunks"] > 0
    assert by_name["a-good.txt"]["letter_id"] == "a-good" and by_name["a-good.txt"]["reason"] is None
    assert by_name["b-good-copy.txt"]["status"] == "duplicate" and by_name["b-good-copy.txt"]["status_zh"] == "重复"
    dup_reason = by_name["b-good-copy.txt"]["reason"]
    assert "a-good.txt" in dup_reason and "b-good-copy.txt" in dup_reason
    assert by_name["broken.docx"]["status"] == "failed" and "损坏" in by_name["broken.docx"]["reason"]
    assert by_name["missing.txt"]["reason"] == "文件或文件夹不存在"
    assert by_name["c-管道.txt"]["status"] == "failed" and "不是普通文件" in by_name["c-管道.txt"]["reason"]
    assert "超过上限 50.0 MB" in by_name["d-稀疏.txt"]["reason"]
    assert report["summary"]["added"] == 1 and report["summary"]["failed"] == 4

    # Text output, the same statuses: a duplicate is no failure.
    ok = _ingest(data, models, str(folder / "a-good.txt"), str(folder / "b-good-copy.txt"))
    assert ok.returncode == 0, ok.stderr
    assert "重复" in ok.stdout and "未变 1" in ok.stdout

    nothing = _ingest(data, models, str(folder / "broken.docx"))
    assert nothing.returncode == 1
    assert "✗" in nothing.stdout and "broken.docx" in nothing.stdout


def test_help_documents_the_exit_statuses() -> None:
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    assert "退出状态" in result.stdout and "3    部分文件失败" in result.stdout and "--json" in result.stdout
