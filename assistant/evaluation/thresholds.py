"""`--min METRIC=VALUE` / `--max METRIC=VALUE`: the bars a run must clear for `replyqa eval`
to exit 0 (for CI and for checking that answers stay accurate)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from assistant.evaluation.dataset import EvalInputError
from assistant.evaluation.metrics import LOWER_IS_BETTER, METRICS
from assistant.evaluation.results import EvalResult


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
