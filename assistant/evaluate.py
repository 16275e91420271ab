"""The evaluation runner behind `replyqa eval`: questions in, per-question records and the design's
metrics out (definitions in `assistant.metrics`).

It asks through the same service call as `replyqa ask --history` (`ask_with_history`), so what is
measured is what a script or the page gets. With `--corpus` the letters are ingested into a
throw-away index first, so an evaluation never touches (or depends on) the user's own index; the
exported embedding model is shared, since exporting it again would cost a minute for nothing.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO

from assistant.metrics import (
    LOWER_IS_BETTER,
    METRICS,
    Gold,
    QuestionScores,
    aggregate,
    error_scores,
    normalize,
    score_question,
)

if TYPE_CHECKING:
    from assistant.answer import Answer
    from assistant.service import ReplyQA
    from index.settings import Settings

UNLABELLED_KIND = "未分类"
WARMUP_QUESTIONS = ("这封答复的主要内容是什么？", "下一步有什么工作安排？")


class EvalInputError(ValueError):
    """A question file, a corpus folder or a threshold that cannot be used; the message is for users."""


# --------------------------------------------------------------------------- question files


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    history: tuple[str, ...] = ()
    answerable: bool = True
    gold: tuple[Gold, ...] = ()
    facts: tuple[str, ...] = ()
    kind: str | None = None
    line: int = 0


@dataclass(frozen=True)
class BatchQuestion:
    id: str
    question: str
    history: tuple[str, ...] = ()


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; a line that is not a JSON object stops
    everything with a message naming the file and the line."""
    path = Path(path)
    if not path.is_file():
        raise EvalInputError(f"问题文件不存在：{path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EvalInputError(f"{path}：不是 UTF-8 编码的文本（{exc.reason}）") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalInputError(f"{path} 第 {number} 行：不是合法的 JSON（{exc.msg}，第 {exc.colno} 列）") from exc
        if not isinstance(value, dict):
            raise EvalInputError(f"{path} 第 {number} 行：应为一个 JSON 对象（{{...}}），而不是 {type(value).__name__}")
        yield number, value


def _where(path: Path, line: int) -> str:
    return f"{path} 第 {line} 行"


def _text(obj: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise EvalInputError(f"{where}：缺少字段 “{key}”")
        return None
    if not isinstance(value, str) or not value.strip():
        raise EvalInputError(f"{where}：字段 “{key}” 应为非空字符串")
    return value


def _strings(obj: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise EvalInputError(f"{where}：字段 “{key}” 应为字符串列表（可为空 []）")
    return tuple(value)


def _gold(obj: dict[str, Any], where: str) -> tuple[Gold, ...]:
    value = obj.get("gold", [])
    if value is None:
        return ()
    if not isinstance(value, list):
        raise EvalInputError(f"{where}：字段 “gold” 应为列表，每项形如 {{\"letter\": ..., \"quote\": ...}}")
    items = []
    for i, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise EvalInputError(f"{where}：gold 第 {i} 项应为对象 {{\"letter\": ..., \"quote\": ...}}")
        letter = _text(item, "letter", f"{where} gold 第 {i} 项")
        quote = _text(item, "quote", f"{where} gold 第 {i} 项")
        if not normalize(str(quote)):
            raise EvalInputError(f"{where}：gold 第 {i} 项的 quote 去掉空白后为空")
        items.append(Gold(letter=str(letter), quote=str(quote)))
    return tuple(items)


def load_questions(path: Path) -> list[EvalQuestion]:
    """The evaluation set, validated line by line (`docs/design.md`, "Evaluation set format")."""
    path = Path(path)
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    for number, obj in read_jsonl(path):
        where = _where(path, number)
        qid = str(_text(obj, "id", where))
        if qid in seen:
            raise EvalInputError(f"{where}：id “{qid}” 与第 {seen[qid]} 行重复")
        seen[qid] = number
        answerable = obj.get("answerable", True)
        if not isinstance(answerable, bool):
            raise EvalInputError(f"{where}：字段 “answerable” 应为 true 或 false")
        gold = _gold(obj, where)
        facts = _strings(obj, "facts", where)
        if not answerable and (gold or facts):
            raise EvalInputError(f"{where}：不可回答的问题（answerable: false）不应有 gold 或 facts")
        kind = obj.get("kind")
        if kind is not None and (not isinstance(kind, str) or not kind.strip()):
            raise EvalInputError(f"{where}：字段 “kind” 应为非空字符串")
        questions.append(EvalQuestion(
            id=qid, question=str(_text(obj, "question", where)), history=_strings(obj, "history", where),
            answerable=answerable, gold=gold, facts=facts, kind=kind, line=number,
        ))
    if not questions:
        raise EvalInputError(f"{path}：文件中没有问题")
    return questions


def load_batch(path: Path) -> list[BatchQuestion]:
    """`replyqa ask --batch` input: {"id", "question", "history"} per line; a missing id becomes
    the line number, so every output line can still be matched to its input."""
    path = Path(path)
    items: list[BatchQuestion] = []
    for number, obj in read_jsonl(path):
        where = _where(path, number)
        raw_id = obj.get("id", number)
        if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or str(raw_id).strip() == "":
            raise EvalInputError(f"{where}：字段 “id” 应为字符串或整数")
        items.append(BatchQuestion(
            id=str(raw_id), question=str(_text(obj, "question", where)), history=_strings(obj, "history", where)
        ))
    return items


# --------------------------------------------------------------------------- answers as JSON


def answer_json(answer: Answer) -> dict[str, Any]:
    """The `replyqa ask --json` object (`docs/design.md`, "Command line contract"), plus the
    fields scripts find useful beside it (question, kind, mode, leads)."""
    data = answer.model_dump(mode="json")
    return {
        "question": answer.question,
        "answer": answer.text,
        "found": answer.found,
        "query": answer.query,
        "citations": [{**c.model_dump(mode="json"), "reference": c.reference} for c in answer.citations],
        "retrieved": data["retrieved"],
        "leads": data["leads"],
        "kind": answer.kind,
        "mode": answer.mode,
        "latency_ms": answer.latency_ms,
    }


# --------------------------------------------------------------------------- the run


class Answerer(Protocol):
    """What the runner needs: `ReplyQA` and `BaselineQA` both fit."""

    def ask_with_history(self, question: str, history: Sequence[str]) -> Answer: ...


@dataclass
class QuestionRecord:
    question: EvalQuestion
    answer: dict[str, Any] | None
    scores: QuestionScores

    @property
    def group(self) -> str:
        return self.question.kind or UNLABELLED_KIND

    def failures(self) -> list[str]:
        """Why this question counts as failed (empty when it passed), in the report's words."""
        s, q = self.scores, self.question
        reasons: list[str] = []
        if s.error:
            reasons.append(f"运行出错：{s.error}")
        if not q.answerable:
            if s.found:
                reasons.append("应拒答，却给出了答案")
            return reasons
        if not s.found and not s.error:
            reasons.append("误拒：没有给出答案")
        if s.hit_5 == 0.0 and not s.error:
            reasons.append("检索：前 5 条中没有标准片段")
        if s.found and s.citation_hit == 0.0:
            reasons.append("引用：没有一条引用命中标准片段")
        if s.found and s.missing_facts:
            reasons.append("缺少事实：" + "、".join(s.missing_facts))
        return reasons

    def to_dict(self) -> dict[str, Any]:
        q = self.question
        return {
            "id": q.id,
            "question": q.question,
            "history": list(q.history),
            "kind": q.kind,
            "answerable": q.answerable,
            "gold": [{"letter": g.letter, "quote": g.quote} for g in q.gold],
            "facts": list(q.facts),
            "answer": self.answer,
            "metrics": self.scores.to_dict(),
            "failures": self.failures(),
        }


@dataclass
class EvalResult:
    name: str
    records: list[QuestionRecord]
    metrics: dict[str, float | int | None]
    by_kind: dict[str, dict[str, float | int | None]]
    seconds: float = 0.0
    questions_file: str | None = None
    corpus: str | None = None
    baseline: EvalResult | None = None
    checks: list[ThresholdCheck] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[QuestionRecord]:
        return [r for r in self.records if r.failures()]

    def to_dict(self, *, with_checks: bool = True) -> dict[str, Any]:
        """The `--json` document; a baseline's is nested without thresholds (they judge the system)."""
        out: dict[str, Any] = {
            "system": self.name,
            "questions_file": self.questions_file,
            "corpus": self.corpus,
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(self.seconds, 2),
            "metrics": self.metrics,
            "by_kind": self.by_kind,
            "failed": [r.question.id for r in self.failed],
            "questions": [r.to_dict() for r in self.records],
        }
        if not with_checks:
            return out
        out["baseline"] = None if self.baseline is None else self.baseline.to_dict(with_checks=False)
        out["thresholds"] = [c.to_dict() for c in self.checks]
        out["passed"] = self.passed
        return out


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


def summarise(name: str, records: list[QuestionRecord], seconds: float = 0.0) -> EvalResult:
    """Overall metrics, and per `kind` when any line of the set has one."""
    by_kind: dict[str, dict[str, float | int | None]] = {}
    if any(r.question.kind for r in records):
        groups: dict[str, list[QuestionScores]] = {}
        for r in records:
            groups.setdefault(r.group, []).append(r.scores)
        by_kind = {kind: aggregate(scores) for kind, scores in groups.items()}
    return EvalResult(
        name=name, records=records, metrics=aggregate([r.scores for r in records]), by_kind=by_kind,
        seconds=seconds,
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


# --------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class Threshold:
    """`--min hit@3=0.95` (at least) or `--max latency_p95_ms=500` (at most); `KIND:METRIC=VALUE`
    (`--min reworded:hit@3=0.8`) applies to the questions of one kind."""

    metric: str
    op: Literal["min", "max"]
    value: float
    kind: str | None = None

    @property
    def label(self) -> str:
        flag = "--min" if self.op == "min" else "--max"
        target = f"{self.kind}:{self.metric}" if self.kind else self.metric
        return f"{flag} {target}={self.value:g}"


@dataclass(frozen=True)
class ThresholdCheck:
    threshold: Threshold
    actual: float | None
    passed: bool

    def message(self) -> str:
        t = self.threshold
        target = f"{t.kind}:{t.metric}" if t.kind else t.metric
        if self.actual is None:
            return f"{target}：无法计算（没有适用的问题），要求 {'≥' if t.op == 'min' else '≤'} {t.value:g}"
        sign = "≥" if t.op == "min" else "≤"
        verdict = "通过" if self.passed else "未达标"
        return f"{target} = {self.actual:.4g}，要求 {sign} {t.value:g}：{verdict}"

    def to_dict(self) -> dict[str, Any]:
        t = self.threshold
        return {"metric": t.metric, "kind": t.kind, "op": t.op, "value": t.value,
                "actual": self.actual, "passed": self.passed}


_THRESHOLD = re.compile(r"^\s*(?:(?P<kind>[^:=]+):)?(?P<metric>[^:=]+?)\s*=\s*(?P<value>[^=]+?)\s*$")


def parse_threshold(text: str, op: Literal["min", "max"]) -> Threshold:
    """Parse `METRIC=VALUE` or `KIND:METRIC=VALUE`. A "lower is better" metric (the false-refusal
    rate, latencies) only takes `--max` and the others only `--min`: a floor on the false-refusal
    rate is nearly always a mistake that would pass silently."""
    flag = f"--{op}"
    m = _THRESHOLD.match(text)
    if not m:
        raise EvalInputError(f"{flag} {text}：格式应为 指标=数值（如 hit@3=0.95）或 类型:指标=数值")
    metric = m.group("metric").strip().lower()
    if metric not in METRICS:
        raise EvalInputError(f"{flag} {text}：未知指标 “{metric}”。可用指标：{', '.join(METRICS)}")
    try:
        value = float(m.group("value"))
    except ValueError:
        raise EvalInputError(f"{flag} {text}：“{m.group('value')}” 不是数字") from None
    if op == "min" and metric in LOWER_IS_BETTER:
        raise EvalInputError(f"{flag} {text}：{metric} 越低越好，请用 --max 设上限")
    if op == "max" and metric not in LOWER_IS_BETTER:
        raise EvalInputError(f"{flag} {text}：{metric} 越高越好，请用 --min 设下限")
    kind = m.group("kind").strip() if m.group("kind") else None
    return Threshold(metric=metric, op=op, value=value, kind=kind)


def check_thresholds(result: EvalResult, thresholds: Sequence[Threshold]) -> list[ThresholdCheck]:
    """Each threshold against the overall (or that kind's) metric; an undefined metric fails."""
    checks = []
    for t in thresholds:
        if t.kind is not None and t.kind not in result.by_kind:
            known = "、".join(result.by_kind) or "（本问题集没有 kind 字段）"
            raise EvalInputError(f"{t.label}：问题集中没有类型 “{t.kind}”。已有类型：{known}")
        source = result.by_kind[t.kind] if t.kind is not None else result.metrics
        actual = source.get(t.metric)
        value = None if actual is None else float(actual)
        passed = value is not None and (value >= t.value if t.op == "min" else value <= t.value)
        checks.append(ThresholdCheck(t, value, passed))
    return checks


# --------------------------------------------------------------------------- the index


@contextmanager
def temporary_index(settings: Settings, corpus: Path, *, log: TextIO = sys.stderr) -> Iterator[ReplyQA]:
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
        app = ReplyQA.open(settings.scratch(Path(tmp)))
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


# --------------------------------------------------------------------------- the command


def _progress_bar(total: int, desc: str, log: TextIO) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    from tqdm import tqdm

    bar = tqdm(total=total, unit="题", desc=desc, file=log, dynamic_ncols=True, leave=False)

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return update, bar.close


def evaluate_command(
    settings: Settings,
    *,
    questions_path: Path,
    corpus: Path | None = None,
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
    from assistant.report import terminal_table, write_report

    thresholds = [parse_threshold(t, "min") for t in mins] + [parse_threshold(t, "max") for t in maxs]
    questions = load_questions(questions_path)

    with _open_app(settings, corpus, log) as app:
        update, done = _progress_bar(len(questions), "评测", log)
        try:
            result = run_eval(app, questions, progress=update)
        finally:
            done()
        if baseline:
            result.baseline = _run_baseline(app, questions, log)
    result.questions_file = str(questions_path)
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
    from assistant.baseline import BaselineQA, letters_of

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
