"""The command line as scripts use it: exit codes and JSON shapes of the design."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _replyqa(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
    )


def test_parse_json_gives_one_object_per_file_and_errors_do_not_stop_the_batch() -> None:
    good = ROOT / "samples" / "letters" / "qh-jt-2023-058.txt"
    broken = ROOT / "samples" / "broken" / "corrupt.docx"
    result = _replyqa("parse", str(good), str(broken), str(good), "--json")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert len(items) == 3
    letter, failure, again = items
    assert letter == again
    assert failure["source"] == str(broken) and "损坏" in failure["error"]
    for key in ("id", "source", "title", "issuer", "date", "addressee", "channel", "session",
                "number", "category", "disclosure", "contact", "text", "sections"):
        assert key in letter
    assert letter["id"] == "qh-jt-2023-058" and letter["date"] == "2023-06-18"
    top = letter["sections"][0]
    assert set(top) >= {"label", "heading", "start", "end", "children"}
    for section in letter["sections"]:
        assert letter["text"][section["start"]:section["end"]]


def test_parse_prints_a_readable_summary_in_chinese() -> None:
    result = _replyqa("parse", str(ROOT / "samples" / "letters" / "dc-gx-2020-dh0271.txt"))
    assert result.returncode == 0
    assert "标题：" in result.stdout and "答复单位：东川省工业和信息化厅" in result.stdout


def test_parse_of_only_broken_files_fails() -> None:
    result = _replyqa("parse", str(ROOT / "samples" / "broken" / "empty.txt"), "--json")
    assert result.returncode == 1
    assert "空" in json.loads(result.stdout)[0]["error"]
