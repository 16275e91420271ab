"""The fitted answer model: weights that turn a candidate's features into the probability that
it answers the question, and the bar that probability must clear to be given as an answer.

The weights are a logistic regression fitted on the training letters' questions (never on the
held-out split), the bar chosen by cross-validation grouped by letter so that refusing the
unanswerable costs as few answerable questions as possible. Both live in `model/ranker.json`,
rebuilt by `python -m assistant.evaluation.fit`; a file whose feature names differ from
`features.FEATURES` is refused (the code and the weights would disagree about the columns).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.ask.features import FEATURES

DEFAULT_MODEL = Path(__file__).with_name("model") / "ranker.json"
REFIT = "rebuild it with: python -m assistant.evaluation.fit"


class ModelFileError(RuntimeError):
    """The model file is missing or was fitted for other features (developer-facing)."""


@dataclass(frozen=True)
class Calibration:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    """Least probability of the best admissible candidate for an answer to be given."""
    list_min_coverage: float = 0.6
    """A letter is listed for 哪些答复提到了… when its best sentence covers this much of a topic."""
    max_list: int = 6
    meta: dict[str, Any] = field(default_factory=dict)
    """How and on what the weights were fitted (the fit script's record)."""

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL) -> Calibration:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"answer model {path} is unreadable ({exc}); {REFIT}") from exc
        if tuple(data.get("features", ())) != FEATURES:
            raise ModelFileError(f"answer model {path} was fitted for other features; {REFIT}")
        return cls(
            mean=np.asarray(data["mean"], dtype=np.float64), scale=np.asarray(data["scale"], dtype=np.float64),
            coef=np.asarray(data["coef"], dtype=np.float64), intercept=float(data["intercept"]),
            threshold=float(data["threshold"]), list_min_coverage=float(data.get("list_min_coverage", 0.6)),
            max_list=int(data.get("max_list", 6)), meta=dict(data.get("meta", {})),
        )

    @classmethod
    def prior(cls) -> Calibration:
        """Hand-set weights (coverage first, then rank and answer type) for the very first fit,
        which needs some answer to earlier turns of a conversation before any weights exist."""
        weights = {"coverage": 3.0, "asked_coverage": 2.0, "bigram_asked": 1.0, "passage_rank": 1.0, "type_ok": 1.0,
                   "focus_ok": 0.5, "role_restatement": -2.0, "role_courtesy": -2.0, "focus_letter": 1.0}
        n = len(FEATURES)
        coef = np.array([weights.get(name, 0.0) for name in FEATURES])
        return cls(mean=np.zeros(n), scale=np.ones(n), coef=coef, intercept=-3.0, threshold=0.3,
                   meta={"fitted": False})

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.zeros(0)
        z = ((features - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
            "coef": self.coef.tolist(), "intercept": self.intercept, "threshold": self.threshold,
            "list_min_coverage": self.list_min_coverage, "max_list": self.max_list, "meta": self.meta,
        }
