"""How an evaluation is shown: an aligned table on the terminal, and a Markdown report with a chart
(PNG beside it) for reading later or attaching to a review.

The chart's labels are Chinese when a CJK font is installed (Noto Sans CJK, WenQuanYi, Source Han)
and English otherwise: matplotlib's default font has no Han glyphs and would draw boxes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.evaluation.metrics import (
    LATENCY_METRICS,
    LOWER_IS_BETTER,
    METRIC_LABELS_EN,
    METRIC_LABELS_ZH,
    METRICS,
    RATE_METRICS,
)

if TYPE_CHECKING:
    from assistant.evaluation.results import EvalResult, QuestionRecord

CJK_FONT_PREFERENCE = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Noto Sans CJK HK",
    "Noto Sans CJK KR",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
)
CJK_FONT_HINTS = ("noto sans cjk", "source han sans", "wenquanyi")
SYSTEM_LABEL = "本系统"
BASELINE_LABEL = "基线（llama-index 默认）"
MAX_SHOWN = 300


# --------------------------------------------------------------------------- formatting


def fmt(metric: str, value: float | int | None) -> str:
    if value is None:
        return "—"
    if metric in LATENCY_METRICS:
        return f"{value:.1f}"
    return f"{value:.3f}"


def display_width(text: str) -> int:
    """Terminal columns: wide and full-width characters (Han, full-width punctuation) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(width - display_width(text), 0)
    return gap + text if right else text + gap


def align(rows: Sequence[Sequence[str]]) -> str:
    """Rows as columns padded to the widest cell; the first column left-aligned, numbers right."""
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [_pad(cell, widths[i], right=i > 0) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _counts(result: EvalResult) -> str:
    m = result.metrics
    return f"{m['questions']} 题（可回答 {m['answerable']}，不可回答 {m['unanswerable']}）"


def terminal_table(result: EvalResult) -> str:
    """The summary table (and the per-kind table when the set has kinds) for the terminal."""
    base = result.baseline
    header = ["指标", SYSTEM_LABEL] + ([BASELINE_LABEL] if base else [])
    rows = [header]
    for metric in METRICS:
        row = [METRIC_LABELS_ZH[metric], fmt(metric, result.metrics.get(metric))]
        if base:
            row.append(fmt(metric, base.metrics.get(metric)))
        rows.append(row)
    title = f"评测：{result.questions_file or ''} {_counts(result)}".strip()
    if result.corpus:
        title += f"，语料 {result.corpus}"
    parts = [title, align(rows)]
    if result.metrics.get("errors"):
        parts.append(f"出错的问题：{result.metrics['errors']} 个（按未命中计）")
    if result.by_kind:
        parts.append("\n按问题类型（本系统）：\n" + align(_kind_rows(result)))
    parts.append(f"\n失败的问题：{len(result.failed)} / {result.metrics['questions']}")
    return "\n".join(parts)


def _kind_rows(result: EvalResult) -> list[list[str]]:
    kinds = list(result.by_kind)
    rows = [["指标", *kinds], ["题数", *(str(result.by_kind[k]["questions"]) for k in kinds)]]
    for metric in METRICS:
        rows.append([METRIC_LABELS_ZH[metric], *(fmt(metric, result.by_kind[k].get(metric)) for k in kinds)])
    return rows


# --------------------------------------------------------------------------- chart


def cjk_font() -> str | None:
    """The family name of an installed CJK sans font known to matplotlib, or None."""
    from matplotlib import font_manager

    names = {entry.name for entry in font_manager.fontManager.ttflist}
    for name in CJK_FONT_PREFERENCE:
        if name in names:
            return name
    return next((n for n in sorted(names) if any(h in n.lower() for h in CJK_FONT_HINTS)), None)


def write_chart(result: EvalResult, path: Path) -> Path:
    """Grouped bars of every rate metric (system, and baseline beside it when run), and the two
    latency percentiles on their own axis since milliseconds do not share a scale with rates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = cjk_font()
    labels = METRIC_LABELS_ZH if font else METRIC_LABELS_EN
    system_name, baseline_name = (SYSTEM_LABEL, BASELINE_LABEL) if font else ("replyqa", "llama-index default")
    rc = {"font.family": "sans-serif", "font.sans-serif": [font, "DejaVu Sans"], "axes.unicode_minus": False} \
        if font else {}
    series = [(system_name, result.metrics, "#2f6db5")]
    if result.baseline is not None:
        series.append((baseline_name, result.baseline.metrics, "#c8873a"))

    with plt.rc_context(rc):
        fig, (rates, latency) = plt.subplots(
            1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [4, 1.3]}, layout="constrained"
        )
        width = 0.8 / len(series)
        for i, (name, metrics, colour) in enumerate(series):
            xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(RATE_METRICS))]
            values = [_value(metrics.get(m)) for m in RATE_METRICS]
            bars = rates.bar(xs, values, width, label=name, color=colour)
            for bar, metric in zip(bars, RATE_METRICS, strict=True):
                shown = metrics.get(metric)
                rates.annotate(
                    "—" if shown is None else f"{float(shown):.2f}",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points",
                )
            lat_xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(LATENCY_METRICS))]
            lat_bars = latency.bar(
                lat_xs, [_value(metrics.get(m)) for m in LATENCY_METRICS], width, label=name, color=colour
            )
            for bar, metric in zip(lat_bars, LATENCY_METRICS, strict=True):
                shown = metrics.get(metric)
                latency.annotate(
                    "—" if shown is None else f"{float(shown):.0f}",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points",
                )
        rates.set_xticks(range(len(RATE_METRICS)))
        rates.set_xticklabels(
            [labels[m] + (" ↓" if m in LOWER_IS_BETTER else "") for m in RATE_METRICS], rotation=30, ha="right"
        )
        rates.set_ylim(0, 1.12)
        rates.set_title(
            "检索、引用与回答（越高越好；标 ↓ 的越低越好）" if font
            else "Retrieval, citations, answers (higher is better; ↓ marks lower is better)"
        )
        rates.legend(loc="upper right", fontsize=8)
        rates.grid(axis="y", alpha=0.3)
        latency.set_xticks(range(len(LATENCY_METRICS)))
        latency.set_xticklabels(["p50", "p95"])
        latency.set_title("延迟（毫秒）" if font else "Latency (ms)")
        latency.grid(axis="y", alpha=0.3)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return path


def _value(value: float | int | None) -> float:
    return 0.0 if value is None else float(value)


# --------------------------------------------------------------------------- Markdown


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _short(text: str, limit: int = MAX_SHOWN) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _metrics_table(result: EvalResult) -> list[str]:
    base = result.baseline
    head = ["指标", SYSTEM_LABEL] + ([BASELINE_LABEL, "差值"] if base else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    for metric in METRICS:
        value = result.metrics.get(metric)
        row = [METRIC_LABELS_ZH[metric], fmt(metric, value)]
        if base:
            other = base.metrics.get(metric)
            row.append(fmt(metric, other))
            row.append("—" if value is None or other is None else _delta(metric, float(value) - float(other)))
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _delta(metric: str, diff: float) -> str:
    return f"{diff:+.1f}" if metric in LATENCY_METRICS else f"{diff:+.3f}"


def _kind_table(result: EvalResult) -> list[str]:
    rows = _kind_rows(result)
    lines = ["| " + " | ".join(_cell(c) for c in rows[0]) + " |", "|---|" + "---:|" * (len(rows[0]) - 1)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows[1:]]
    return lines


def _failure(record: QuestionRecord) -> list[str]:
    q, answer = record.question, record.answer
    kind = f"（{q.kind}）" if q.kind else ""
    lines = [f"### {q.id}{kind} {_cell(q.question)}", ""]
    if q.history:
        lines.append("- 对话历史：" + " → ".join(q.history))
    lines.append("- 失败原因：" + "；".join(record.failures()))
    if q.answerable:
        for g in q.gold:
            lines.append(f"- 期望引用：`{g.letter}` “{g.quote}”")
        if q.facts:
            lines.append("- 期望事实：" + "、".join(q.facts))
    else:
        lines.append("- 期望：拒答（found = false）")
    if answer is None:
        return [*lines, ""]
    if answer["query"] != q.question:
        lines.append(f"- 实际检索语句：{answer['query']}")
    lines.append(f"- 实际：{'给出答案' if answer['found'] else '拒答'}（{answer['latency_ms']} 毫秒）")
    lines.append("")
    text = answer["answer"] if len(answer["answer"]) <= 600 else answer["answer"][:600] + "…"
    lines.extend(("> " + line).rstrip() for line in text.splitlines() or [""])
    lines.append("")
    for c in answer["citations"]:
        lines.append(f"- 引用 [{c['n']}] `{c['letter']}` {c['section']}：“{_short(c['quote'], 160)}”")
    rank = record.scores.rank
    top = "、".join(f"`{r['letter']}`" for r in answer["retrieved"][:5])
    found_at = f"标准片段在第 {rank} 条" if rank else "前 10 条中没有标准片段"
    if q.gold:
        lines.append(f"- 检索前 5：{top}（{found_at}）")
    return [*lines, ""]


NOTES = "\n".join((
    "- 比较前两边都做 NFKC 规范化并去掉所有空白字符。",
    "- 检索命中：同一封答复且片段包含标准引文；hit@k 为前 k 条中有任一命中，MRR@10 为首个命中名次的倒数"
    "（无则 0）。检索指标只对有标准引文的可回答问题计算，拒答的问题照样计算检索。",
    "- 引用命中：同一封答复、引文不超过 300 字（更长的引文一律不算命中），且包含标准引文，"
    "或与标准引文的最长公共子串不少于其长度的一半。拒答的可回答问题算未命中。",
    "- 引用精确率：命中的引用数 / 引用总数，只在给出答案且至少有一条引用的可回答问题上取平均。",
    "- 事实召回：答案文本包含的事实占比，只对有事实的问题取平均；拒答的问题记 0。",
    "- 拒答正确率：不可回答问题中 found = false 的比例；误拒率：可回答问题中 found = false 的比例。",
    "- 延迟：每题用时（追问只计最后一问）的 p50 / p95（线性插值）；计时前先问两个不计分的预热问题，"
    "免得一次性的加载开销算在头几题上。所有平均都是按题平均；无适用问题时记为 “—”。",
    "- 基线只取前 5 条，因此其 MRR@10 实为前 5 条内的倒数名次；基线没有多轮改写，追问按原句检索。",
)) + "\n"


def markdown_report(result: EvalResult, chart_name: str | None) -> str:
    lines = ["# replyqa 评测报告", ""]
    lines.append(f"- 问题集：`{result.questions_file}`，{_counts(result)}")
    if result.corpus:
        lines.append(f"- 语料：`{result.corpus}`（临时索引）")
    took = f"- 用时：{result.seconds:.1f} 秒"
    lines.append(took + (f"；基线 {result.baseline.seconds:.1f} 秒" if result.baseline else ""))
    if result.metrics.get("errors"):
        lines.append(f"- 运行出错的问题：{result.metrics['errors']} 个（按未命中计）")
    lines += ["", "## 总体指标", "", *_metrics_table(result), ""]
    if chart_name:
        lines += [f"![指标对比]({chart_name})", ""]
    if result.checks:
        lines += ["## 阈值", ""]
        lines += [f"- {'✓' if c.passed else '✗'} {c.message()}" for c in result.checks]
        lines.append("")
    if result.by_kind:
        lines += ["## 按问题类型（本系统）", "", *_kind_table(result), ""]
        if result.baseline is not None and result.baseline.by_kind:
            lines += ["### 按问题类型（基线）", "", *_kind_table(result.baseline), ""]
    failed = result.failed
    lines += [f"## 失败的问题（{len(failed)} / {result.metrics['questions']}）", ""]
    if not failed:
        lines += ["全部通过。", ""]
    for record in failed:
        lines += _failure(record)
    lines += ["## 指标定义", "", NOTES]
    return "\n".join(lines)


def write_report(result: EvalResult, path: Path) -> Path:
    """Write the Markdown report and its chart (same name, `.png`); returns the chart's path."""
    path = Path(path)
    chart = path.with_suffix(".png") if path.suffix.lower() != ".png" else path.with_name(path.stem + "-chart.png")
    write_chart(result, chart)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown_report(result, chart.name), encoding="utf-8")
    return chart
