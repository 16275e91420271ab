"""Extractive answers: the letters' own sentences, quoted verbatim, each one cited.

Candidate sentences come from the sections of the best retrieved passages. A sentence can only
answer if it holds what was asked for — a sum of money for 多少钱, a quantity (in the asked
unit) for 多少, a date for 什么时候, a plan for 下一步 — and the thing asked about (the focus:
票价, 托位, 游客), does not name another year than the question, and does not leave out a
specific word of the asked part (a place, a project name) that neither it nor its letter's
title, issuer or addressee contains. Sentences that restate the suggestion (the preamble) or
thank and sign off (the closing) do not answer either. Among valid sentences the one covering
most of the question (words weighted by rarity) wins; if none clears the calibrated bar, the
answer is 未找到 with the closest letters as leads, never as an answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import jieba.posseg as posseg
import numpy as np
from pydantic import BaseModel, Field

from assistant.citation import Citation, chinese_date, display_title, make_citation, section_at, section_key
from assistant.question import QUESTION_WORDS, YEAR, Kind, Question
from assistant.retrieve import Passage, Retrieval
from index.reading.dates import DATE_PATTERN, parse_date
from index.reading.letter import ReplyLetter
from index.reading.outline import Section
from index.tokenizer import ChineseTokenizer

NOT_FOUND = "未找到能回答这个问题的答复内容。"

_UNIT_END = re.compile(r"[。！？；!?;]+[”’」』）)]*|\n")
_LABEL = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[.．、](?!\d)"
    r"|第[一二三四五六七八九十]+[，、：:])"
)
_NOT_QUANTITY = re.compile(
    r"(?:19|20)\d{2}\s*(?:年|-)|\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}\s*月|\d{1,2}\s*日|〔\d{4}〕\d*号?|第\s*\d+\s*号|\d+号"
)
_QUANTITY = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:余|多)?\s*[百千万亿]?|[一二三四五六七八九十两百千万]+\s*(?:个|家|座|名|所|辆|条|处|项|人|户|公里|亩|类|种|成|倍|班|批|位|次|张|台)"
)
_MONEY = re.compile(r"\d[\d.,]*\s*(?:余|多)?\s*(?:万|亿|千)?\s*元|[零一二三四五六七八九十百千万两]+\s*(?:万|亿)?元")
_DATE = re.compile(
    r"(?:19|20)\d{2}\s*年|\d{1,2}\s*月|\d{1,2}\s*日|年底|年初|年内|月底|月初|上半年|下半年|第[一二三四]季度|"
    r"十[一二三四五]五|明年|今年|后年|年前|月前|本月|下月|次年|[一二三四五六七八九十]+月"
)
_CONDITIONAL_TIME = re.compile(r"待.{2,40}?(?:后|以后|之后)|届时|之后|以后|尽快|尽早|近期|即将")
_ACKNOWLEDGEMENT = re.compile(
    r"收悉|答复如下|函复如下|回复如下|意见如下|函告如下|如下[:：]$|已交我们|交由我|转交我|交我[局们委厅]|研究办理"
)
_COURTESY = re.compile(
    r"^(?:感谢|衷心感谢|再次感谢|再一次感谢|谢谢|希望|恳请|此致|敬礼|特此|专此|欢迎|如有|以上答复|以上意见|以上是|以上供)"
    r"|联系人|联系电话|联系单位|承办人|经办人|抄送|抄报|签发"
)
_SUGGESTION_FIELD = re.compile(
    r"^(?:建议内容|问题内容|提案内容|内容|建议标题|提案标题|标题|建议提案标题)(?:（摘要）|\(摘要\))?[：:]"
)
_DOC_NO = re.compile(r"[〔\[]\d{4}[〕\]]\d+号")
_WHO = re.compile(
    r"局长|主任|书记|组长|厅长|县长|市长|负责人|牵头|负责|会同|联合|由[\u4e00-\u9fff]{2,}|"
    r"[\u4e00-\u9fff]{2,15}(?:局|厅|委|政府|公司|中心|部|院|处|街道|办|所|队)"
)
_WHERE = re.compile(
    r"位于|选址|地处|在[\u4e00-\u9fff]{2,}|[\u4e00-\u9fff](?:路|街|村|组|镇|乡|区|小区|广场|公园|口|处|段|线)"
)
_WHY = re.compile(r"由于|因为|因|原因|受|不符合|没有|无法|暂时|困难|不足|限制|不具备|未|不能|尚|制约|不宜|需要")
_STRONG: dict[str, re.Pattern[str]] = {
    "why": re.compile(r"由于|因为|原因|因此|所以|导致|受.{1,12}(?:影响|限制|制约)"),
    "date": re.compile(r"(?:19|20)\d{2}\s*年|\d{1,2}\s*月|年底|月底|上半年|下半年|十[一二三四五]五"),
    "who": re.compile(r"由.{1,20}负责|牵头|组长|负责人|会同|指定"),
    "where": re.compile(r"位于|选址|地处|在.{2,20}(?:处|内|旁|附近)"),
    "status": re.compile(r"目前|已经|已|正在|尚未|同意|不宜|暂不|纳入|列入"),
}
_MONEY_WORDS = frozenset("投资 资金 补贴 补助 经费 费用 预算 钱 奖补 资助 拨款 总投资 金额 款 投入".split())
_MONEY_KINDS = (frozenset({"投资", "总投资", "投入"}), frozenset({"补贴", "补助", "奖补", "资助", "奖励"}),
                frozenset({"预算"}))
_ADMIN_SUFFIX = re.compile(r"(?<=[\u4e00-\u9fff]{2})(?:省|市|县|区|州|盟|旗|镇|乡|村|街道)$")
_FUTURE = re.compile(r"下一步|下步|今后|接下来|将|计划|拟|力争|争取|继续|进一步|逐步|加快|推动|推进|着力|积极")
_NEXT_PARA = re.compile(r"^(?:下一步|下步|今后|接下来|后续|同时|此外)")
_ABOUT_LETTER = re.compile(
    r"联系人|联系电话|联系方式|签发|哪个单位答复|谁答复|答复日期|什么时候答复|何时答复|承办单位|哪个部门答复"
)


@dataclass
class Evidence:
    """A candidate sentence, with what made it score."""

    letter_id: str
    start: int
    end: int
    text: str
    passage_rank: int
    coverage: float
    """Share of the question's (rarity-weighted) words in the sentence or its letter's identity."""
    asked_coverage: float
    """Share of the asked part's words in the sentence itself (and its heading)."""
    type_ok: bool
    focus_ok: bool
    year_conflict: bool
    missing: tuple[str, ...]
    """Specific words of the asked part found neither in the sentence nor in its letter's identity."""
    section: str
    """The top-level section kind, or `restatement` (the suggestion said back) / `courtesy`."""
    score: float = 0.0

    @property
    def valid(self) -> bool:
        return (
            self.type_ok and self.focus_ok and not self.year_conflict and not self.missing
            and self.section not in ("restatement", "courtesy")
        )


@dataclass
class Calibration:
    """The bar evidence must clear to be given as an answer (fitted on the evaluation sets)."""

    min_score: float = 0.45
    list_min_coverage: float = 0.6
    rescue_min_coverage: float = 0.2
    rescue_max_rank: int = 5
    """A reworded question whose words the letter does not share may still be answered by a
    valid sentence of the top passages if it ranks among the first few by meaning (dense
    similarity to the question) and shares at least a little wording."""
    max_list: int = 6
    specific_letters: int = 2
    """A word in at most this many letters names something specific (a place, a project)."""


class RetrievedItem(BaseModel):
    letter: str
    title: str
    section: str
    text: str
    start: int
    end: int
    score: float


class Lead(BaseModel):
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


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences (and clauses ending in ；) of text[start:end], as trimmed spans."""
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _UNIT_END.finditer(text, start, end):
        _add_span(text, pos, m.end() if m.group() != "\n" else m.start(), spans)
        pos = m.end()
    _add_span(text, pos, end, spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start >= 2:
        spans.append((start, end))


@dataclass
class _Scorer:
    question: Question
    retrieval: Retrieval
    tokenizer: ChineseTokenizer
    calibration: Calibration
    weights: dict[str, float] = field(default_factory=dict)
    asked_weights: dict[str, float] = field(default_factory=dict)
    specific: set[str] = field(default_factory=set)
    """Rare places and names of the asked part: the sentence itself (or its letter's identity) must name them."""
    places: set[str] = field(default_factory=set)
    """All places and names of the asked part: the answer's letter must name them somewhere."""
    identities: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        snapshot = self.retrieval.snapshot
        bm25 = snapshot.bm25
        unseen = math.log1p((len(bm25) + 0.5) / 0.5)
        for word in self.question.words:
            self.weights[word] = bm25.idf(word) or self._subword_idf(word) or unseen
        self.asked_weights = {w: self.weights[w] for w in self.question.asked if w in self.weights}
        for word in self.question.proper:
            core = _ADMIN_SUFFIX.sub("", word)
            self.places.add(core)
            if 1 <= snapshot.letter_count(core) <= self.calibration.specific_letters:
                self.specific.add(core)

    def weight_of(self, word: str) -> float:
        bm25 = self.retrieval.snapshot.bm25
        return bm25.idf(word) or self._subword_idf(word) or math.log1p((len(bm25) + 0.5) / 0.5)

    def _subword_idf(self, word: str) -> float:
        bm25 = self.retrieval.snapshot.bm25
        return max((bm25.idf(sub) for sub in self.tokenizer.subwords(word)), default=0.0)

    def norm(self, text: str) -> str:
        return re.sub(r"\s+", "", self.tokenizer.normalize(text))

    def identity(self, letter: ReplyLetter) -> str:
        if letter.id not in self.identities:
            parts = [letter.title, letter.suggestion_title, letter.issuer, letter.addressee, letter.session,
                     letter.number]
            self.identities[letter.id] = self.norm(" ".join(p for p in parts if p))
        return self.identities[letter.id]

    def coverage(self, weights: dict[str, float], hay: str) -> float:
        total = sum(weights.values())
        if total <= 0:
            return 1.0
        got = 0.0
        for word, weight in weights.items():
            if word in hay:
                got += weight
                continue
            subs = [s for s in self.tokenizer.subwords(word) if s in hay]
            if subs:
                got += weight * max(len(s) for s in subs) / len(word)
        return got / total

    def type_ok(self, sentence: str, hay: str, paragraph_start: str) -> bool:
        kind: Kind = self.question.kind
        if kind in ("number", "money"):
            body = _NOT_QUANTITY.sub(" ", _LABEL.sub("", sentence))
            if kind == "money" and not _MONEY.search(body):
                return False
            if kind == "number" and not _QUANTITY.search(body) and not (
                self.question.focus == "文号" and _DOC_NO.search(sentence)
            ):
                return False
            units = self.question.units
            if units and not any(u in body for u in units):
                return False
            classifier = self.question.classifier
            number = r"(?:\d|[一二三四五六七八九十两百千万])\s*(?:余|多)?\s*[百千万亿]?\s*(?:个)?"
            return not classifier or any(re.search(number + re.escape(c), body) for c in classifier)
        if kind == "date":
            if _DATE.search(sentence):
                return True
            event = self.question.event
            return bool(event and _CONDITIONAL_TIME.search(sentence) and self.norm(event)[-1:] in hay)
        if kind == "who":
            return bool(_WHO.search(sentence))
        if kind == "where":
            return bool(_WHERE.search(sentence))
        if kind == "why":
            return bool(_WHY.search(sentence))
        if kind == "next_steps":
            return bool(
                _NEXT_PARA.search(paragraph_start)
                or re.search(r"下一步|下步|今后|接下来", sentence)
                or re.search(r"(?:^|[，,；;])[^，,；;]{0,8}?(?:将|拟|计划|力争|争取|准备)", sentence)
            )
        return True

    def focus_ok(self, sentence: str, hay: str) -> bool:
        focus = self.question.focus
        if not focus or focus in hay:
            return True
        if self.question.classifier and self.question.classifier != ("个",):
            return True  # the measure word already says what is counted (多少名, 几年)
        if self.question.kind == "money" and focus in _MONEY_WORDS:
            # The sum of money is the thing asked for, but an investment is not a subsidy.
            group = next((g for g in _MONEY_KINDS if focus in g), None)
            return group is None or any(word in hay for word in group)
        if focus == "文号":
            return bool(_DOC_NO.search(sentence))
        units = self.question.units
        if units and any(u in sentence for u in units if u != "元"):
            return True
        return any(sub in hay for sub in self.tokenizer.subwords(focus) if sub not in ("建设", "项目"))

    def years_ok(self, sentence: str, paragraph: str) -> bool:
        """A question naming a year is answered by a sentence about that year: the year is in the
        sentence, or in its paragraph or section headings (`（二）2023年建设计划` above its
        items), and the sentence's number is not another year's."""
        wanted = set(self.question.years)
        if not wanted:
            return True
        in_sentence = set(YEAR.findall(sentence))
        if not in_sentence:
            return bool(set(YEAR.findall(paragraph)) & wanted)
        if not in_sentence & wanted:
            return False
        if self.question.kind in ("number", "money"):
            # The number must be the asked year's: the nearest year before it is that year
            # (确保2020年底…4万个，2021年底实现全覆盖 does not give a number for 2021).
            pattern = _MONEY if self.question.kind == "money" else _QUANTITY
            body = _NOT_QUANTITY.sub(lambda m: " " * len(m.group()), sentence)
            for m in pattern.finditer(body):
                before = YEAR.findall(sentence[: m.start()])
                if not before or before[-1] in wanted:
                    return True
            return False
        return True


def _heading_path(letter: ReplyLetter, start: int, end: int) -> str:
    headings: list[str] = []
    candidates = letter.sections
    while candidates:
        for s in candidates:
            if s.start <= start and end <= s.end:
                headings.append(s.heading)
                candidates = s.children
                break
        else:
            break
    return " ".join(h for h in headings if h)


def _top_section(letter: ReplyLetter, pos: int) -> Section | None:
    return next((s for s in letter.sections if s.start <= pos < s.end), None)


def _scope(letter: ReplyLetter, passage: Passage) -> tuple[int, int]:
    """The passage widened to its section when the section is short enough to read whole."""
    section = section_at(letter, passage.start, passage.end)
    if section and section.end - section.start <= 1200:
        return section.start, section.end
    return passage.start, passage.end


def _is_heading_line(top: Section | None, start: int, sentence: str) -> bool:
    return bool(
        top and top.kind == "numbered" and start == top.start and top.heading and "\n" not in sentence
        and (sentence.endswith(top.heading) or len(sentence) <= len(top.heading) + 4)
    )


def gather_evidence(
    question: Question,
    retrieval: Retrieval,
    tokenizer: ChineseTokenizer,
    calibration: Calibration | None = None,
    *,
    passages: int = 8,
    focus_letters: tuple[str, ...] = (),
    focus_cited: tuple[tuple[str, int], ...] = (),
) -> list[Evidence]:
    """Score every sentence of the best passages' sections; `focus_letters` (the letter a
    conversation is about) get a bonus so a follow-up stays with it, and the sections its last
    answer quoted (`focus_cited`, letter and offset) a little more, except the quoted sentences
    themselves: the follow-up asks something else."""
    calibration = calibration or Calibration()
    scorer = _Scorer(question, retrieval, tokenizer, calibration)
    snapshot = retrieval.snapshot
    focus_sections = {
        (letter_id, top.start) for letter_id, pos in focus_cited
        if letter_id in snapshot.letters and (top := _top_section(snapshot.letters[letter_id], pos))
    }
    if question.is_list:
        passages = max(passages, 30)
    about_letter = bool(_ABOUT_LETTER.search(question.text))
    now = bool(re.search(r"现在|目前|现状|进展|到哪一步|什么程度", question.text))
    seen: set[tuple[str, int, int]] = set()
    found: list[Evidence] = []
    for rank, passage in enumerate(retrieval.passages[:passages], start=1):
        letter = snapshot.letters[passage.letter_id]
        identity = scorer.identity(letter)
        lo, hi = _scope(letter, passage)
        for start, end in sentence_spans(letter.text, lo, hi):
            if (letter.id, start, end) in seen:
                continue
            seen.add((letter.id, start, end))
            top = _top_section(letter, start)
            sentence = letter.text[start:end]
            if _is_heading_line(top, start, sentence) or len(sentence.strip("。；;，, ")) < 6:
                continue  # a section heading or a stray fragment, not an answer
            line_start = letter.text.rfind("\n", 0, start) + 1
            paragraph = letter.text[line_start:end]
            heading = scorer.norm(_heading_path(letter, start, end))
            before = scorer.norm(letter.text[max(line_start, start - 80):start])
            simple = scorer.tokenizer.normalize(sentence)
            hay = scorer.norm(sentence)
            restates = bool(_ACKNOWLEDGEMENT.search(simple) or _SUGGESTION_FIELD.match(paragraph))
            courtesy = (bool(_COURTESY.search(simple)) or bool(top and top.kind == "closing")) and not about_letter
            evidence = Evidence(
                letter_id=letter.id, start=start, end=end, text=sentence, passage_rank=rank,
                coverage=scorer.coverage(scorer.weights, hay + "|" + heading + "|" + identity + "|" + before),
                asked_coverage=scorer.coverage(scorer.asked_weights, hay + "|" + heading),
                type_ok=scorer.type_ok(simple, hay, scorer.tokenizer.normalize(paragraph[:8])),
                focus_ok=scorer.focus_ok(simple, hay),
                year_conflict=not scorer.years_ok(simple, paragraph + "|" + heading),
                missing=tuple(
                w for w in (*scorer.specific, *question.required)
                if w not in hay and w not in identity and w not in heading
            ) + tuple(w for w in scorer.places if w not in snapshot.searchable.get(letter.id, "")),
                section="restatement" if restates else "courtesy" if courtesy else (top.kind if top else "body"),
            )
            outside = not (passage.start <= start and end <= passage.end)
            focus_section = bool(top and (letter.id, top.start) in focus_sections)
            plan = bool(
                _NEXT_PARA.search(scorer.tokenizer.normalize(paragraph[:8]))
                or re.search(r"下一步|下步|今后", scorer.tokenizer.normalize(letter.text[max(start - 10, 0):end]))
            )
            strong = _STRONG.get(question.kind)
            evidence.score = (
                0.5 * evidence.coverage
                + 0.4 * evidence.asked_coverage
                + 0.1 / rank
                + (0.05 if passage.dense_rank == 1 else 0.0)
                - (0.05 if outside else 0.0)
                - (0.3 if restates or courtesy else 0.0)
                + (0.2 if question.kind == "next_steps" and plan else 0.0)
                + (0.05 if strong and strong.search(simple) else 0.0)
                + (0.05 if now and re.search(r"目前|现已|已经|已", simple) else 0.0)
                + (0.2 if letter.id in focus_letters else 0.0)
                + (0.1 if focus_section and (letter.id, start) not in focus_cited else 0.0)
            )
            found.append(evidence)
    found.sort(key=lambda e: (not e.valid, -e.score))
    return found


_WHO_REPLIED = re.compile(
    r"(?:哪个|什么|哪)(?:单位|部门|机构)(?:答复|回复|办理|承办)|由谁答复|谁答复的|答复单位|承办单位|办理单位"
)
_WHEN_REPLIED = re.compile(r"(?:什么时候|何时|哪天|哪一天)(?:答复|回复|发出|印发)|答复(?:日期|时间)|落款日期")
_FACT_WORDS = frozenset("部门 单位 机构 答复 回复 办理 承办 日期 时间 联系人 联系 电话 方式 落款 哪天".split())
_CONTACT_ASKED = re.compile(r"联系人|联系电话|联系方式|找谁联系|怎么联系")


def _letter_fact(
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
    scorer = _Scorer(question, retrieval, tokenizer, Calibration())
    best: tuple[float, ReplyLetter] | None = None
    anchors = {w: weight for w, weight in scorer.weights.items() if w not in _FACT_WORDS and len(w) >= 2}
    for passage in retrieval.passages[:5]:
        letter = snapshot.letters[passage.letter_id]
        cover = scorer.coverage(anchors, scorer.identity(letter) + "|" + snapshot.searchable.get(letter.id, ""))
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
    return True, f"《{display_title(letter)}》的{what}：“{citation.quote}”[1]", [citation]


def dense_rescue(
    question: Question,
    retrieval: Retrieval,
    evidence: list[Evidence],
    calibration: Calibration,
    embed_documents: Callable[[list[str]], np.ndarray],
) -> Evidence | None:
    """The answer to a reworded question when word overlap found none: rank the sentences of
    the best passages by meaning and take the first valid one, if it ranks high enough."""
    if question.is_list or retrieval.query_vector is None:
        return None
    pool = [e for e in evidence if e.passage_rank <= 3][:16]
    if not any(e.valid and e.coverage >= calibration.rescue_min_coverage for e in pool):
        return None
    sims = embed_documents([e.text for e in pool]) @ retrieval.query_vector
    order = sorted(range(len(pool)), key=lambda i: -float(sims[i]))
    for i in order[: calibration.rescue_max_rank]:
        e = pool[i]
        if e.valid and e.coverage >= calibration.rescue_min_coverage and e.passage_rank <= 2:
            e.score = max(e.score, calibration.min_score)
            return e
    return None


def answer_from_evidence(
    question: Question,
    retrieval: Retrieval,
    evidence: list[Evidence],
    calibration: Calibration,
    tokenizer: ChineseTokenizer | None = None,
) -> tuple[bool, str, list[Citation]]:
    if tokenizer is not None and question.is_list:
        return _list_answer(question, retrieval, evidence, calibration, tokenizer)
    if tokenizer is not None:
        fact = _letter_fact(question, retrieval, tokenizer)
        if fact is not None:
            return fact
    valid = [e for e in evidence if e.valid]
    if not valid or valid[0].score < calibration.min_score:
        return False, NOT_FOUND, []
    best = valid[0]
    chosen = [best]
    for e in valid[1:6]:
        if (
            e.letter_id == best.letter_id
            and e.score >= best.score - 0.08
            and abs(e.start - best.start) < 300
            and len(chosen) < 3
        ):
            chosen.append(e)
    chosen.sort(key=lambda e: e.start)
    letter = retrieval.snapshot.letters[best.letter_id]
    spans = [(e.start, e.end) for e in chosen]
    if question.kind == "next_steps":
        spans = [_plan_span(letter.text, spans[0][0], spans[-1][1]), *spans[1:]] if len(spans) == 1 else spans
    citations = [make_citation(i, letter, a, b) for i, (a, b) in enumerate(_merge_spans(spans), start=1)]
    quotes = "".join(f"“{c.quote}”[{c.n}]" for c in citations)
    who = f"{letter.issuer}在" if letter.issuer else ""
    return True, f"{who}《{display_title(letter)}》中答复：{quotes}", citations


def _plan_span(text: str, start: int, end: int, limit: int = 300) -> tuple[int, int]:
    """A plan is usually a paragraph of several sentences: quote on while it stays short."""
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    for _, e in sentence_spans(text, end, line_end):
        if e - start > limit:
            break
        end = e
    return start, end


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


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
            (w, flag) for w, flag in posseg.cut(tokenizer.normalize(part)) if len(w) >= 2 and w not in QUESTION_WORDS
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
    scorer = _Scorer(question, retrieval, tokenizer, calibration)
    topics = [
        {w: scorer.weights.get(w) or scorer.weight_of(w) for w in topic} for topic in list_topics(question, tokenizer)
    ]
    if not topics:
        return False, NOT_FOUND, []
    best_by_letter: dict[str, tuple[float, bool, int, Evidence]] = {}
    for e in evidence:
        if e.section == "courtesy":
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
        key = (round(cover, 1), not restating and e.section not in ("restatement", "preamble"), -e.start)
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
        letter = retrieval.snapshot.letters[e.letter_id]
        citation = make_citation(i, letter, e.start, e.end)
        citations.append(citation)
        who = "，".join(x for x in (letter.issuer, chinese_date(letter.date)) if x)
        label = f"《{display_title(letter)}》" + (f"（{who}）" if who else "")
        lines.append(f"{i}. {label}：“{citation.quote}”[{i}]")
    return True, f"共找到 {len(chosen)} 份相关答复：\n" + "\n".join(lines), citations


def rerank(retrieval: Retrieval, evidence: list[Evidence]) -> list[Passage]:
    """Passages holding the best valid evidence first, then the rest in retrieval order."""
    best: dict[int, float] = {}
    for e in evidence:
        if not e.valid:
            continue
        for i, p in enumerate(retrieval.passages):
            if p.letter_id == e.letter_id and p.start <= e.start and e.end <= p.end:
                best[i] = max(best.get(i, -1.0), e.score)
    order = sorted(range(len(retrieval.passages)), key=lambda i: (i not in best, -best.get(i, 0.0), i))
    return [retrieval.passages[i] for i in order]


def leads(retrieval: Retrieval, limit: int = 3) -> list[Lead]:
    out: list[Lead] = []
    for passage in retrieval.passages:
        if any(lead.letter == passage.letter_id for lead in out):
            continue
        letter = retrieval.snapshot.letters[passage.letter_id]
        out.append(Lead(letter=letter.id, title=display_title(letter), issuer=letter.issuer, date=letter.date))
        if len(out) == limit:
            break
    return out


def retrieved_items(retrieval: Retrieval, passages: list[Passage] | None = None) -> list[RetrievedItem]:
    items = []
    for p in passages if passages is not None else retrieval.passages:
        letter = retrieval.snapshot.letters[p.letter_id]
        section = section_at(letter, p.start, p.end)
        items.append(RetrievedItem(
            letter=p.letter_id, title=display_title(letter), section=section_key(section) if section else "正文",
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
