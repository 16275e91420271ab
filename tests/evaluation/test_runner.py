"""`replyqa eval` and `replyqa ask` end to end (subprocesses, the real model, the sample letters),
plus the runner's input checks, which need no model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.evaluation.dataset import EvalInputError, EvalQuestion, load_batch, load_questions
from assistant.evaluation.metrics import METRICS, Gold, score_question
from assistant.evaluation.report import display_width, markdown_report, terminal_table, write_chart
from assistant.evaluation.results import QuestionRecord, summarise
from assistant.evaluation.thresholds import check_thresholds, parse_threshold

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "letters"
QUESTIONS = ROOT / "eval" / "samples.jsonl"
CITATION_KEYS = {"n", "letter", "title", "issuer", "date", "section", "heading", "quote", "start", "end",
                 "verified", "note", "reference"}
SMALL_INDEX = ("qh-jt-2023-058.txt", "dc-gx-2020-dh0271.txt", "qh-zg-2023-058-hb.txt")
RETRIEVED_KEYS = {"letter", "title", "section", "text", "start", "end", "score"}


def _replyqa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False, env=env,
    )


@pytest.fixture(scope="module")
def env(export_dir: Path, models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The session's exported model, an empty data dir of our own, and no stray configuration."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("REPLYQA_")}
    root = tmp_path_factory.mktemp("eval-env")
    return {
        **base,
        "REPLYQA_DATA_DIR": str(root / "untouched"),
        "REPLYQA_MODELS_DIR": str(models_dir),
        "REPLYQA_CONFIG": str(root / "no-such-config.toml"),
    }


@pytest.fixture(scope="module")
def indexed_env(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One small index (the letters the questions below are about), shared by the tests that ask
    without --corpus: the full sample set is already ingested once by `corpus_run`."""
    indexed = {**env, "REPLYQA_DATA_DIR": str(tmp_path_factory.mktemp("eval-index"))}
    result = _replyqa("ingest", *(str(SAMPLES / name) for name in SMALL_INDEX), env=indexed)
    assert result.returncode == 0, result.stderr
    return indexed


@pytest.fixture(scope="module")
def corpus_run(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    out = tmp_path_factory.mktemp("eval-out")
    result = _replyqa(
        "eval", "--questions", str(QUESTIONS), "--corpus", str(SAMPLES),
        "--json", str(out / "result.json"), "--report", str(out / "report.md"), "--min", "hit@5=0.0",
        env=env,
    )
    yield result, out


# --------------------------------------------------------------------------- end to end


def test_eval_with_corpus_writes_every_metric_the_report_and_the_chart(
    corpus_run: tuple[subprocess.CompletedProcess[str], Path], env: dict[str, str]
) -> None:
    result, out = corpus_run
    assert result.returncode == 0, result.stderr
    data = json.loads((out / "result.json").read_text(encoding="utf-8"))
    for metric in METRICS:
        assert metric in data["metrics"], metric
    assert data["metrics"]["questions"] == sum(1 for line in QUESTIONS.open(encoding="utf-8") if line.strip())
    assert data["passed"] is True
    assert data["thresholds"] == [
        {"metric": "hit@5", "kind": None, "op": "min", "value": 0.0, "actual": data["metrics"]["hit@5"], "passed": True}
    ]
    record = data["questions"][0]
    assert record["id"] == "s001" and record["gold"] and set(record["metrics"]) >= {"hit_1", "rr_10", "fact_recall"}
    assert {"answer", "found", "query", "citations", "retrieved", "latency_ms"} <= set(record["answer"])
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## 总体指标" in report and "![指标对比](report.png)" in report and "## 失败的问题" in report
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "检索 hit@5" in result.stdout and "✓ hit@5" in result.stdout
    # --corpus works in a temporary index: the configured data dir is never created
    assert not Path(env["REPLYQA_DATA_DIR"]).exists()


def test_eval_exits_1_when_a_threshold_is_missed_and_runs_the_baseline(
    indexed_env: dict[str, str], tmp_path: Path
) -> None:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    subset = tmp_path / "subset.jsonl"  # questions about the small index's letters keep it quick
    picked = lines[:5] + [line for line in lines if '"answerable": false' in line][:2]
    assert all(any(f'"{Path(n).stem}"' in line for n in SMALL_INDEX) for line in lines[:5])
    subset.write_text("\n".join(picked) + "\n", encoding="utf-8")
    result = _replyqa(
        "eval", "--questions", str(subset), "--baseline", "--min", "hit@5=1.01", "--max", "latency_p95_ms=1e9",
        "--json", str(tmp_path / "r.json"), "--report", str(tmp_path / "r.md"), env=indexed_env,
    )
    assert result.returncode == 1, result.stderr
    assert "✗ hit@5" in result.stdout and "未达标" in result.stdout
    assert "✓ latency_p95_ms" in result.stdout
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["passed"] is False
    baseline = data["baseline"]
    assert set(METRICS) <= set(baseline["metrics"]) and baseline["metrics"]["questions"] == 7
    first = baseline["questions"][0]["answer"]
    assert first["found"] is True and 1 <= len(first["citations"]) <= 5 and len(first["retrieved"]) <= 5
    assert all(len(c["quote"]) <= 300 for c in first["citations"])
    assert "基线" in (tmp_path / "r.md").read_text(encoding="utf-8") and (tmp_path / "r.png").exists()


def _check_answer_shape(item: dict[str, Any]) -> None:
    assert isinstance(item["answer"], str) and isinstance(item["found"], bool) and isinstance(item["query"], str)
    assert isinstance(item["latency_ms"], int | float)
    for citation in item["citations"]:
        assert set(citation) >= CITATION_KEYS
        assert citation["reference"].startswith("《")
    assert len(item["retrieved"]) >= 10  # even the small index has more than 10 passages
    for retrieved in item["retrieved"]:
        assert set(retrieved) >= RETRIEVED_KEYS
        assert retrieved["start"] < retrieved["end"]


def test_ask_json_has_the_contract_shape(indexed_env: dict[str, str]) -> None:
    result = _replyqa(
        "ask", "那县道呢？", "--history", "青河市对村道养护每年每公里补助多少钱？", "--json", env=indexed_env
    )
    assert result.returncode == 0, result.stderr
    item = json.loads(result.stdout)
    _check_answer_shape(item)
    assert item["question"] == "那县道呢？"


def test_ask_batch_prints_one_json_object_per_line_with_its_id(indexed_env: dict[str, str], tmp_path: Path) -> None:
    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        json.dumps({"id": "a", "question": "2022年青河市农村公路建设完成了多少投资？", "history": []},
                   ensure_ascii=False) + "\n\n"
        + json.dumps({"id": "b", "question": "那养护补助呢？", "history": ["2022年青河市农村公路建设完成了多少投资？"]},
                     ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    result = _replyqa("ask", "--batch", str(batch), "--json", env=indexed_env)
    assert result.returncode == 0, result.stderr
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert [i["id"] for i in items] == ["a", "b"]
    for item in items:
        _check_answer_shape(item)
    assert items[0]["found"] and "18.6亿元" in items[0]["answer"]


def test_bad_input_fails_fast_with_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q1", "question": "问题", "answerable": true}\n{"id": "q2", "question": \n',
                   encoding="utf-8")
    result = _replyqa("eval", "--questions", str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "第 2 行" in result.stderr and "JSON" in result.stderr
    result = _replyqa("eval", "--questions", str(QUESTIONS), "--min", "hit@7=0.5")
    assert result.returncode == 2 and "未知指标" in result.stderr and "hit@5" in result.stderr


# --------------------------------------------------------------------------- the runner, in process


def test_load_questions_validates_each_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    good = {"id": "q1", "question": "问？", "history": [], "answerable": True,
            "gold": [{"letter": "L", "quote": "引文"}], "facts": ["引文"], "kind": "fact"}
    path.write_text(json.dumps(good, ensure_ascii=False) + "\n", encoding="utf-8")
    [q] = load_questions(path)
    assert q == EvalQuestion(id="q1", question="问？", answerable=True, gold=(Gold("L", "引文"),),
                             facts=("引文",), kind="fact", line=1)
    cases = [
        ({**good, "id": "q2", "gold": [{"letter": "L"}]}, "缺少字段 “quote”"),
        ({**good, "id": "q2", "answerable": "yes"}, "answerable"),
        ({**good, "id": "q2", "answerable": False}, "不应有 gold 或 facts"),
        ({**good, "id": "q2", "history": "早先的问题"}, "history"),
        ({"id": "q2", "history": []}, "缺少字段 “question”"),
        ([1, 2], "JSON 对象"),
    ]
    for obj, message in cases:
        path.write_text(json.dumps(good, ensure_ascii=False) + "\n" + json.dumps(obj, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        with pytest.raises(EvalInputError, match="第 2 行") as caught:
            load_questions(path)
        assert message in str(caught.value) and str(path) in str(caught.value)
    path.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match="与第 1 行重复"):
        load_questions(path)
    with pytest.raises(EvalInputError, match="不存在"):
        load_questions(tmp_path / "missing.jsonl")


def test_load_batch_defaults_the_id_to_the_line_number(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text('{"question": "问一"}\n{"id": 7, "question": "问二", "history": ["前"]}\n', encoding="utf-8")
    first, second = load_batch(path)
    assert (first.id, second.id, second.history) == ("1", "7", ("前",))


def test_thresholds_parse_and_check() -> None:
    assert parse_threshold("hit@3=0.95", "min").metric == "hit@3"
    assert parse_threshold("reworded:HIT@3 = 0.8", "min").kind == "reworded"
    assert parse_threshold("latency_p95_ms=500", "max").value == 500.0
    for text, op, message in [
        ("recall=0.5", "min", "未知指标"),
        ("hit@3", "min", "格式"),
        ("hit@3=lots", "min", "不是数字"),
        ("false_refusal_rate=0.1", "min", "--max"),
        ("hit@1=0.9", "max", "--min"),
    ]:
        with pytest.raises(EvalInputError, match=message):
            parse_threshold(text, op)  # type: ignore[arg-type]

    result = _small_result()
    # overall hit@1 = (1 + 0)/2 = 0.5; the "fact" kind alone has hit@1 = 1
    checks = check_thresholds(result, [
        parse_threshold("hit@1=0.5", "min"),
        parse_threshold("hit@1=0.6", "min"),
        parse_threshold("fact:hit@1=1", "min"),
        parse_threshold("false_refusal_rate=0.4", "max"),  # 1 refusal of 2 answerable = 0.5
        parse_threshold("refusal_accuracy=0", "min"),  # no unanswerable question: undefined → fails
    ])
    assert [c.passed for c in checks] == [True, False, True, False, False]
    assert "无法计算" in checks[-1].message()
    with pytest.raises(EvalInputError, match="没有类型"):
        check_thresholds(result, [parse_threshold("nosuchkind:hit@1=0", "min")])


def _small_result():  # -> EvalResult
    gold = (Gold("L", "标准引文片段"),)
    records = []
    for qid, kind, found, retrieved in [("a", "fact", True, [("L", "含标准引文片段")]), ("b", "list", False, [])]:
        question = EvalQuestion(id=qid, question=f"问题{qid}", gold=gold, facts=("引文",), kind=kind)
        scores = score_question(
            answerable=True, gold=gold, facts=["引文"], found=found, text="标准引文片段" if found else "未找到",
            citations=[("L", "标准引文片段")] if found else [], retrieved=retrieved, latency_ms=10.0,
        )
        answer = {"answer": "标准引文片段" if found else "未找到", "found": found, "query": f"问题{qid}",
                  "citations": [], "retrieved": [], "latency_ms": 10.0}
        records.append(QuestionRecord(question, answer, scores))
    return summarise("replyqa", records)


def test_terminal_table_is_aligned_and_the_report_lists_failures(tmp_path: Path) -> None:
    result = _small_result()
    result.baseline = _small_result()
    table = terminal_table(result).splitlines()
    body = table[1:1 + 2 + len(METRICS)]  # header, rule, one row per metric
    assert len({display_width(line) for line in body}) == 1, body
    report = markdown_report(result, "chart.png")
    assert "### b（list） 问题b" in report and "误拒" in report and "| 检索 hit@1 | 0.500 | 0.500 | +0.000 |" in report


def test_chart_draws_every_glyph_with_a_cjk_font_or_falls_back_to_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings

    import assistant.evaluation.report as report

    result = _small_result()
    result.baseline = _small_result()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font" would mean boxes in the PNG
        write_chart(result, tmp_path / "auto.png")  # Chinese labels when a CJK font is installed
        monkeypatch.setattr(report, "cjk_font", lambda: None)
        write_chart(result, tmp_path / "en.png")
    assert (tmp_path / "auto.png").stat().st_size > 1000 and (tmp_path / "en.png").stat().st_size > 1000
