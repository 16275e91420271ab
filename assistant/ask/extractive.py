"""Extractive answers: the letters' own sentences, quoted verbatim, each one cited.

The best valid candidate (see `evidence`) answers, with up to two close neighbours of the same
passage; a plan (下一步) is quoted on to the end of its paragraph while it stays short; a list
question (哪些答复提到了…) gets one sentence per letter that names the thing listed. If no
candidate clears the calibrated bar, the answer is 未找到 with the closest letters as leads,
never as an answer.
"""

from __future__ import annotations

import re

from assistant.ask.answer import NOT_FOUND
from assistant.ask.calibration import Calibration
from assistant.ask.citation import Citation, chinese_date, make_citation
from assistant.ask.evidence import Evidence
from assistant.ask.question import QUESTION_WORDS, Question
from assistant.ask.retrieve import Retrieval
from assistant.ask.signals import Scorer
from assistant.ask.spans import merge_spans, sentence_spans
from index.tokenizer import ChineseTokenizer

NEIGHBOUR_SHARE = 0.9


def answer_from_evidence(
    question: Question,
    retrieval: Retrieval,
    evidence: list[Evidence],
    calibration: Calibration,
    tokenizer: ChineseTokenizer | None = None,
) -> tuple[bool, str, list[Citation]]:
    if tokenizer is not None and question.is_list:
        return _list_answer(question, retrieval, evidence, calibration, tokenizer)
    valid = [e for e in evidence if e.admissible]
    if not valid or valid[0].score < calibration.threshold:
        return False, NOT_FOUND, []
    best = valid[0]
    chosen = [best]
    for e in valid[1:6]:
        # A second sentence only when the model is nearly as sure of it and it stands close by:
        # every extra citation that does not answer lowers the answer's precision.
        near = e.letter_id == best.letter_id and abs(e.start - best.start) < 300
        if near and e.score >= NEIGHBOUR_SHARE * best.score:
            chosen.append(e)
            break
    chosen.sort(key=lambda e: e.start)
    letter = retrieval.snapshot.letter(best.letter_id)
    spans = [(e.start, e.end) for e in chosen]
    if question.kind == "next_steps":
        spans = [_plan_span(letter.text, spans[0][0], spans[-1][1]), *spans[1:]] if len(spans) == 1 else spans
    citations = [make_citation(i, letter, a, b) for i, (a, b) in enumerate(merge_spans(spans), start=1)]
    quotes = "".join(f"“{c.quote}”[{c.n}]" for c in citations)
    who = f"{letter.issuer}在" if letter.issuer else ""
    return True, f"{who}《{letter.display_title}》中答复：{quotes}", citations


def _plan_span(text: str, start: int, end: int, limit: int = 300) -> tuple[int, int]:
    """A plan is usually a paragraph of several sentences: quote on while it stays short."""
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    for _, e in sentence_spans(text, end, line_end):
        if e - start > limit:
            break
        end = e
    return start, end


_LIST_WORDS = re.compile(
    r"哪些|哪几份|哪几封|哪几个|有哪些|是哪些|答复|复函|回复|信件|涉及到?|提到了?|提及|谈到|说到|是关于|关于|有关|"
    r"代表委员|代表|委员|建议|提案|某条|某个|某些|方面|问题|的|了|是|中|里|呢|吗|[？?。]"
)
_ALTERNATIVE = re.compile(r"、|或者|或是|或|以及|及|和|与|，|,")


def list_topics(question: Question, tokenizer: ChineseTokenizer) -> list[list[str]]:
    """The things a 哪些答复… question lists letters for; alternatives (`村卫生室、乡镇卫生院或社区
    卫生服务中心`) each count on their own."""
    core = _LIST_WORDS.sub(" ", question.text)
    topics = []
    for part in _ALTERNATIVE.split(core):
        tagged = [
            (w, flag) for w, flag in tokenizer.tag(tokenizer.normalize(part)) if len(w) >= 2 and w not in QUESTION_WORDS
        ]
        # The things named carry the topic; verbs like 修建 / 覆盖 vary from letter to letter.
        nouns = [w for w, flag in tagged if flag.startswith(("n", "vn", "j", "l"))]
        words = nouns or [w for w, _ in tagged]
        if words:
            topics.append(words)
    return topics


def _list_answer(
    question: Question,
    retrieval: Retrieval,
    evidence: list[Evidence],
    calibration: Calibration,
    tokenizer: ChineseTokenizer,
) -> tuple[bool, str, list[Citation]]:
    scorer = Scorer(question, retrieval, tokenizer)
    topics = [
        {w: scorer.weights.get(w) or scorer.weight_of(w) for w in topic} for topic in list_topics(question, tokenizer)
    ]
    if not topics:
        return False, NOT_FOUND, []
    best_by_letter: dict[str, tuple[float, bool, int, Evidence]] = {}
    for e in evidence:
        if e.role not in ("content", "restatement"):
            continue
        hay = scorer.norm(e.text)
        # A topic counts when its rarest word is there, or nearly all of it is said otherwise.
        cover = max(
            c for topic in topics
            if (c := scorer.coverage(topic, hay)) >= 0.8 or max(topic, key=topic.__getitem__) in hay
        ) if any(
            scorer.coverage(topic, hay) >= 0.8 or max(topic, key=topic.__getitem__) in hay for topic in topics
        ) else 0.0
        restating = bool(re.search(r"(?:您|你)们?.{0,24}提出|收悉", scorer.tokenizer.normalize(e.text)))
        plain = not restating and e.role != "restatement" and e.candidate.section_kind != "preamble"
        key = (round(cover, 1), plain, -e.start)
        current = best_by_letter.get(e.letter_id)
        if current is None or key > current[:3]:
            best_by_letter[e.letter_id] = (*key, e)
    rank = {p.letter_id: i for i, p in reversed(list(enumerate(retrieval.passages)))}
    chosen = sorted(
        (v for v in best_by_letter.values() if v[0] >= calibration.list_min_coverage),
        key=lambda v: (-v[0], rank.get(v[3].letter_id, 99)),
    )[: calibration.max_list]
    if not chosen:
        return False, NOT_FOUND, []
    lines, citations = [], []
    for i, (*_, e) in enumerate(chosen, start=1):
        letter = retrieval.snapshot.letter(e.letter_id)
        citation = make_citation(i, letter, e.start, e.end)
        citations.append(citation)
        who = "，".join(x for x in (letter.issuer, chinese_date(letter.date)) if x)
        label = f"《{letter.display_title}》" + (f"（{who}）" if who else "")
        lines.append(f"{i}. {label}：“{citation.quote}”[{i}]")
    return True, f"共找到 {len(chosen)} 份相关答复：\n" + "\n".join(lines), citations


