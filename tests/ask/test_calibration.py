"""The fitted answer model: its file, and what its numbers do."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.ask.calibration import DEFAULT_MODEL, Calibration, ModelFileError
from assistant.ask.features import FEATURES


def test_the_shipped_model_was_fitted_on_held_in_questions_only() -> None:
    calibration = Calibration.load()
    assert calibration.meta.get("fitted") is True
    assert 0.0 < calibration.threshold < 1.0
    assert len(calibration.coef) == len(FEATURES)
    figures = calibration.meta["cross_validated"]
    assert {"citation_hit", "false_refusal", "refusal_accuracy"} <= set(figures)


def test_a_model_fitted_for_other_features_is_refused(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    stale = tmp_path / "ranker.json"
    stale.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelFileError, match="other features"):
        Calibration.load(stale)


def test_more_coverage_means_a_higher_probability_under_the_prior() -> None:
    prior = Calibration.prior()
    low, high = np.zeros((1, len(FEATURES))), np.zeros((1, len(FEATURES)))
    high[0, FEATURES.index("coverage")] = 1.0
    assert prior.probabilities(high)[0] > prior.probabilities(low)[0]
    assert prior.probabilities(np.zeros((0, len(FEATURES)))).shape == (0,)
