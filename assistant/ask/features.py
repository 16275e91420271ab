"""The numbers the ranker sees for each candidate sentence.

Each candidate is described by how much of the question it covers (rarity-weighted words with
sub-words counted in part, and character bigrams, which survive any segmentation and either
script), how that compares with the other candidates of the same question (the gap to the best
and the rank: what matters is being the best of this question's candidates, not an absolute
level), whether it holds the asked type of answer and the asked thing, where it stands (passage
rank, dense and BM25 ranks, its role and section), and what the conversation holds (the letter
and section in focus). `FEATURES` names them in order; the fitted weights in
`model/ranker.json` are keyed by these names, so adding one means refitting.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.ask.candidates import Candidate, top_section
from assistant.ask.question import Question
from assistant.ask.signals import Scorer
from index.tokenizer import ChineseTokenizer

KINDS_WITH_TYPE = ("next_steps", "money", "number", "date", "who", "where", "why", "status")
FEATURES: tuple[str, ...] = (
    "coverage", "asked_coverage", "bigram_question", "bigram_asked",
    "coverage_gap", "coverage_rank", "asked_gap", "asked_rank", "bigram_gap", "bigram_rank",
    "letter_coverage", "letter_gap", "letter_asked_coverage",
    "type_ok", "focus_ok", "missing_in_sentence", "missing_in_letter", "strong_cue", "plan_cue", "now_cue",
    "passage_rank", "dense_rank", "bm25_rank", "outside", "log_length", "place_missing",
    "similarity", "similarity_gap", "restates_suggestion",
    "focus_ok_typed",
    "role_restatement", "role_courtesy", "role_other",
    "section_preamble", "section_numbered", "section_closing",
    "focus_letter", "focus_section", "cited_before", "top_letter",
    *(f"type_ok_{kind}" for kind in KINDS_WITH_TYPE),
)

_STRONG: dict[str, re.Pattern[str]] = {
    "why": re.compile(r"由于|因为|原因|因此|所以|导致|受.{1,12}(?:影响|限制|制约)"),
    "date": re.compile(r"(?:19|20)\d{2}\s*年|\d{1,2}\s*月|年底|月底|上半年|下半年|十[一二三四五]五"),
    "who": re.compile(r"由.{1,20}负责|牵头|组长|负责人|会同|指定"),
    "where": re.compile(r"位于|选址|地处|在.{2,20}(?:处|内|旁|附近)"),
    "status": re.compile(r"目前|已经|已|正在|尚未|同意|不宜|暂不|纳入|列入"),
    "next_steps": re.compile(r"下一步|下步|今后|接下来|将|计划|拟|力争|争取"),
}
_NEXT_PARA = re.compile(r"^(?:下一步|下步|今后|接下来|后续|同时|此外)")
_PLAN_NEAR = re.compile(r"下一步|下步|今后")
_NOW_ASKED = re.compile(r"现在|目前|现状|进展|到哪一步|什么程度")
_NOW_SAID = re.compile(r"目前|现已|已经|已")
_CJK_PAIR = re.compile(r"[\u4e00-\u9fff]{2}")
_RESTATES = re.compile(
    r"(?:针对|对于|关于|对)?(?:您|你)们?(?:所|在)?.{0,30}?(?:提出|提|反映)的.{0,60}?(?:建议|提案|问题|意见)"
)
"""A sentence saying the suggestion back (针对您所提建议即：…, 您提出的…建议): often where an answer
starts, but just as often only the question restated."""


@dataclass(frozen=True)
class Signals:
    """The hard facts about one candidate (also kept on its `Evidence`)."""

    coverage: float
    asked_coverage: float
    type_ok: bool
    focus_ok: bool
    year_conflict: bool
    missing_in_sentence: tuple[str, ...]
    """Rare places or names of the asked part that neither the sentence nor its letter's identity holds."""
    missing_in_letter: tuple[str, ...]
    """Places or names of the asked part that its letter never mentions."""
    letter_coverage: float
    """Share of the question's words its letter holds anywhere (identity or text)."""
    letter_asked_coverage: float
    """Share of the asked part's words its letter holds anywhere."""
    place_missing_in_sentence: bool
    """A place the question names with its suffix (青岛市) that neither the sentence, its
    section nor its letter's identity names: the sentence's figure is not that place's."""
    place_missing_in_letter: bool
    """Such a place that the letter never mentions at all."""


def bigrams(text: str, tokenizer: ChineseTokenizer) -> set[str]:
    compact = tokenizer.compact(text)
    return {compact[i:i + 2] for i in range(len(compact) - 1) if _CJK_PAIR.fullmatch(compact[i:i + 2])}


def _relative(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gap to the question's best candidate, and 1 / rank among its candidates."""
    if not len(values):
        return values, values
    gap = values - values.max()
    rank = np.array([1.0 / (1 + int((values > v).sum())) for v in values])
    return gap, rank


def signals_of(candidate: Candidate, scorer: Scorer, searchable: str) -> Signals:
    letter = scorer.retrieval.snapshot.letter(candidate.letter_id)
    letter_identity = scorer.identity(letter)
    top = top_section(letter, candidate.start)
    section = scorer.norm(letter.text[top.start:top.end]) if top is not None else ""
    hay = scorer.norm(candidate.text)
    heading = scorer.norm(candidate.heading)
    before = scorer.norm(candidate.paragraph[max(0, len(candidate.paragraph) - len(candidate.text) - 80):
                                             len(candidate.paragraph) - len(candidate.text)])
    simple = scorer.tokenizer.normalize(candidate.text)
    question = scorer.question
    return Signals(
        coverage=scorer.coverage(scorer.weights, hay + "|" + heading + "|" + letter_identity + "|" + before),
        asked_coverage=scorer.coverage(scorer.asked_weights, hay + "|" + heading),
        type_ok=scorer.type_ok(simple, hay, scorer.tokenizer.normalize(candidate.paragraph[:8])),
        focus_ok=scorer.focus_ok(simple, hay),
        year_conflict=not scorer.years_ok(simple, candidate.paragraph + "|" + heading),
        missing_in_sentence=tuple(
            w for w in (*scorer.specific, *question.required)
            if w not in hay and w not in letter_identity and w not in heading
        ),
        missing_in_letter=tuple(w for w in scorer.places if w not in searchable),
        letter_coverage=scorer.coverage(scorer.weights, searchable),
        letter_asked_coverage=scorer.coverage(scorer.asked_weights, searchable),
        place_missing_in_sentence=any(
            w not in hay and w not in heading and w not in letter_identity and w not in before and w not in section
            for w in scorer.administrative
        ),
        place_missing_in_letter=any(w not in searchable for w in scorer.administrative),
    )


def feature_matrix(
    question: Question,
    candidates: Sequence[Candidate],
    signals: Sequence[Signals],
    tokenizer: ChineseTokenizer,
    *,
    focus_letters: tuple[str, ...] = (),
    focus_sections: frozenset[tuple[str, int]] = frozenset(),
    cited: frozenset[tuple[str, int]] = frozenset(),
) -> np.ndarray:
    """One row per candidate, one column per name in `FEATURES`."""
    q_grams = bigrams(question.text, tokenizer)
    a_grams = bigrams("".join(question.asked), tokenizer)
    grams = [bigrams(c.text, tokenizer) for c in candidates]
    big_q = np.array([len(q_grams & g) / max(1, len(q_grams)) for g in grams])
    big_a = np.array([len(a_grams & g) / max(1, len(a_grams)) for g in grams])
    cov = np.array([s.coverage for s in signals])
    letter_cov = np.array([s.letter_coverage for s in signals])
    letter_gap = letter_cov - letter_cov.max() if len(letter_cov) else letter_cov
    acov = np.array([s.asked_coverage for s in signals])
    top_letter = candidates[0].passage.letter_id if candidates else ""
    best_similarity = max((c.passage.similarity for c in candidates), default=0.0)
    strong = _STRONG.get(question.kind)
    now = bool(_NOW_ASKED.search(question.text))
    rows = []
    for i, (c, s) in enumerate(zip(candidates, signals, strict=True)):
        simple = tokenizer.normalize(c.text)
        plan = bool(_NEXT_PARA.search(tokenizer.normalize(c.paragraph[:8])) or _PLAN_NEAR.search(simple))
        row = {
            "coverage": s.coverage, "asked_coverage": s.asked_coverage,
            "letter_coverage": s.letter_coverage, "letter_gap": letter_gap[i],
            "letter_asked_coverage": s.letter_asked_coverage,
            "bigram_question": big_q[i], "bigram_asked": big_a[i],
            "type_ok": float(s.type_ok), "focus_ok": float(s.focus_ok),
            "missing_in_sentence": float(min(len(s.missing_in_sentence), 3)),
            "missing_in_letter": float(min(len(s.missing_in_letter), 3)),
            "place_missing": float(s.place_missing_in_sentence),
            "focus_ok_typed": float(s.focus_ok and question.kind in ("money", "number", "date")),
            "strong_cue": float(bool(strong and strong.search(simple))),
            "plan_cue": float(plan and question.kind == "next_steps"),
            "now_cue": float(now and bool(_NOW_SAID.search(simple))),
            "passage_rank": 1.0 / c.passage_rank,
            "dense_rank": 1.0 / c.passage.dense_rank if c.passage.dense_rank else 0.0,
            "bm25_rank": 1.0 / c.passage.bm25_rank if c.passage.bm25_rank else 0.0,
            "outside": float(c.outside), "log_length": math.log1p(len(c.text)),
            "similarity": c.passage.similarity, "similarity_gap": c.passage.similarity - best_similarity,
            "restates_suggestion": float(bool(_RESTATES.search(simple))),
            "role_restatement": float(c.role == "restatement"), "role_courtesy": float(c.role == "courtesy"),
            "role_other": float(c.role not in ("content", "restatement", "courtesy")),
            "section_preamble": float(c.section_kind == "preamble"),
            "section_numbered": float(c.section_kind == "numbered"),
            "section_closing": float(c.section_kind == "closing"),
            "focus_letter": float(c.letter_id in focus_letters),
            "focus_section": float(c.top_start is not None and (c.letter_id, c.top_start) in focus_sections),
            "cited_before": float((c.letter_id, c.start) in cited),
            "top_letter": float(c.letter_id == top_letter),
        }
        for kind in KINDS_WITH_TYPE:
            row[f"type_ok_{kind}"] = float(s.type_ok and question.kind == kind)
        rows.append(row)
    gaps = {name: _relative(values) for name, values in (("coverage", cov), ("asked", acov), ("bigram", big_q))}
    matrix = np.zeros((len(candidates), len(FEATURES)), dtype=np.float64)
    for i, row in enumerate(rows):
        for name, (gap, rank) in gaps.items():
            row[f"{name}_gap"], row[f"{name}_rank"] = gap[i], rank[i]
        matrix[i] = [row[name] for name in FEATURES]
    return matrix
