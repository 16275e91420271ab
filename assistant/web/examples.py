"""Example questions under the question box, drawn from the letters actually indexed.

A fixed list would be about our fictional sample letters whatever is indexed. Instead, each
example is a question about one indexed letter — the next steps on the suggestion it answers —
and it is offered only if asking it now answers from that very letter; when the fictional
samples are indexed, the questions written for them (`SAMPLE_QUESTIONS`) are offered on the
same condition, after the real letters'. Asking is what decides, so an example never leads to
未找到 or to another letter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.catalog import Entry
from assistant.service import ReplyQA

COUNT = 4
TRIES = 12
"""At most this many questions are asked to find the examples (the page waits for them)."""
SAMPLE_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("2022年青河市农村公路建设完成了多少投资？", "qh-jt-2023-058"),
    ("既有住宅加装一部电梯政府补贴多少？", "qh-zj-2022-027"),
    ("东川省在哪些城市试行了长期护理保险？", "dc-mz-2021-0312"),
    ("东川省首批5G应用示范项目有多少个？", "dc-gx-2020-dh0271"),
)
"""Questions written for samples/letters (fictional), each with the letter that answers it."""
_TOPIC = re.compile(r"^《?关于(?P<topic>.+?)的?(?:建议|提案|议案)》?$")


def topic_of(entry: Entry) -> str | None:
    """What the answered suggestion is about, from its title (关于X的建议 → X)."""
    for title in (entry.suggestion_title, entry.record.title):
        m = _TOPIC.match((title or "").strip())
        if m and 4 <= len(m.group("topic")) <= 28 and not re.search(r"第\S*号|会议", m.group("topic")):
            return m.group("topic")
    return None


def candidates(entries: Sequence[Entry], fictional: set[str]) -> list[tuple[str, str]]:
    """(question, the letter that should answer it): real letters newest first, then samples."""
    real = sorted((e for e in entries if e.id not in fictional), key=lambda e: e.record.date or "", reverse=True)
    out = [(f"关于{topic}，下一步有什么安排？", e.id) for e in real if (topic := topic_of(e))]
    indexed = {e.id for e in entries}
    out += [(q, letter) for q, letter in SAMPLE_QUESTIONS if letter in indexed]
    return out


def pick_examples(app: ReplyQA, entries: Sequence[Entry], fictional: set[str]) -> list[str]:
    """Up to `COUNT` questions, each answered now from its own letter, from distinct letters."""
    chosen: list[str] = []
    used: set[str] = set()
    for tried, (question, letter) in enumerate(candidates(entries, fictional)):
        if len(chosen) == COUNT or tried == TRIES:
            break
        if letter in used:
            continue
        answer = app.ask(question)
        if answer.found and answer.citations and all(c.letter == letter for c in answer.citations):
            chosen.append(question)
            used.add(letter)
    return chosen
