"""Fit the answer model (`assistant/ask/model/ranker.json`) from the evaluation sets.

    python -m assistant.evaluation.fit [--corpus DIR] [--questions FILE ...] [--out FILE]

Only training questions are used: every question whose gold lies in a held-out letter of
`eval/split.toml` (and the unanswerable ones its hash holds out) is left out. Each training
question is asked as `replyqa ask --history` would ask it; its admissible candidates are
labelled by the design's citation rule (the sentence covers the gold quote), and a logistic
regression is fitted on them. The regularisation and the answer bar are chosen by 5-fold
cross-validation grouped by letter, on out-of-fold probabilities, by the product's own
ordering of harms: a wrong answer costs more than a refusal, a needless refusal costs a right
answer. Questions about the letter itself and lists have their own mechanisms and are not
fitted here. The figures the choice was made on go into the file's `meta`.

Needs scikit-learn (a development dependency); answering needs only the JSON it writes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from assistant.ask import pipeline
from assistant.ask.calibration import DEFAULT_MODEL, Calibration, ModelFileError
from assistant.ask.conversation import turn_of
from assistant.ask.evidence import admissible, examine_candidates
from assistant.evaluation.dataset import EvalQuestion, load_questions
from assistant.evaluation.metrics import citation_matches
from assistant.evaluation.split import DEFAULT_SPLIT, Split
from index.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
QUESTION_SETS = (
    ROOT / "eval" / "corpus.jsonl",
    ROOT / "eval" / "staff.jsonl",
    ROOT.parent / "shared" / "corpus" / "questions-independent.jsonl",
)
CORPUS = ROOT.parent / "shared" / "corpus" / "letters"
OWN_MECHANISM = frozenset({"letter_field", "multi_letter", "list"})
"""Question kinds answered by field lookup or by listing, not by the fitted ranker."""
C_VALUES = (0.05, 0.2, 1.0, 5.0)
WRONG_COST = 1.5
"""A wrong answer (or an answer to an unanswerable question) costs this many right answers."""


@dataclass
class Rows:
    """One question's admissible candidates: features, labels, and what the question is."""

    question: EvalQuestion
    features: np.ndarray
    labels: np.ndarray
    group: str


def question_rows(asking: pipeline.Asking, question: EvalQuestion) -> Rows:
    turns = []
    for earlier in question.history:
        turns.append(turn_of(pipeline.ask(asking, earlier, turns)))
    examined = pipeline.examine(asking, question.question, turns)
    found = examine_candidates(
        examined.question, examined.retrieval, asking.library.tokenizer,
        focus_letters=examined.rewrite.prefer_letters, focus_cited=examined.rewrite.prefer_cited,
    )
    keep = [i for i, (c, s) in enumerate(zip(found.candidates, found.signals, strict=True))
            if admissible(examined.question, c, s)]
    labels = np.array([
        any(citation_matches(found.candidates[i].letter_id, found.candidates[i].text, g) for g in question.gold)
        for i in keep
    ], dtype=bool)
    features = found.features[keep] if keep else np.zeros((0, found.features.shape[1]))
    group = question.gold[0].letter if question.gold else f"q:{question.id}"
    return Rows(question, features, labels, group)


def _fit(rows: Sequence[Rows], c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([r.features for r in rows if len(r.features)])
    y = np.concatenate([r.labels for r in rows if len(r.features)])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
    return mean, scale, model.coef_[0], float(model.intercept_[0])


def _outcomes(rows: Sequence[Rows], probabilities: Sequence[np.ndarray], threshold: float) -> dict[str, float]:
    right = wrong = refused = refused_right = 0
    answerable = sum(1 for r in rows if r.question.answerable)
    unanswerable = len(rows) - answerable
    for r, p in zip(rows, probabilities, strict=True):
        best = int(np.argmax(p)) if len(p) else -1
        answers = best >= 0 and p[best] >= threshold
        if not r.question.answerable:
            refused_right += not answers
            wrong += answers
        elif not answers:
            refused += 1
        elif r.labels[best]:
            right += 1
        else:
            wrong += 1
    return {
        "utility": (right + refused_right - WRONG_COST * wrong) / max(1, len(rows)),
        "citation_hit": right / max(1, answerable),
        "false_refusal": refused / max(1, answerable),
        "refusal_accuracy": refused_right / max(1, unanswerable),
    }


def cross_validate(rows: Sequence[Rows], folds: int = 5) -> tuple[float, float, dict[str, float]]:
    """The regularisation and the answer bar with the best out-of-fold utility."""
    from sklearn.model_selection import GroupKFold

    groups = np.array([r.group for r in rows])
    best: tuple[float, float, float, dict[str, float]] | None = None
    for c in C_VALUES:
        probabilities: list[np.ndarray] = [np.zeros(0)] * len(rows)
        for train, test in GroupKFold(folds).split(np.zeros(len(rows)), groups=groups):
            mean, scale, coef, intercept = _fit([rows[i] for i in train], c)
            model = Calibration(mean, scale, coef, intercept, 0.0)
            for i in test:
                probabilities[i] = model.probabilities(rows[i].features)
        thresholds = [float(t) for t in np.arange(0.05, 0.95, 0.025)]
        curve = [_outcomes(rows, probabilities, t) for t in thresholds]
        top = max(f["utility"] for f in curve)
        # The utility is flat near its best: take the middle of the thresholds within half a
        # question of it, not whichever one noise puts on top.
        near = [i for i, f in enumerate(curve) if f["utility"] >= top - 0.5 / len(rows)]
        middle = near[len(near) // 2]
        if best is None or top > best[2]:
            best = (c, thresholds[middle], top, curve[middle])
    assert best is not None
    return best[0], best[1], best[3]


def fit(asking: pipeline.Asking, questions: Sequence[EvalQuestion]) -> Calibration:
    rows = [question_rows(asking, q) for q in questions]
    c, threshold, figures = cross_validate(rows)
    mean, scale, coef, intercept = _fit(rows, c)
    meta = {
        "fitted": True, "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"), "C": c,
        "questions": len(rows), "answerable": sum(1 for r in rows if r.question.answerable),
        "candidates": int(sum(len(r.features) for r in rows)), "wrong_cost": WRONG_COST,
        "cross_validated": {k: round(v, 4) for k, v in figures.items()},
    }
    return Calibration(mean, scale, coef, intercept, threshold, meta=meta)


def training_questions(paths: Sequence[Path], split: Split) -> list[EvalQuestion]:
    out = []
    for path in paths:
        out.extend(q for q in split.select(load_questions(path), "train") if (q.kind or "") not in OWN_MECHANISM)
    return out


def _write(path: Path, calibration: Calibration) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(calibration.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.evaluation.runner import temporary_index

    parser = argparse.ArgumentParser(prog="python -m assistant.evaluation.fit", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--questions", type=Path, nargs="+", default=list(QUESTION_SETS))
    parser.add_argument("--split", type=Path, default=DEFAULT_SPLIT)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--rounds", type=int, default=2, help="refits, each answering history turns with the last fit")
    args = parser.parse_args(argv)
    questions = training_questions(args.questions, Split.load(args.split))
    try:
        calibration = Calibration.load(args.out)
    except ModelFileError:  # the first fit: answer history turns with hand-set weights
        calibration = Calibration.prior()
        _write(args.out, calibration)
    with temporary_index(Settings(), args.corpus, calibration=calibration) as qa:
        for n in range(max(1, args.rounds)):
            qa.asking = pipeline.Asking(qa.settings, qa.library, qa.embedder, calibration, None)
            calibration = fit(qa.asking, questions)
            figures = json.dumps(calibration.meta["cross_validated"], ensure_ascii=False)
            print(f"第 {n + 1} 轮：{figures}", file=sys.stderr)
    _write(args.out, calibration)
    print(f"已写入 {args.out}（{len(questions)} 个训练问题）", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
