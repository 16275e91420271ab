"""Questions about the letter itself — who replied, when, whom to contact — answered from
where the letter states it (its signature, date and contact lines), not from its body."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.ask.citation import Citation, make_citation
from assistant.ask.evidence import Calibration, Scorer
from assistant.ask.question import Question
from assistant.ask.retrieve import Retrieval
from index.dates import DATE_PATTERN, parse_date
from index.letter import ReplyLetter
from index.tokenizer import ChineseTokenizer
from index.vocab import load_vocabulary

_FACT_WORDS = frozenset(
    load_vocabulary(Path(__file__).with_name("vocab") / "evidence.toml")["letter_fields.question_words"]
)

_WHO_REPLIED = re.compile(
    r"(?:哪个|什么|哪)(?:单位|部门|机构)(?:答复|回复|办理|承办)|由谁答复|谁答复的|答复单位|承办单位|办理单位"
)
_WHEN_REPLIED = re.compile(r"(?:什么时候|何时|哪天|哪一天)(?:答复|回复|发出|印发)|答复(?:日期|时间)|落款日期")
_CONTACT_ASKED = re.compile(r"联系人|联系电话|联系方式|找谁联系|怎么联系")


def letter_fact(
    question: Question, retrieval: Retrieval, tokenizer: ChineseTokenizer
) -> tuple[bool, str, list[Citation]] | None:
    """Who replied, when, whom to contact: facts of the letter itself, quoted from where the
    letter states them (its signature, date and contact lines)."""
    field = (
        "issuer" if _WHO_REPLIED.search(question.text)
        else "date" if _WHEN_REPLIED.search(question.text)
        else "contact" if _CONTACT_ASKED.search(question.text)
        else None
    )
    if field is None or not retrieval.passages:
        return None
    snapshot = retrieval.snapshot
    scorer = Scorer(question, retrieval, tokenizer, Calibration())
    best: tuple[float, ReplyLetter] | None = None
    anchors = {w: weight for w, weight in scorer.weights.items() if w not in _FACT_WORDS and len(w) >= 2}
    for passage in retrieval.passages[:5]:
        letter = snapshot.letter(passage.letter_id)
        cover = scorer.coverage(anchors, scorer.identity(letter) + "|" + snapshot.searchable_text(letter.id))
        if best is None or cover > best[0]:
            best = (cover, letter)
    if best is None or best[0] < 0.6:
        return None
    letter = best[1]
    text = letter.text
    span: tuple[int, int] | None = None
    if field == "issuer" and letter.issuer:
        pos = text.rfind(letter.issuer)
        span = (pos, pos + len(letter.issuer)) if pos >= 0 else None
    elif field == "date" and letter.date:
        closing_from = next((s.start for s in letter.sections if s.kind == "closing"), max(len(text) - 200, 0))
        for m in DATE_PATTERN.finditer(text, closing_from):
            if parse_date(m.group(0)) == letter.date:
                span = (m.start(), m.end())
        if span is None:
            for m in DATE_PATTERN.finditer(text):
                if parse_date(m.group(0)) == letter.date:
                    span = (m.start(), m.end())
    elif field == "contact":
        m = re.search(r"[（(]?(?:联系人|联系电话|联系方式|承办人|经办人)[^\n]*", text)
        span = (m.start(), m.end()) if m else None
    if span is None:
        return None
    citation = make_citation(1, letter, *span)
    what = {"issuer": "答复单位", "date": "答复日期", "contact": "联系方式"}[field]
    return True, f"《{letter.display_title}》的{what}：“{citation.quote}”[1]", [citation]


