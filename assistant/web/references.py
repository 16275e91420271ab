"""The draft-ready reference of a citation, as the page, 复制引用, the Word footnotes and the
Markdown export all give it:

    青河市交通运输局：《关于市十五届人大三次会议第58号建议的答复》（青交建议复〔2023〕41号，2023年6月18日）第一部分

— issuer, the letter's name, its document number (文号) when it has one, its date, and the
section. A quote from one of our fictional sample letters is marked 【示例（虚构）】 in front, so
it can never be pasted into a draft as if it were a real letter's words.

The 文号 and the sample mark are facts of the letter, not of the citation (the answer engine's
`Citation` carries neither), so they come in as `SourceFacts` looked up once per letter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from assistant.ask.answer import Answer, Lead
from assistant.ask.citation import Citation, chinese_date, reference_text
from index.reading.letter import ReplyLetter

SAMPLE_MARK = "示例（虚构）"
"""The note line every fictional sample letter carries in its own text (samples/README.md)."""
SAMPLE_TAG = f"【{SAMPLE_MARK}】"
UNVERIFIED_TAG = "（未能核实）"
OCR_TAG = "（扫描件文字识别，请核对原件）"
"""A quote from a scan or photo may differ from the paper by a character: said beside it."""


@dataclass(frozen=True)
class SourceFacts:
    """What a reference needs to know about its letter beyond the citation."""

    doc_number: str | None = None
    fictional: bool = False
    ocr: bool = False


Sources = Mapping[str, SourceFacts]
"""Letter id → its facts; a letter missing from it (removed since) is referenced without them."""


def is_fictional(letter: ReplyLetter) -> bool:
    return SAMPLE_MARK in letter.text


def facts_of(letter: ReplyLetter | None) -> SourceFacts:
    if letter is None:
        return SourceFacts()
    return SourceFacts(doc_number=letter.doc_number or None, fictional=is_fictional(letter), ocr=letter.ocr)


def sources_for(letter_ids: Iterable[str], lookup: Callable[[str], ReplyLetter | None]) -> dict[str, SourceFacts]:
    """The facts of each letter, each looked up once."""
    return {letter_id: facts_of(lookup(letter_id)) for letter_id in dict.fromkeys(letter_ids)}


def answer_letters(answers: Iterable[Answer]) -> list[str]:
    """Every letter the answers cite or offer as a lead, in order of first mention."""
    ids: list[str] = []
    for answer in answers:
        ids += [c.letter for c in answer.citations] + [lead.letter for lead in answer.leads]
    return list(dict.fromkeys(ids))


def _when(doc_number: str | None, date: str | None) -> str:
    parts = [x for x in (doc_number, chinese_date(date)) if x]
    return f"（{'，'.join(parts)}）" if parts else ""


def reference_line(citation: Citation, facts: SourceFacts | None = None) -> str:
    """One reference without its `[n]`."""
    facts = facts or SourceFacts()
    # `reference_text` without a date is 《name》 + the section's words: split them to put the
    # document number and the date between, where a draft has them.
    section = reference_text(citation.title, None, citation.section)
    name = reference_text(citation.title, None, "正文").removesuffix("正文")
    where = section.removeprefix(name)
    issuer = f"{citation.issuer}：" if citation.issuer else ""
    tag = SAMPLE_TAG if facts.fictional else ""
    flag = "" if citation.verified else UNVERIFIED_TAG
    ocr = OCR_TAG if facts.ocr else ""
    return f"{tag}{issuer}{name}{_when(facts.doc_number, citation.date)}{where}{flag}{ocr}"


def references_block(citations: Iterable[Citation], sources: Sources) -> str:
    """The numbered references under an answer pasted into a draft."""
    return "\n".join(f"[{c.n}] {reference_line(c, sources.get(c.letter))}" for c in citations)


def lead_line(lead: Lead, facts: SourceFacts | None = None) -> str:
    """A letter offered under 未找到, named the way a reference names it (no section)."""
    facts = facts or SourceFacts()
    tag = SAMPLE_TAG if facts.fictional else ""
    issuer = f"{lead.issuer}：" if lead.issuer else ""
    return f"{tag}{issuer}《{lead.title}》{_when(facts.doc_number, lead.date)}"


def quotes_fiction(answer: Answer, sources: Sources) -> bool:
    """Whether the answer quotes (or offers) a fictional sample letter."""
    letters = [c.letter for c in answer.citations] + [lead.letter for lead in answer.leads]
    return any(sources.get(letter, SourceFacts()).fictional for letter in letters)


def answer_with_references(answer: Answer, sources: Sources) -> str:
    """What 复制引用 puts on the clipboard: the answer, a blank line, the numbered references —
    or, for 未找到, the answer and the letters offered to read, named as references name them."""
    if answer.found and answer.citations:
        return f"{answer.text}\n\n{references_block(answer.citations, sources)}"
    if answer.leads:
        lines = [f"- {lead_line(lead, sources.get(lead.letter))}" for lead in answer.leads]
        return "\n".join([*text_without_leads(answer), *lines])
    return answer.text


def text_without_leads(answer: Answer) -> list[str]:
    """The lines of a 未找到 answer other than its list of leads (`answer.not_found_text` writes
    each lead as a `- 《…》` line), which the page and the exports give in their own form."""
    return [line for line in answer.text.split("\n") if not (answer.leads and line.startswith("- 《"))]
