"""Per-question records and a run's result: what the runner produces, the report renders
and `--json` writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from assistant.evaluation.dataset import EvalQuestion
from assistant.evaluation.metrics import QuestionScores, aggregate

if TYPE_CHECKING:
    from assistant.evaluation.thresholds import ThresholdCheck

UNLABELLED_KIND = "未分类"


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
