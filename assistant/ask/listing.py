"""Answers that list letters: 哪些答复提到了公交候车亭？ and the follow-up that asks each of them
again (下一步呢？).

A letter is listed when what the question lists letters for (its topic; alternatives such as
`村卫生室、乡镇卫生院或社区卫生服务中心` each count) is said in the letter: in what the letter is
about (its title or the suggestion it answers) or in one of its sentences. What is quoted for
it follows the question: 提到了X asks where the letter mentions X, so the sentence that says X
is quoted; 讲的是X / 关于X / 涉及X asks what the letter is about, so the sentence naming the
suggestion it answers (您提出的《关于…的建议》收悉) is quoted; and a letter listed for who wrote
it (平江的答复有哪些, its issuer) is quoted where it names its issuer.
"""

from __future__ import annotations

import re

from assistant.ask.answer import NOT_FOUND
from assistant.ask.calibration import Calibration
from assistant.ask.citation import Citation, chinese_date, make_citation
from assistant.ask.evidence import Evidence
from assistant.ask.letter_fields import field_span, find_line
from assistant.ask.question import QUESTION_WORDS, UNIT_KIND_WORDS, Question, without_list_words
from assistant.ask.retrieve import Retrieval
from assistant.ask.signals import Scorer
from assistant.ask.spans import sentence_spans
from index.reading.letter import ReplyLetter
from index.tokenizer import ChineseTokenizer

_ALTERNATIVE = re.compile(r"、|或者|或是|或|以及|及|和|与|，|,")
_ABOUT = re.compile(r"讲的是|讲的|是讲|是关于|关于|涉及|针对|要求|反映|有关")
"""Cues that a list question asks what letters are about, not where they mention something."""
_MENTION = re.compile(r"提到|提及|说到|谈到|讲到|写到|里有")
SENTENCE_COVER = 0.8
"""A sentence says a topic when it holds this share of it (or the topic's rarest word)."""
ISSUER_COVER = 0.999
"""A list is of the letters a place or unit wrote when all of a topic is in their issuer's name
(平江 in 平江县交通运输局), not a word of it (卫生 of 乡镇卫生院 in 卫生健康局)."""


def list_topics(question: Question, tokenizer: ChineseTokenizer) -> list[list[str]]:
    """The things a 哪些答复… question lists letters for, alternatives each on their own."""
    topics = []
    for part in _ALTERNATIVE.split(without_list_words(question.text)):
        tagged = [
            (w, flag) for w, flag in tokenizer.tag(tokenizer.normalize(part)) if len(w) >= 2 and w not in QUESTION_WORDS
        ]
        # The things named carry the topic; verbs like 修建 / 覆盖 vary from letter to letter.
        nouns = [w for w, flag in tagged if flag.startswith(("n", "vn", "j", "l"))]
        words = nouns or [w for w, _ in tagged]
        # 省直厅局, 各部门 say which kind of unit wrote the letters, not which: what else the
        # topic names (广东省, 马关县) does.
        words = [w for w in words if w not in UNIT_KIND_WORDS] or words
        if words:
            topics.append(words)
    return topics


def _topic_statement(letter: ReplyLetter) -> tuple[int, int] | None:
    """The sentence naming the suggestion a letter answers, else its title line."""
    text = letter.text
    for value in (letter.suggestion_title, letter.title):
        if not value:
            continue
        pos = text.find(value)
        if pos >= 0:
            line_start = text.rfind("\n", 0, pos) + 1
            line_end = text.find("\n", pos)
            for a, b in sentence_spans(text, line_start, len(text) if line_end == -1 else line_end):
                if a <= pos < b and b - a <= 300:
                    return a, b
            return pos, pos + len(value)
    return None


def _issuer_statement(letter: ReplyLetter) -> tuple[int, int] | None:
    """The title line when it names the issuer, else the signature line."""
    if letter.issuer and letter.title and letter.issuer in letter.title:
        return find_line(letter.text, letter.title) or field_span(letter, "issuer")
    return field_span(letter, "issuer")


def list_answer(
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
    mention = bool(_MENTION.search(question.text))
    about = bool(_ABOUT.search(question.text)) and not mention

    def cover(hay: str) -> float:
        """The best topic's share in `hay`, when it is said there at all."""
        said = [
            c for topic in topics
            if (c := scorer.coverage(topic, hay)) >= SENTENCE_COVER or max(topic, key=topic.__getitem__) in hay
        ]
        return max(said, default=0.0)

    best: dict[str, tuple[float, bool, int, Evidence]] = {}
    for e in evidence:
        if e.role not in ("content", "restatement"):
            continue
        plain = e.role == "content" and e.candidate.section_kind != "preamble"
        key = (round(cover(scorer.norm(e.text) + "|" + scorer.norm(e.candidate.heading)), 1), plain, -e.start)
        if e.letter_id not in best or key > best[e.letter_id][:3]:
            best[e.letter_id] = (*key, e)
    rank = {p.letter_id: i for i, p in reversed(list(enumerate(retrieval.passages)))}
    listed: list[tuple[float, int, str, tuple[int, int]]] = []
    by_issuer: set[str] = set()
    for letter_id in rank:
        letter = retrieval.snapshot.letter(letter_id)
        identity_cover = max(scorer.coverage(topic, scorer.identity(letter)) for topic in topics)
        sentence_cover, _, _, e = best.get(letter_id, (0.0, False, 0, None))
        score = max(identity_cover, sentence_cover)
        if score < calibration.list_min_coverage:
            continue
        statement = None
        if e is None or (about and identity_cover >= calibration.list_min_coverage):
            statement = _topic_statement(letter)
        issued = any(  # every word of the topic in the issuer's name
            scorer.coverage(topic, scorer.norm(letter.issuer or "")) >= ISSUER_COVER for topic in topics
        )
        # 平江的答复有哪些: listed for who wrote it, so quoted where it says so — also when its
        # sentences name the place too; 哪些答复提到了平江 is about those sentences.
        written_by = issued and (identity_cover > sentence_cover or not mention)
        if written_by:
            statement = _issuer_statement(letter) or statement
        span = statement or ((e.start, e.end) if e is not None else None)
        if span is not None:
            listed.append((score, rank[letter_id], letter_id, span))
            if issued:
                by_issuer.add(letter_id)
    if by_issuer and not mention:
        # the letters of that place or unit, not others whose sentences happen to name it
        listed = [item for item in listed if item[2] in by_issuer]
    listed.sort(key=lambda item: (-round(item[0], 1), item[1]))
    chosen = listed[: calibration.max_list]
    if not chosen:
        return False, NOT_FOUND, []
    spans = [(letter_id, span) for *_, letter_id, span in chosen]
    return True, *listed_answer(spans, retrieval, f"共找到 {len(chosen)} 份相关答复：")


def listed_answer(
    spans: list[tuple[str, tuple[int, int]]], retrieval: Retrieval, head: str
) -> tuple[str, list[Citation]]:
    lines, citations = [], []
    for i, (letter_id, (start, end)) in enumerate(spans, start=1):
        letter = retrieval.snapshot.letter(letter_id)
        citation = make_citation(i, letter, start, end)
        citations.append(citation)
        who = "，".join(x for x in (letter.issuer, chinese_date(letter.date)) if x)
        label = f"《{letter.display_title}》" + (f"（{who}）" if who else "")
        lines.append(f"{i}. {label}：“{citation.quote}”[{i}]")
    return head + "\n" + "\n".join(lines), citations


def per_letter_answer(
    letters: tuple[str, ...], retrieval: Retrieval, evidence: list[Evidence], calibration: Calibration
) -> tuple[bool, str, list[Citation]]:
    """The best answering sentence of each letter a list answer gave, in that answer's order:
    `下一步呢？` after 哪些答复提到了… asks every one of them."""
    best: dict[str, Evidence] = {}
    for e in evidence:
        if e.admissible and e.score >= calibration.threshold and e.letter_id in letters and e.letter_id not in best:
            best[e.letter_id] = e
    chosen = [(letter, (best[letter].start, best[letter].end)) for letter in letters if letter in best]
    if not chosen:
        return False, NOT_FOUND, []
    return True, *listed_answer(chosen, retrieval, f"上述答复中有 {len(chosen)} 份谈到：")
