"""Each sentence of the model's reply checked against the sources it cites, and the final
`Answer` made of the sentences that hold.

Policy for sentences that fail — no marker, a marker out of range, or a fact not in the cited
span: they are **dropped** from the answer text, and the text ends with a note saying how many
were left out. Not flagged-and-kept: an answer is pasted into official drafts, and a flag such
as （未能核实） is easily lost in a copy while the wrong figure survives. So every sentence of
an LLM answer's text carries at least one citation, and every citation in `Answer.citations`
has `verified=True` and a quote for which `letter.text[start:end] == quote`; `verified=False`
never appears in LLM answers, and a UI that meets one must not present it as support.
When no sentence survives, or the model gave the not-found sentence, the answer is not found,
with leads, like an extractive one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from assistant.ask.answer import NOT_FOUND, Answer, leads, not_found_text, retrieved_items
from assistant.ask.citation import Citation, make_citation
from assistant.ask.facts import Fact, bigram_overlap, extract_facts, fact_in, has_content, negated
from assistant.ask.llm.client import strip_think
from assistant.ask.llm.reply import Sentence, parse_reply
from assistant.ask.llm.sources import Source
from assistant.ask.retrieve import Passage, Retrieval
from assistant.ask.spans import MAX_QUOTE
from assistant.library import Snapshot
from index.tokenizer import ChineseTokenizer

log = logging.getLogger(__name__)

MIN_OVERLAP = 0.6
"""A sentence with no number or name to check must share this much of its wording (character
bigrams) with the quoted span."""
DROPPED_NOTE = "（另有{n}句模型生成的内容未能在所引答复中核实，已略去。）"
REJECTED_NOTE = "（模型生成的回答未能在所引答复中逐句核实，未予采用。）"


@dataclass
class Verdict:
    sentence: Sentence
    ok: bool
    reason: str = ""
    quotes: list[tuple[Source, int, int]] = field(default_factory=list)
    """(source, start, end) spans in the source's letter that support the sentence."""


def _is_not_found(sentence: Sentence, tokenizer: ChineseTokenizer) -> bool:
    return tokenizer.compact(NOT_FOUND.rstrip("。")) in tokenizer.compact(sentence.body)


def _connective(sentence: Sentence, facts: list[Fact]) -> bool:
    """A lead-in such as 具体情况如下： — not a claim, left out silently."""
    return not sentence.markers and not facts and (sentence.end == "" and sentence.body.rstrip().endswith(("：", ":")))


def verify_sentence(sentence: Sentence, sources: Sequence[Source], tokenizer: ChineseTokenizer) -> Verdict:
    """Check one sentence against the sources it cites (see the module docstring for the policy)."""
    claim = sentence.claim
    if not sentence.markers:
        return Verdict(sentence, False, "无引用")
    if any(not 1 <= k <= len(sources) for k in sentence.markers):
        return Verdict(sentence, False, "引用编号超出范围")
    cited = [sources[k - 1] for k in dict.fromkeys(sentence.markers)]
    facts = extract_facts(claim, tokenizer)
    for fact in facts:
        if not any(_in_source(fact, s, tokenizer) or fact_in(fact, s.identity, tokenizer) for s in cited):
            return Verdict(sentence, False, f"“{fact.text}”不在所引资料中")
    quotes: list[tuple[Source, int, int]] = []
    for source in cited:
        # What the source's header (title, issuer, date) already shows needs no quote.
        needed = [f for f in facts if _in_source(f, source, tokenizer) and not fact_in(f, source.identity, tokenizer)]
        for start, end in _fact_windows(source, needed, tokenizer):
            quotes.append((source, start, end))
    if not quotes:
        # No fact to locate (none, or only the letter's own title/issuer/date): the span that
        # says most of what the sentence says, which must be close enough if there were no facts.
        best: tuple[float, int, Source, int, int] | None = None
        polarity = negated(claim, tokenizer)
        for source in cited:
            for start, end in _windows(source, max_units=3):
                span = source.letter.text[start:end]
                if not facts and negated(span, tokenizer) != polarity:
                    continue
                score = bigram_overlap(claim, span, tokenizer)
                key = (score, -(end - start))
                if best is None or key > (best[0], best[1]):
                    best = (score, -(end - start), source, start, end)
        if best is None or (not facts and best[0] < MIN_OVERLAP):
            return Verdict(sentence, False, "所引资料中没有相应内容")
        quotes.append((best[2], best[3], best[4]))
    return Verdict(sentence, True, quotes=quotes)


def _in_source(fact: Fact, source: Source, tokenizer: ChineseTokenizer) -> bool:
    return any(
        fact_in(fact, source.unit_text(i), tokenizer) for i in range(len(source.units)) if i not in source.blocked
    )


def _runs(source: Source) -> list[list[int]]:
    """Consecutive usable units (instruction-like units break runs)."""
    runs: list[list[int]] = [[]]
    for i in range(len(source.units)):
        if i in source.blocked:
            runs.append([])
        else:
            runs[-1].append(i)
    return [r for r in runs if r]


def _windows(source: Source, max_units: int | None = None) -> Iterator[tuple[int, int]]:
    """Spans of consecutive usable units, at most MAX_QUOTE long."""
    for run in _runs(source):
        for a in range(len(run)):
            for b in range(a, len(run)):
                if max_units is not None and b - a + 1 > max_units:
                    break
                start, end = source.units[run[a]][0], source.units[run[b]][1]
                if end - start > MAX_QUOTE and b > a:
                    break
                yield start, end


def _fact_windows(source: Source, facts: list[Fact], tokenizer: ChineseTokenizer) -> list[tuple[int, int]]:
    """The shortest run of the passage's sentences holding all `facts`; when that is longer
    than MAX_QUOTE, several runs that fit, chosen greedily (most facts first)."""
    if not facts:
        return []
    text = source.letter.text
    remaining = list(facts)
    chosen: list[tuple[int, int]] = []
    while remaining:
        best: tuple[int, int, int, int] | None = None  # (-covered, length, start, end)
        for start, end in _windows(source):
            covered = sum(1 for f in remaining if fact_in(f, text[start:end], tokenizer))
            if not covered:
                continue
            key = (-covered, end - start, start, end)
            if best is None or key < best:
                best = key
        if best is None:
            break
        _, _, start, end = best
        chosen.append((start, end))
        remaining = [f for f in remaining if not fact_in(f, text[start:end], tokenizer)]
    return chosen


def build_answer(
    reply: str,
    *,
    question: str,
    query: str,
    retrieval_passages: Sequence[Passage],
    sources: Sequence[Source],
    snapshot: Snapshot,
    tokenizer: ChineseTokenizer,
    kind: str = "general",
) -> Answer:
    """The final `Answer` from the model's whole reply: verified sentences only, renumbered."""
    retrieval = Retrieval(query, list(retrieval_passages), snapshot)
    citations: list[Citation] = []
    number: dict[tuple[str, int, int], int] = {}
    kept: list[tuple[Sentence, list[int]]] = []
    dropped = 0
    said_not_found = False
    for sentence in parse_reply(strip_think(reply), tokenizer):
        if _is_not_found(sentence, tokenizer):
            said_not_found = True
            continue
        if not has_content(sentence.claim) or _connective(sentence, extract_facts(sentence.claim, tokenizer)):
            continue
        verdict = verify_sentence(sentence, sources, tokenizer)
        if not verdict.ok:
            log.info("dropped an unverified sentence (%s): %s", verdict.reason, sentence.body)
            dropped += 1
            continue
        marks: list[int] = []
        for source, start, end in verdict.quotes:
            key = (source.letter.id, start, end)
            if key not in number:
                number[key] = len(citations) + 1
                citations.append(make_citation(number[key], source.letter, start, end, verified=True))
            if number[key] not in marks:
                marks.append(number[key])
        kept.append((sentence, marks))
    found = bool(kept)
    answer = Answer(
        question=question,
        query=query,
        found=found,
        text="",
        citations=citations if found else [],
        leads=[] if found else leads(retrieval),
        retrieved=retrieved_items(retrieval),
        kind=kind,
        mode="llm",
    )
    if found:
        text = _assemble(kept)
        answer.text = text + ("\n" + DROPPED_NOTE.format(n=dropped) if dropped else "")
    else:
        answer.text = not_found_text(answer.leads)
        if dropped and not said_not_found:
            answer.text += "\n" + REJECTED_NOTE
    return answer


def _assemble(kept: list[tuple[Sentence, list[int]]]) -> str:
    """The kept sentences with their new markers; a clause whose sentence lost its later
    clauses ends with the sentence's own final punctuation instead of a comma."""
    out = []
    for i, (sentence, marks) in enumerate(kept):
        end = sentence.end
        last_of_group = i + 1 == len(kept) or kept[i + 1][0].group != sentence.group
        if last_of_group and end in ("，", ",", "、"):
            end = sentence.group_end if sentence.group_end not in ("，", ",", "、") else "。"
        out.append(sentence.body.strip() + "".join(f"[{n}]" for n in marks) + end)
        if sentence.newline and last_of_group:
            out.append("\n")
    return "".join(out).strip()
