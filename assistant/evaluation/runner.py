"""The evaluation runner behind `replyqa eval`: questions in, per-question records and the design's
metrics out (definitions in `assistant.metrics`).

It asks through the same service call as `replyqa ask --history` (`ask_with_history`), so what is
measured is what a script or the page gets. With `--corpus` the letters are ingested into a
throw-away index first, so an evaluation never touches (or depends on) the user's own index; the
exported embedding model is shared, since exporting it again would cost a minute for nothing.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, TextIO

from assistant.ask.answer import answer_json
from assistant.evaluation.dataset import EvalInputError, EvalQuestion, load_questions
from assistant.evaluation.metrics import QuestionScores, error_scores, score_question
from assistant.evaluation.results import EvalResult, QuestionRecord, summarise
from assistant.evaluation.split import Split
from assistant.evaluation.thresholds import check_thresholds, parse_threshold

if TYPE_CHECKING:
    from assistant.ask.answer import Answer
    from assistant.ask.calibration import Calibration
    from assistant.service import ReplyQA
    from index.settings import Settings


WARMUP_QUESTIONS = ("这封答复的主要内容是什么？", "下一步有什么工作安排？")


class Answerer(Protocol):
    """What the runner needs: `ReplyQA` and `BaselineQA` both fit."""

    def ask_with_history(self, question: str, history: Sequence[str]) -> Answer: ...


def _score(question: EvalQuestion, answer: Answer) -> QuestionScores:
    return score_question(
        answerable=question.answerable,
        gold=question.gold,
        facts=question.facts,
        found=answer.found,
        text=answer.text,
        citations=[(c.letter, c.quote) for c in answer.citations],
        retrieved=[(r.letter, r.text) for r in answer.retrieved],
        latency_ms=answer.latency_ms,
    )


def run_eval(
    app: Answerer,
    questions: Sequence[EvalQuestion],
    *,
    name: str = "replyqa",
    progress: Callable[[int, int], None] | None = None,
    warmup: int = len(WARMUP_QUESTIONS),
) -> EvalResult:
    """Ask every question (with its history) and score the answers. A question whose answering
    raises is recorded with the error and scored as a miss on everything, never skipped.

    `warmup` untimed questions go first: the first asks of a process pay one-time costs (the
    tokenizer's dictionary, the BM25 snapshot, PyTorch's first kernels — about 1–3 s here), which
    would otherwise land on the set's first questions and dominate latency p95."""
    started = time.perf_counter()
    for text in WARMUP_QUESTIONS[:warmup]:
        with suppress(Exception):  # a failing warm-up shows up again, scored, on the real questions
            app.ask_with_history(text, [])
    records: list[QuestionRecord] = []
    for i, question in enumerate(questions, start=1):
        asked = time.perf_counter()
        try:
            answer = app.ask_with_history(question.question, list(question.history))
        except Exception as exc:
            scores = error_scores(
                answerable=question.answerable, gold=question.gold, facts=question.facts,
                latency_ms=round((time.perf_counter() - asked) * 1000, 1), error=f"{type(exc).__name__}: {exc}",
            )
            records.append(QuestionRecord(question, None, scores))
        else:
            records.append(QuestionRecord(question, answer_json(answer), _score(question, answer)))
        if progress:
            progress(i, len(questions))
    return summarise(name, records, time.perf_counter() - started)


@contextmanager
def temporary_index(
    settings: Settings, corpus: Path, *, log: TextIO = sys.stderr, calibration: Calibration | None = None
) -> Iterator[ReplyQA]:
    """A fresh embedded index in a temporary folder with `corpus` ingested; the configured model
    store is reused, and a configured Chroma server is not (a temp index must not leave traces)."""
    from index.pipeline import discover

    corpus = Path(corpus)
    if not corpus.is_dir():
        raise EvalInputError(f"--corpus {corpus}：文件夹不存在")
    files = discover([corpus])
    if not files:
        raise EvalInputError(f"--corpus {corpus}：文件夹中没有支持的答复文件（.txt .html .docx .pdf）")
    from assistant.service import ReplyQA

    with tempfile.TemporaryDirectory(prefix="replyqa-eval-", ignore_cleanup_errors=True) as tmp:
        app = ReplyQA.open(settings.scratch(Path(tmp)), calibration=calibration)
        try:
            print(f"正在把 {corpus} 中的 {len(files)} 个文件导入临时索引……", file=log, flush=True)
            report = app.ingest([corpus])
            for failure in report.failures:
                print(f"✗ {failure.path}：{failure.reason}", file=log)
            print(report.summary_zh(), file=log, flush=True)
            if not app.letters():
                raise EvalInputError(f"--corpus {corpus}：没有一封答复导入成功")
            yield app
        finally:
            app.close()


def _progress_bar(total: int, desc: str, log: TextIO) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    from tqdm import tqdm

    bar = tqdm(total=total, unit="题", desc=desc, file=log, dynamic_ncols=True, leave=False)

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return update, bar.close


def evaluate_command(
    settings: Settings,
    *,
    questions_paths: Sequence[Path],
    corpus: Path | None = None,
    split: Literal["test", "train"] | None = None,
    json_out: Path | None = None,
    report_out: Path | None = None,
    baseline: bool = False,
    mins: Sequence[str] = (),
    maxs: Sequence[str] = (),
    out: TextIO = sys.stdout,
    log: TextIO = sys.stderr,
) -> int:
    """`replyqa eval`: 0 when every threshold holds, 1 when one is missed. Input errors raise
    `EvalInputError` before the model is loaded, so a typo costs no waiting."""
    from assistant.evaluation.report import terminal_table, write_report

    thresholds = [parse_threshold(t, "min") for t in mins] + [parse_threshold(t, "max") for t in maxs]
    questions = [q for path in questions_paths for q in load_questions(path)]
    if split is not None:
        questions = Split.load().select(questions, split)
    if not questions:
        raise EvalInputError("所选问题集中没有问题")

    with _open_app(settings, corpus, log) as app:
        update, done = _progress_bar(len(questions), "评测", log)
        try:
            result = run_eval(app, questions, progress=update)
        finally:
            done()
        if baseline:
            result.baseline = _run_baseline(app, questions, log)
    result.questions_file = " ".join(str(p) for p in questions_paths) + (f"（{split}）" if split else "")
    result.corpus = str(corpus) if corpus else None
    result.checks = check_thresholds(result, thresholds)

    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if report_out:
        chart = write_report(result, report_out)
        print(f"报告：{report_out}（图表 {chart.name}）", file=log)
    print(terminal_table(result), file=out)
    if result.checks:
        print(file=out)
        for check in result.checks:
            print(("✓ " if check.passed else "✗ ") + check.message(), file=out)
    if not result.passed:
        missed = [c for c in result.checks if not c.passed]
        print(f"未达标：{len(missed)} 项阈值未满足。", file=out)
        return 1
    return 0


@contextmanager
def _open_app(settings: Settings, corpus: Path | None, log: TextIO) -> Iterator[ReplyQA]:
    if corpus is not None:
        with temporary_index(settings, corpus, log=log) as app:
            yield app
        return
    from assistant.service import ReplyQA

    app = ReplyQA.open(settings)
    try:
        if not app.letters():
            raise EvalInputError(
                f"索引（{settings.data_dir}）是空的：请先运行 replyqa ingest，或用 --corpus 指定答复文件夹"
            )
        yield app
    finally:
        app.close()


def _run_baseline(app: ReplyQA, questions: Sequence[EvalQuestion], log: TextIO) -> EvalResult:
    from assistant.evaluation.baseline import BaselineQA, letters_of

    letters = letters_of([(r.id, r.source) for r in app.letters()], app.letter)
    print(f"基线：用 llama-index 默认流程为 {len(letters)} 封答复建立内存索引……", file=log, flush=True)
    built = time.perf_counter()
    base = BaselineQA.build(app.embedder, letters)
    print(f"基线索引完成（{time.perf_counter() - built:.1f} 秒）。", file=log, flush=True)
    update, done = _progress_bar(len(questions), "基线", log)
    try:
        return run_eval(base, questions, name="llama-index 默认流程", progress=update)
    finally:
        done()
