"""Earlier turns of a conversation remembered, so that a stateless caller does not make every
question cost all the questions before it.

The page's public `/ask` and `replyqa ask --history` carry only the earlier questions; to know
the topic and the letters in focus, `pipeline.ask_with_history` answers them again. A
five-question conversation then answers 1 + 2 + 3 + 4 + 5 questions, and a question's cost
grows with the conversation: measured through the page under 20 users, three answers (and
3.2 question embeddings) for every question asked. What an earlier question leaves for the
next one (`Turn`) is the same whenever the index version, the user's scope and the questions
before it are the same, so it is kept under that key: a new index version (an ingest, a
correction) is a new key, and its turns are answered afresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from assistant.ask.conversation import Turn
from assistant.ask.retrieve import Filters

TURNS_KEPT = 4096
"""About 30 bytes of key text and a few ids a turn: well under a megabyte."""

TurnKey = tuple[str, Filters | None, tuple[str, ...]]


def turn_key(version: str, filters: Filters | None, questions: Sequence[str]) -> TurnKey:
    """The last of `questions` as asked after the others, under `filters`, in index `version`."""
    return (version, filters if filters is not None and not filters.empty else None, tuple(questions))


class TurnMemo:
    """A thread-safe least-recently-used map from `turn_key` to the turn it gave."""

    def __init__(self, size: int = TURNS_KEPT) -> None:
        self.size = size
        self._turns: OrderedDict[TurnKey, Turn] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: TurnKey) -> Turn | None:
        with self._lock:
            turn = self._turns.get(key)
            if turn is not None:
                self._turns.move_to_end(key)
            return turn

    def put(self, key: TurnKey, turn: Turn) -> None:
        with self._lock:
            self._turns[key] = turn
            self._turns.move_to_end(key)
            while len(self._turns) > self.size:
                self._turns.popitem(last=False)
