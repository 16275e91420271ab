"""The command line as a person at a terminal uses it: `letters` and `remove` start without the
model, `ingest` says what it is doing from its first line, `chat` understands its commands in
English and in Chinese, and `bench startup` measures the start-up of every command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli.asking import chat_command
from assistant.service import ReplyQA

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "letters"
HEAVY = ("torch", "sentence_transformers", "transformers", "gradio", "llama_index", "sklearn", "scipy", "pandas")
PROBE = (
    "import sys\n"
    "from assistant.cli import main\n"
    "code = main(sys.argv[1:])\n"
    f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules], code, file=sys.stderr)\n"
)


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def test_letters_and_remove_do_not_load_the_model(sample_app: ReplyQA) -> None:
    env = _env(REPLYQA_DATA_DIR=str(sample_app.settings.data_dir), REPLYQA_MODELS_DIR="/nonexistent/models")
    listed = subprocess.run([sys.executable, "-c", PROBE, "letters", "--json"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert "LOADED [] 0" in listed.stderr, listed.stderr
    letters = json.loads(listed.stdout)
    assert {item["id"] for item in letters} == {r.id for r in sample_app.letters()}
    assert all({"id", "source", "title", "issuer", "date", "chunks"} <= set(item) for item in letters)
    removed = subprocess.run([sys.executable, "-c", PROBE, "remove", "no-such-letter"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert "LOADED [] 1" in removed.stderr and "no-such-letter：索引中没有这封答复" in removed.stdout, removed
    assert len(sample_app.letters()) == len(letters)


def test_ask_answers_without_importing_torch(sample_app: ReplyQA) -> None:
    """A one-question `replyqa ask` embeds its question without torch (and what torch's
    sentence-transformers drags in), and still answers with its citation."""
    env = _env(REPLYQA_DATA_DIR=str(sample_app.settings.data_dir),
               REPLYQA_MODELS_DIR=str(sample_app.settings.model_store))
    asked = subprocess.run([sys.executable, "-c", PROBE, "ask", "东川省首批5G应用示范项目有多少个？"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=300, check=False)
    assert "LOADED [] 0" in asked.stderr, asked.stderr
    assert "46个" in asked.stdout and "引用：" in asked.stdout, asked.stdout


def test_letters_on_a_data_dir_without_an_index_creates_none(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "letters"], cwd=ROOT,
                            env=_env(REPLYQA_DATA_DIR=str(tmp_path / "none")), capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0 and "共 0 封答复" in result.stdout
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize(("line", "command"), [
    ("/help", "help"), ("帮助", "help"), ("/帮助", "help"), ("？", "help"), ("/new", "new"), ("新对话", "new"),
    ("/新对话", "new"), ("/quit", "quit"), ("退出", "quit"), ("/exit", "quit"), ("退出。", "quit"),
    ("帮助农民增收的措施有哪些？", None), ("新对话框在哪里？", None), ("2019年建了多少基站？", None),
])
def test_chat_commands_are_whole_lines(line: str, command: str | None) -> None:
    assert chat_command(line) == command


def test_chat_answers_questions_and_obeys_commands(tmp_path: Path, export_dir: Path) -> None:
    shutil.copy(SAMPLES / "dc-gx-2020-dh0271.txt", tmp_path / "dc-gx-2020-dh0271.txt")
    env = _env(REPLYQA_DATA_DIR=str(tmp_path / "data"), REPLYQA_MODELS_DIR=str(export_dir.parent))
    ingest = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(tmp_path / "dc-gx-2020-dh0271.txt")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert ingest.returncode == 0, ingest.stderr
    lines = ingest.stderr.replace("\r", "\n")
    assert lines.index("正在加载嵌入模型") < lines.index("读取 dc-gx-2020-dh0271.txt"), "says what it does first"
    assert "已读 1/1 封" in lines and "已完成 1/1 封" in lines and " 块" in lines
    assert "it/s" not in lines and "s/块" not in lines and "块/s" not in lines, "tqdm's own units are English"

    talk = "/help\n东川省首批5G应用示范项目有多少个？\n帮助\n新对话\n/new\n那青河市呢？\n退出\n这一行不会被读到\n"
    chat = subprocess.run([sys.executable, "-m", "assistant.cli", "chat"], cwd=ROOT, env=env, input=talk,
                          capture_output=True, text=True, timeout=600, check=False)
    assert chat.returncode == 0, chat.stderr
    out = chat.stdout
    assert out.count("可用命令") == 2, "/help and 帮助 print the help"
    assert out.count("已开始新对话") == 2, "新对话 and /new start over"
    assert out.count("答：") == 2, "only the two questions are answered"
    assert "46个" in out and "引用：" in out
    assert "这一行" not in out


def test_bench_startup_times_every_command(tmp_path: Path, export_dir: Path) -> None:
    """The README's start-up figures come from this command: it runs and keeps its shape (the
    times themselves are machine facts, not asserted)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("dc-gx-2020-dh0271.txt", "lj-sl-2022-015.txt"):
        shutil.copy(SAMPLES / name, corpus / name)
    out = tmp_path / "startup.json"
    env = _env(REPLYQA_MODELS_DIR=str(export_dir.parent), REPLYQA_DATA_DIR=str(tmp_path / "unused"))
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "bench", "startup", "--corpus", str(corpus), "--rounds", "1",
         "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["letters"] == 2 and figures["failures"] == 0
    names = list(figures["median_s"])
    for command in ("python -c pass", "replyqa letters", "replyqa remove", "replyqa parse", "replyqa ask"):
        assert any(name.startswith(command) for name in names), (command, names)
        assert command in result.stdout
    assert all(value > 0 for value in figures["median_s"].values())
    assert not (tmp_path / "unused").exists(), "the benchmark must not touch the configured index"
