"""命中测试: why an answer is what it is — the passages retrieval found, with their ranks, and
for each candidate sentence whether it was taken and, if not, why not.

An adapter over the answer engine's `Examination` (`ReplyQA.examine`): it reads only the fields
named as the engine's contract — `rewrite.query`, `question.kind`, `retrieval.passages`
(letter_id, start, end, text, score, dense_rank, bm25_rank), each `Evidence`'s `candidate`
(text, role, letter_id, start, end, passage_rank), `signals`, `score`, `admissible`, and
`fact`. The signals behind a refusal (`type_ok`, `year_conflict`, `missing_in_letter`) are read
with defaults, so an engine that renames one shows a plainer reason rather than breaking the
panel. Which sentences were taken comes from the answer itself (its citations' spans), not
from re-deciding here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.ask.answer import Answer
from assistant.ask.citation import section_words
from assistant.web.render import esc

ROLE_ZH = {
    "restatement": "复述建议内容的句子", "courtesy": "客套话或联系方式", "title": "标题", "addressee": "称呼",
    "heading": "小标题", "field": "字段行", "signature": "落款", "date": "日期行",
}
KIND_ZH = {
    "list": "列举（哪些答复）", "next_steps": "下一步安排", "money": "金额", "number": "数量", "date": "时间",
    "who": "由谁负责", "where": "地点", "why": "原因", "status": "进展情况", "general": "一般问题",
}
TYPE_ZH = {"money": "金额", "number": "数量", "date": "日期"}
SHOWN = 40
"""Candidate sentences listed (best first); the rest are counted."""


@dataclass(frozen=True)
class Row:
    """One candidate sentence as the panel shows it."""

    text: str
    letter: str
    passage_rank: int
    score: float
    taken: bool
    reason: str


def _overlaps(e: Any, answer: Answer) -> int | None:
    """The citation number that quotes (part of) this sentence."""
    for c in answer.citations:
        if c.letter == e.candidate.letter_id and c.start < e.candidate.end and e.candidate.start < c.end:
            return c.n
    return None


def reason_for(e: Any, kind: str, threshold: float | None) -> str:
    """Why an untaken sentence was not the answer, in the order the engine checks."""
    role = e.candidate.role
    if role != "content":
        return f"是{ROLE_ZH.get(role, '非正文内容')}，不作为答案"
    signals = e.signals
    if kind in TYPE_ZH and not getattr(signals, "type_ok", True):
        return f"不含所问的{TYPE_ZH[kind]}"
    if getattr(signals, "year_conflict", False):
        return "说的是另一年份"
    missing = tuple(getattr(signals, "missing_in_letter", ()) or ())
    if missing:
        return f"所在答复没有提到：{'、'.join(missing)}"
    if not e.admissible:
        return "不符合作答条件"
    if threshold is not None and e.score < threshold:
        return f"得分 {e.score:.2f}，低于作答线 {threshold:.2f}"
    return "得分不及被采用的句子"


def rows_of(evidence: Sequence[Any], answer: Answer, kind: str, threshold: float | None) -> list[Row]:
    rows = []
    for e in evidence:
        n = _overlaps(e, answer)
        rows.append(Row(
            text=e.candidate.text, letter=e.candidate.letter_id, passage_rank=int(e.candidate.passage_rank),
            score=float(e.score), taken=n is not None,
            reason=f"采用，即答案中的引用 [{n}]" if n is not None else reason_for(e, kind, threshold),
        ))
    return rows


def _clip(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _rank(value: int | None) -> str:
    return "—" if value is None else str(value)


def passages_html(examined: Any, title_of: Any) -> str:
    rows = []
    for i, p in enumerate(examined.retrieval.passages, start=1):
        path = list(getattr(p, "section_path", []) or [])
        where = section_words("/".join(path)) if path else "正文"
        rows.append(
            f'<tr><td data-label="名次">{i}</td><td data-label="答复">《{esc(title_of(p.letter_id))}》</td>'
            f'<td data-label="部分">{esc(where)}</td><td data-label="融合得分">{p.score:.4f}</td>'
            f'<td data-label="向量名次">{_rank(p.dense_rank)}</td><td data-label="关键词名次">{_rank(p.bm25_rank)}</td>'
            f'<td class="rq-h-text" data-label="片段">{esc(_clip(p.text))}</td></tr>'
        )
    if not rows:
        return '<p class="rq-notfound">没有检索到段落（检索范围内没有答复，或索引为空）。</p>'
    return ('<table class="rq-letters rq-hits"><thead><tr><th>名次</th><th>答复</th><th>部分</th><th>融合得分</th>'
            f'<th>向量名次</th><th>关键词名次</th><th>片段</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def candidates_html(rows: Sequence[Row], title_of: Any) -> str:
    if not rows:
        return '<p class="rq-notfound">没有候选句子。</p>'
    body = "".join(
        f'<tr class="{"rq-h-taken" if r.taken else "rq-h-refused"}">'
        f'<td data-label="结果">{"采用" if r.taken else "未采用"}</td>'
        f'<td class="rq-h-text" data-label="句子">{esc(r.text)}</td>'
        f'<td data-label="答复">《{esc(title_of(r.letter))}》</td>'
        f'<td data-label="段落名次">{r.passage_rank}</td><td data-label="得分">{r.score:.3f}</td>'
        f'<td data-label="原因">{esc(r.reason)}</td></tr>'
        for r in rows[:SHOWN]
    )
    more = f'<p class="rq-list-count">另有 {len(rows) - SHOWN} 个候选句子未列出。</p>' if len(rows) > SHOWN else ""
    return ('<table class="rq-letters rq-hits"><thead><tr><th>结果</th><th>句子</th><th>答复</th><th>段落名次</th>'
            f'<th>得分</th><th>原因</th></tr></thead><tbody>{body}</tbody></table>{more}')


def examination_html(examined: Any, answer: Answer, threshold: float | None, title_of: Any, scope: str = "") -> str:
    """The whole panel for one question."""
    kind = str(getattr(examined.question, "kind", "general"))
    query = examined.rewrite.query
    head = [f"<dt>检索语句</dt><dd>{esc(query)}</dd>", f"<dt>问题类型</dt><dd>{esc(KIND_ZH.get(kind, kind))}</dd>",
            f"<dt>检索范围</dt><dd>{esc(scope or '全部答复')}</dd>",
            f"<dt>结果</dt><dd>{'已作答' if answer.found else '未找到'}</dd>"]
    if threshold is not None:
        head.append(f"<dt>作答线</dt><dd>{threshold:.2f}（最好的候选句子得分达到它才作答）</dd>")
    parts = [f'<div class="rq-hittest"><dl class="rq-fields">{"".join(head)}</dl>',
             f'<h4>检索到的段落（{len(examined.retrieval.passages)} 段，按融合名次）</h4>',
             passages_html(examined, title_of)]
    if examined.fact is not None:
        _, text, _ = examined.fact
        parts.append("<h4>按答复自身的字段作答</h4>"
                     f'<p>这是关于答复本身的问题（如答复单位、日期、文号），答案取自答复的字段行：{esc(text)}</p>')
    else:
        rows = rows_of(examined.evidence, answer, kind, threshold)
        taken = sum(r.taken for r in rows)
        parts.append(f"<h4>候选句子（{len(rows)} 句，采用 {taken} 句；可作答的在前，按得分排列）</h4>")
        parts.append(candidates_html(rows, title_of))
    parts.append("</div>")
    return "".join(parts)
