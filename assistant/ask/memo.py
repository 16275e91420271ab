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

from collections.abc import Sequence

from assistant.ask.retrieve import Filters
from assistant.lru import LRU

TURNS_KEPT = 4096
"""About 30 bytes of key text and a few ids a turn: well under a megabyte."""

TurnKey = tuple[str, Filters | None, tuple[str, ...]]


def turn_key(version: str, filters: Filters | None, questions: Sequence[str]) -> TurnKey:
    """The last of `questions` as asked after the others, under `filters`, in index `version`."""
    return (version, filters if filters is not None and not filters.empty else None, tuple(questions))


class TurnMemo(LRU):
    """`turn_key` → the `Turn` that question gave."""

    def __init__(self, size: int = TURNS_KEPT) -> None:
        super().__init__(size)
