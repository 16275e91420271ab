"""Choosing the answer bar by grouped cross-validation, on rows we make up here."""

from __future__ import annotations

import numpy as np

from assistant.evaluation.dataset import EvalQuestion
from assistant.evaluation.fit import Rows, cross_validate
from assistant.evaluation.metrics import Gold


def _rows(n: int, seed: int = 0) -> list[Rows]:
    """Answerable questions whose right candidate has a high first feature; unanswerable ones
    whose candidates are all low."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        answerable = i % 4 != 0
        features = rng.normal(0.0, 0.3, size=(5, 3))
        labels = np.zeros(5, dtype=bool)
        if answerable:
            features[2, 0] += 2.0
            labels[2] = True
        gold = (Gold(f"L{i % 10}", "引文"),) if answerable else ()
        q = EvalQuestion(id=f"q{i}", question="问", history=(), answerable=answerable, gold=gold, facts=(),
                         kind=None, line=i)
        rows.append(Rows(q, features, labels, gold[0].letter if gold else f"q:{i}"))
    return rows


def test_a_separable_problem_is_answered_right_and_refused_right_out_of_fold() -> None:
    c, threshold, figures = cross_validate(_rows(80))
    assert figures["citation_hit"] > 0.9
    assert figures["refusal_accuracy"] > 0.9
    assert 0.0 < threshold < 1.0 and c > 0
