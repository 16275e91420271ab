"""The answer as both paths deliver it, and its `replyqa ask --json` form.

An `Answer` is plain data: the text (each quoted sentence marked `[n]`), its checked
citations, the leads offered when nothing answers, and the retrieved passages in rank order
(the evaluation scores retrieval from them).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from assistant.ask.citation import Citation, chinese_date, section_at
from assistant.ask.retrieve import Passage, Retrieval

NOT_FOUND = "未找到能回答这个问题的答复内容。"


class RetrievedItem(BaseModel):
    letter: str
    title: str
    section: str
    text: str
    start: int
    end: int
    score: float


class Lead(BaseModel):
    """A letter that may be relevant, offered to read when no sentence answers."""

    letter: str
    title: str
    issuer: str | None = None
    date: str | None = None


class Answer(BaseModel):
    question: str
    query: str
    found: bool
    text: str
    citations: list[Citation] = Field(default_factory=list)
    leads: list[Lead] = Field(default_factory=list)
    retrieved: list[RetrievedItem] = Field(default_factory=list)
    kind: str = "general"
    mode: str = "extractive"
    latency_ms: float = 0.0


def leads(retrieval: Retrieval, limit: int = 3) -> list[Lead]:
    out: list[Lead] = []
    for passage in retrieval.passages:
        if any(lead.letter == passage.letter_id for lead in out):
            continue
        letter = retrieval.snapshot.letter(passage.letter_id)
        out.append(Lead(letter=letter.id, title=letter.display_title, issuer=letter.issuer, date=letter.date))
        if len(out) == limit:
            break
    return out


def retrieved_items(retrieval: Retrieval, passages: list[Passage] | None = None) -> list[RetrievedItem]:
    items = []
    for p in passages if passages is not None else retrieval.passages:
        letter = retrieval.snapshot.letter(p.letter_id)
        section = section_at(letter, p.start, p.end)
        items.append(RetrievedItem(
            letter=p.letter_id, title=letter.display_title, section=section.key if section else "正文",
            text=p.text, start=p.start, end=p.end, score=round(p.score, 6),
        ))
    return items


def not_found_text(found_leads: list[Lead]) -> str:
    if not found_leads:
        return NOT_FOUND
    lines = [
        f"- 《{lead.title}》" + (f"（{'，'.join(x for x in (lead.issuer, chinese_date(lead.date)) if x)}）"
                               if lead.issuer or lead.date else "")
        for lead in found_leads
    ]
    return NOT_FOUND + "以下答复可能相关，可供查阅（不作为答案）：\n" + "\n".join(lines)


def answer_json(answer: Answer) -> dict[str, Any]:
    """The `replyqa ask --json` object (`docs/design.md`, "Command line contract"), plus the
    fields scripts find useful beside it (question, kind, mode, leads)."""
    data = answer.model_dump(mode="json")
    return {
        "question": answer.question,
        "answer": answer.text,
        "found": answer.found,
        "query": answer.query,
        "citations": [{**c.model_dump(mode="json"), "reference": c.reference} for c in answer.citations],
        "retrieved": data["retrieved"],
        "leads": data["leads"],
        "kind": answer.kind,
        "mode": answer.mode,
        "latency_ms": answer.latency_ms,
    }
