"""The embedding of every sentence of a letter, kept with its record.

The answer model weighs each candidate sentence by how close it is in meaning to what the
question asks (measured by cross-validation grouped by letter: the sentence chosen was right
for 0.834 of the training questions with it, 0.798 without). Embedding a question's 10–40
candidates while it waits would cost a second or more here, so the index embeds each
sentence once, when the letter is ingested, and stores the vectors in the letter's payload
(float16, base64: ~1 KB a sentence), read with the letter when an answer reads it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np

PAYLOAD_KEY = "sentence_vectors"


@dataclass(frozen=True)
class SentenceVectors:
    """Unit vectors of a letter's sentences, by span."""

    spans: np.ndarray
    """(n, 2) start and end offsets, in text order."""
    vectors: np.ndarray
    """(n, dimension) float16 unit vectors, one per span."""

    def vector(self, start: int, end: int) -> np.ndarray | None:
        """The vector of the shortest stored span holding this one (the span itself when stored,
        else the unit a candidate was cut from), or None."""
        if not len(self.spans):
            return None
        holds = (self.spans[:, 0] <= start) & (end <= self.spans[:, 1])
        if not holds.any():
            return None
        lengths = np.where(holds, self.spans[:, 1] - self.spans[:, 0], np.iinfo(np.int64).max)
        return self.vectors[int(np.argmin(lengths))].astype(np.float32)

    def to_json(self) -> dict[str, Any]:
        return {
            "spans": self.spans.astype(np.int64).ravel().tolist(),
            "dimension": int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0,
            "float16": base64.b64encode(np.ascontiguousarray(self.vectors, dtype="<f2").tobytes()).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: Any) -> SentenceVectors | None:
        """None for anything that is not a well-formed entry (a letter ingested before sentences
        were embedded, or a damaged payload): the answer then does without."""
        try:
            spans = np.asarray(data["spans"], dtype=np.int64).reshape(-1, 2)
            dimension = int(data["dimension"])
            vectors = np.frombuffer(base64.b64decode(data["float16"]), dtype="<f2").reshape(len(spans), dimension)
        except (KeyError, TypeError, ValueError):
            return None
        return cls(spans, vectors)


def sentence_vectors(spans: list[tuple[int, int]], vectors: np.ndarray) -> SentenceVectors:
    return SentenceVectors(np.asarray(spans, dtype=np.int64).reshape(-1, 2), np.asarray(vectors, dtype=np.float16))
