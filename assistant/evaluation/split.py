"""The held-out split (`eval/split.toml`): whole letters, with every question whose gold lies in
one of them, that nothing is tuned on.

A question is held out when any of its gold letters is (a list question that reaches into the
held-out letters is held out whole); a question with no gold (unanswerable) is held out by a
hash of its id, so the split never depends on how the system answers it.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assistant.evaluation.dataset import EvalInputError, EvalQuestion

Side = Literal["train", "test"]
DEFAULT_SPLIT = Path(__file__).resolve().parents[2] / "eval" / "split.toml"


@dataclass(frozen=True)
class Split:
    seed: str
    test_letters: frozenset[str]

    @classmethod
    def load(cls, path: Path = DEFAULT_SPLIT) -> Split:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            return cls(str(data["seed"]), frozenset(str(x) for x in data["test_letters"]))
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
            raise EvalInputError(f"{path}：无法读取留出集划分（{exc}）") from exc

    def side(self, question: EvalQuestion) -> Side:
        letters = {g.letter for g in question.gold}
        if letters:
            return "test" if letters & self.test_letters else "train"
        digest = int(hashlib.sha1(f"{self.seed}:{question.id}".encode()).hexdigest(), 16)
        return "test" if digest % 10 < 3 else "train"

    def select(self, questions: list[EvalQuestion], side: Side) -> list[EvalQuestion]:
        return [q for q in questions if self.side(q) == side]
