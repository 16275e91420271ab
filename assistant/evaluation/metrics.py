"""Evaluation metrics, as `docs/design.md` ("Evaluation set format") defines them.

Pure functions over plain values (no model, no index), so that every number the runner reports
can be checked by hand in a unit test. The design leaves a few details open; they are fixed here
and the runner's report repeats them:

- **Normalisation.** Both sides are compared after `unicodedata.normalize("NFKC", s)` with every
  whitespace character removed (`str.isspace`, which includes the ideographic space U+3000).
- **Retrieval match.** A retrieved item matches a gold item when it is from the gold letter and its
  text contains the gold quote. hit@k is 1 when any of the top k items matches any gold item; MRR@10
  is 1/rank of the first matching item within the top 10, 0 when there is none. Retrieval is scored
  whether or not the answer refused: retrieval happened either way.
- **Citation match.** A citation matches a gold item when it is from the gold letter, its quote is
  at most `MAX_CITATION_CHARS` (300) characters after normalisation — a longer quote never matches,
  since citing a whole section is not pointing at the answer — and its quote either contains the gold
  quote or *covers at least half of it*: the longest common substring of the two is at least half
  the gold quote's length (`2 * lcs >= len(gold)`). A contiguous run is required, not scattered
  characters, so that sharing common words (`建设`, `2023年`) cannot add up to a match.
- **Citation hit** (per answerable question with gold): 1 when some citation matches some gold
  item. A refused answer has no citations, so a refusal counts as a miss.
- **Citation precision** (per question): matching citations / all citations. Undefined when the
  answer has no citations; aggregated as the mean over the *answered* answerable questions that have
  gold and at least one citation. Refusals are left out (they are counted by citation hit and the
  false-refusal rate), and answered unanswerable questions are left out (counted by refusal
  accuracy).
- **Fact recall** (per question with facts): share of the facts contained in the answer text. A
  refused answer scores 0: its text is a "not found" notice (with leads), not an answer, even if a
  lead's title happens to contain a fact. Questions without facts are left out.
- **Refusal accuracy**: share of unanswerable questions answered with `found == false`.
  **False-refusal rate**: share of answerable questions answered with `found == false`.
- **Latency**: p50 / p95 over all questions, by linear interpolation between order statistics
  (numpy's default percentile method).
- **Aggregation** is macro: every per-question value is averaged with equal weight. An aggregate
  with no question to average over is `None` (shown as "—"), never 0.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

MAX_CITATION_CHARS = 300
MRR_DEPTH = 10
HIT_KS = (1, 3, 5)

RATE_METRICS: tuple[str, ...] = (
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr@10",
    "citation_hit",
    "citation_precision",
    "fact_recall",
    "refusal_accuracy",
    "false_refusal_rate",
)
"""Metrics that are shares or means in [0, 1]."""
LATENCY_METRICS: tuple[str, ...] = ("latency_p50_ms", "latency_p95_ms")
METRICS: tuple[str, ...] = RATE_METRICS + LATENCY_METRICS
"""Every aggregate metric, in report order; these are the names `--min` / `--max` accept."""
LOWER_IS_BETTER: frozenset[str] = frozenset({"false_refusal_rate", *LATENCY_METRICS})

METRIC_LABELS_ZH: dict[str, str] = {
    "hit@1": "检索 hit@1",
    "hit@3": "检索 hit@3",
    "hit@5": "检索 hit@5",
    "mrr@10": "检索 MRR@10",
    "citation_hit": "引用命中率",
    "citation_precision": "引用精确率",
    "fact_recall": "事实召回率",
    "refusal_accuracy": "拒答正确率",
    "false_refusal_rate": "误拒率",
    "latency_p50_ms": "延迟 p50（毫秒）",
    "latency_p95_ms": "延迟 p95（毫秒）",
}
METRIC_LABELS_EN: dict[str, str] = {
    "hit@1": "hit@1",
    "hit@3": "hit@3",
    "hit@5": "hit@5",
    "mrr@10": "MRR@10",
    "citation_hit": "citation hit",
    "citation_precision": "citation precision",
    "fact_recall": "fact recall",
    "refusal_accuracy": "refusal accuracy",
    "false_refusal_rate": "false refusal rate",
    "latency_p50_ms": "latency p50 (ms)",
    "latency_p95_ms": "latency p95 (ms)",
}


# --------------------------------------------------------------------------- matching


def normalize(text: str) -> str:
    """NFKC, then every whitespace character removed: full-width digits, commas and the
    ideographic space of one source must not make a quote miss in another."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if not ch.isspace())


@dataclass(frozen=True)
class Gold:
    """One gold item of an evaluation line: a letter and a short verbatim quote of it."""

    letter: str
    quote: str


def longest_common_substring(a: str, b: str) -> int:
    """Length of the longest contiguous run shared by `a` and `b` (dynamic programming,
    O(len(a)·len(b)); quotes here are at most a few hundred characters)."""
    if not a or not b:
        return 0
    best = 0
    previous = [0] * (len(b) + 1)
    for ch in a:
        current = [0] * (len(b) + 1)
        for j, other in enumerate(b, start=1):
            if ch == other:
                current[j] = previous[j - 1] + 1
                if current[j] > best:
                    best = current[j]
        previous = current
    return best


def covers_half(quote: str, gold_quote: str) -> bool:
    """True when the longest common substring of the (normalised) quotes is at least half the
    gold quote's length. Both arguments are normalised here."""
    q, g = normalize(quote), normalize(gold_quote)
    if not g:
        return False
    return 2 * longest_common_substring(q, g) >= len(g)


def item_matches(letter: str, text: str, gold: Gold) -> bool:
    """A retrieved item matches a gold item: same letter and it contains the whole quote."""
    g = normalize(gold.quote)
    return bool(g) and letter == gold.letter and g in normalize(text)


def citation_matches(letter: str, quote: str, gold: Gold) -> bool:
    """A citation matches a gold item: same letter, quote of at most 300 characters, and the
    quote contains the gold quote or covers at least half of it."""
    if letter != gold.letter:
        return False
    q, g = normalize(quote), normalize(gold.quote)
    if not g or len(q) > MAX_CITATION_CHARS:
        return False
    return g in q or 2 * longest_common_substring(q, g) >= len(g)


# --------------------------------------------------------------------------- per question


def first_match_rank(retrieved: Sequence[tuple[str, str]], gold: Sequence[Gold], depth: int = MRR_DEPTH) -> int | None:
    """1-based rank of the first retrieved (letter, text) matching any gold item, within `depth`."""
    for rank, (letter, text) in enumerate(retrieved[:depth], start=1):
        if any(item_matches(letter, text, g) for g in gold):
            return rank
    return None


def hit_at(rank: int | None, k: int) -> float:
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None, depth: int = MRR_DEPTH) -> float:
    return 1.0 / rank if rank is not None and rank <= depth else 0.0


def citation_hit(citations: Sequence[tuple[str, str]], gold: Sequence[Gold]) -> float:
    """1 when some (letter, quote) citation matches some gold item."""
    return 1.0 if any(citation_matches(c, q, g) for c, q in citations for g in gold) else 0.0


def citation_precision(citations: Sequence[tuple[str, str]], gold: Sequence[Gold]) -> float | None:
    """Share of the citations that match a gold item; None when there are no citations."""
    if not citations:
        return None
    good = sum(1 for c, q in citations if any(citation_matches(c, q, g) for g in gold))
    return good / len(citations)


def fact_recall(text: str, facts: Sequence[str]) -> float | None:
    """Share of the facts contained in the answer text; None when there are no facts."""
    if not facts:
        return None
    hay = normalize(text)
    return sum(1 for f in facts if normalize(f) in hay) / len(facts)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0–100) by linear interpolation between order statistics; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class QuestionScores:
    """The metrics of one question. `None` means "not applicable to this question" (an
    unanswerable question has no hit@k, a question without facts no fact recall)."""

    answerable: bool
    found: bool
    latency_ms: float
    rank: int | None = None
    hit_1: float | None = None
    hit_3: float | None = None
    hit_5: float | None = None
    rr_10: float | None = None
    citation_hit: float | None = None
    citation_precision: float | None = None
    fact_recall: float | None = None
    missing_facts: tuple[str, ...] = ()
    refusal_correct: float | None = None
    """Unanswerable questions only: 1 when found is false."""
    false_refusal: float | None = None
    """Answerable questions only: 1 when found is false."""
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["missing_facts"] = list(self.missing_facts)
        return out


def score_question(
    *,
    answerable: bool,
    gold: Sequence[Gold],
    facts: Sequence[str],
    found: bool,
    text: str,
    citations: Sequence[tuple[str, str]],
    retrieved: Sequence[tuple[str, str]],
    latency_ms: float,
) -> QuestionScores:
    """All per-question metrics. `citations` are (letter, quote) pairs, `retrieved` (letter, text)
    pairs in rank order."""
    scores = QuestionScores(answerable=answerable, found=found, latency_ms=latency_ms)
    if not answerable:
        scores.refusal_correct = 0.0 if found else 1.0
        return scores
    scores.false_refusal = 0.0 if found else 1.0
    if gold:
        scores.rank = first_match_rank(retrieved, gold)
        scores.hit_1, scores.hit_3, scores.hit_5 = (hit_at(scores.rank, k) for k in HIT_KS)
        scores.rr_10 = reciprocal_rank(scores.rank)
        scores.citation_hit = citation_hit(citations, gold) if found else 0.0
        scores.citation_precision = citation_precision(citations, gold) if found else None
    if facts:
        hay = normalize(text) if found else ""
        scores.missing_facts = tuple(f for f in facts if normalize(f) not in hay)
        scores.fact_recall = (len(facts) - len(scores.missing_facts)) / len(facts)
    return scores


def error_scores(
    *, answerable: bool, gold: Sequence[Gold], facts: Sequence[str], latency_ms: float, error: str
) -> QuestionScores:
    """Scores of a question whose answering raised: every applicable metric is a miss, so that a
    crash never passes for a correct refusal."""
    scores = QuestionScores(answerable=answerable, found=False, latency_ms=latency_ms, error=error)
    if not answerable:
        scores.refusal_correct = 0.0
        return scores
    scores.false_refusal = 1.0
    if gold:
        scores.hit_1 = scores.hit_3 = scores.hit_5 = scores.rr_10 = scores.citation_hit = 0.0
    if facts:
        scores.fact_recall = 0.0
        scores.missing_facts = tuple(facts)
    return scores


# --------------------------------------------------------------------------- aggregates


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def aggregate(scores: Sequence[QuestionScores]) -> dict[str, float | int | None]:
    """The design's metrics over a set of questions (macro averages; None when undefined),
    plus the counts they were computed over."""
    answerable = [s for s in scores if s.answerable]
    out: dict[str, float | int | None] = {
        "hit@1": _mean(s.hit_1 for s in answerable),
        "hit@3": _mean(s.hit_3 for s in answerable),
        "hit@5": _mean(s.hit_5 for s in answerable),
        "mrr@10": _mean(s.rr_10 for s in answerable),
        "citation_hit": _mean(s.citation_hit for s in answerable),
        "citation_precision": _mean(s.citation_precision for s in answerable if s.found),
        "fact_recall": _mean(s.fact_recall for s in answerable),
        "refusal_accuracy": _mean(s.refusal_correct for s in scores if not s.answerable),
        "false_refusal_rate": _mean(s.false_refusal for s in answerable),
        "latency_p50_ms": percentile([s.latency_ms for s in scores], 50),
        "latency_p95_ms": percentile([s.latency_ms for s in scores], 95),
        "questions": len(scores),
        "answerable": len(answerable),
        "unanswerable": len(scores) - len(answerable),
        "errors": sum(1 for s in scores if s.error),
    }
    return out
