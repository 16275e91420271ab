"""Questions about the letter itself — who replied, when, to whom, under which number, about
which suggestion, with which document number, whom to contact — answered from the parsed fields
and quoted from the line where the letter states them (its signature, date line, salutation,
heading, 文号 or `key：value` line), never from its body.

Which field is asked is grammar (谁答复的, 哪天, 第几号, 哪位代表, 什么建议, 文号). Which letter is
meant is read from what the question names (its place, unit, deputy, topic), or, for a
follow-up that names nothing (这件是谁办的？), the letter the conversation is about. A question
naming the key of one of the letter's own field lines (交办日期, 签发, 承办单位) is answered by
that line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from assistant.ask.citation import Citation, make_citation
from assistant.ask.question import Question
from assistant.ask.retrieve import Retrieval
from assistant.ask.signals import Scorer
from index.reading.dates import DATE_PATTERN, parse_date
from index.reading.fields import stated_category
from index.reading.letter import ReplyLetter
from index.tokenizer import ChineseTokenizer
from index.vocab import load_vocabulary

_VOCAB = load_vocabulary(Path(__file__).with_name("vocab") / "evidence.toml")
_FACT_WORDS = frozenset(_VOCAB["letter_fields.question_words"])
_GENERIC_KEYS = frozenset(_VOCAB["letter_fields.generic_keys"])

_FIELDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("doc_number", re.compile(r"文号|发文字号|函号|文件号")),
    ("contact", re.compile(r"联系人|联系电话|联系方式|找谁联系|怎么联系|电话是多少|电话多少|什么电话|承办人|经办人")),
    ("number", re.compile(r"第几号|几号建议|几号提案|多少号|编号|哪次会议|几届几次|届次")),
    ("category", re.compile(
        r"(?:办理|答复|办复)(?:结果|情况)?(?:是|属于|为|算)?(?:几|哪|什么)(?:一)?类|[ABCabc]类还是|(?:办理|答复|办复)类别"
    )),
    ("addressee", re.compile(
        r"(?:哪位|哪个|哪些|哪几位|什么|几个|几位|几名)(?:代表|委员|人大代表|政协委员)|谁提的|谁提出|谁的建议|谁的提案|提案人|"
        r"答复(?:给)?(?:谁|哪位)|回复(?:给)?(?:谁|哪位)|复函给谁|(?:代表|委员)是谁|哪些代表|哪两位"
    )),
    ("issuer", re.compile(
        r"(?:哪个|什么|哪家|哪)(?:单位|部门|机构|局)(?:答复|回复|复函|办理|承办|办的|回的|发的)|由谁答复|谁答复|谁回复|"
        r"谁办的|谁回的|谁家(?:答复|回复|复函|办|回|发)|答复单位|承办单位|办理单位|落款(?:是)?(?:哪|什么)(?:个|些|几个)?单位|哪个单位发"
    )),
    ("date", re.compile(
        r"(?:什么时候|何时|哪天|哪一天|几号|哪年哪月|啥时候)(?:答复|回复|复函|发出|印发|回的|发的)|"
        r"答复(?:日期|时间)|落款(?:日期|时间)|(?:答复|回复)(?:是)?(?:哪天|什么时候)|哪天(?:的)?(?:答复|回复|复函)"
    )),
    ("suggestion", re.compile(
        r"(?:什么|啥|哪个|哪条|哪一个)(?:样的)?(?:建议|提案)|提的(?:是)?(?:什么|啥)|建议(?:的)?(?:题目|标题|名称|内容)|"
        r"答复(?:的)?(?:是)?(?:什么|哪个)(?:建议|提案)|提案(?:的)?(?:题目|标题|名称)"
    )),
)
WHAT = {
    "issuer": "答复单位", "date": "答复日期", "addressee": "提出建议的代表或委员", "number": "建议（提案）编号",
    "suggestion": "所答复的建议（提案）", "doc_number": "文号", "contact": "联系方式", "category": "办理结果类别",
}
_FIELD_LINE = re.compile(r"^\s*(?P<key>[\u4e00-\u9fff]{2,10})\s*[:：|]\s*(?P<value>\S.{0,80})$")
_CONTACT_LINE = re.compile(r"[（(]?(?:联系人|联系电话|联系方式|承办人|经办人)[^\n]*")
_PHONE = re.compile(r"(?:电话|手机|联系方式)[:：]?\s*[\d－—-]{7,}")
"""A phone number given in a sentence (请与…科联系，电话：67228017), where no contact line is."""
_PERSON = re.compile(r"[\u4e00-\u9fff]{2,4}(?:等\d*名?)?(?:代表|委员|委員)(?![会會])")
"""A deputy or member named in the text, for a letter whose salutation was not parsed."""
_ANCHOR_MIN = 0.5
"""Share of the question's naming words its letter must hold for a field answer to be given."""


@dataclass(frozen=True)
class FieldQuestion:
    field: str | None
    """The parsed field asked for, or None when only a field line's key is named."""
    key_words: tuple[str, ...]
    """Content words of the question that may name a field line's key (交办, 签发)."""


_WH = re.compile(r"哪(?:几|些)?(?:个|位|家|天|类|处|年)?|谁|什么时候|几(?:位|个|家|类|号)|多少号")
"""A question word that a field line's value can answer (哪几个单位承办的 → 承办单位：…)."""

_REPLY_EVENT = re.compile(r"^(?:答复|回复|复函|回|答|复|发|印发|签发)")
"""What happens at a date asked for (Question.event) when the date asked is the letter's own."""


def asked_field(question: Question, tokenizer: ChineseTokenizer) -> FieldQuestion | None:
    text = tokenizer.normalize(question.asked_text or question.text)
    field = next((name for name, pattern in _FIELDS if pattern.search(text)), None)
    if field is None and question.kind == "date" and not question.years and (
        question.event is None or _REPLY_EVENT.match(question.event)
    ):
        field = "date"  # 那件是哪天？ — nothing is said to happen then but the reply itself
    keys = tuple(w for w in tokenizer.words(text) if len(w) >= 2 and w not in _GENERIC_KEYS)
    if field is None and not _WH.search(text):
        return None
    return FieldQuestion(field, keys)


def _line_span(text: str, pos: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    end = len(text) if end == -1 else end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def find_line(text: str, value: str, *, last: bool = False, limit: int = 300) -> tuple[int, int] | None:
    """The line holding `value` (its last occurrence when `last`), or the value alone when the
    line is too long to quote."""
    pos = text.rfind(value) if last else text.find(value)
    if pos < 0 or not value:
        return None
    start, end = _line_span(text, pos)
    if end - start > limit:
        return pos, pos + len(value)
    return start, end


def _field_line(letter: ReplyLetter, keys: tuple[str, ...], tokenizer: ChineseTokenizer) -> tuple[int, int] | None:
    """A `key：value` line of the letter whose key the question names (交办日期 for 哪天交办的).
    Not among the page's information lines: any question word may be part of a page key
    (几家托育机构 is no question about 发布机构); those lines answer only the fields asked by name."""
    pos = 0
    for line in letter.body.split("\n"):
        m = _FIELD_LINE.match(line)
        if m:
            key = tokenizer.normalize(m["key"])
            if any(k in key or (len(key) >= 2 and key in k) for k in keys):
                return pos + m.start(), pos + len(line.rstrip())
        pos += len(line) + 1
    return None


def _date_span(letter: ReplyLetter, text: str) -> tuple[int, int] | None:
    if not letter.date:
        return None
    closing_from = next((s.start for s in letter.sections if s.kind == "closing"), max(len(text) - 200, 0))
    for lo in (closing_from, 0):
        hits = [m for m in DATE_PATTERN.finditer(text, lo) if parse_date(m.group(0)) == letter.date]
        if hits:
            return _line_span(text, hits[-1].start()) if lo else (hits[-1].start(), hits[-1].end())
    return None


def field_span(letter: ReplyLetter, field: str) -> tuple[int, int] | None:
    """Where the letter states one of its parsed fields: in its own text, else in the page's
    information lines after it (a 发布机构 or 文号 the letter itself does not state)."""
    span = _span_in(letter, field, letter.body)
    if span is None and letter.page_info_start is not None:
        span = _span_in(letter, field, letter.text)
    return span


def _span_in(letter: ReplyLetter, field: str, text: str) -> tuple[int, int] | None:
    value = getattr(letter, field, None) if field not in ("suggestion", "contact") else None
    if field == "issuer":
        return find_line(text, letter.issuer or "", last=True) if letter.issuer else None
    if field == "date":
        return _date_span(letter, text)
    if field == "addressee":
        if letter.addressee:
            return find_line(text, letter.addressee)
        m = _PERSON.search(text)
        return find_line(text, m.group()) if m else None
    if field == "number" and letter.number:
        return find_line(text, letter.number) or find_line(text, letter.number.strip("第号"))
    if field == "suggestion" and letter.suggestion_title:
        pos = text.find(letter.suggestion_title)
        if pos >= 0:
            return find_line(text, letter.suggestion_title) or (pos, pos + len(letter.suggestion_title))
        return None
    if field == "doc_number" and value:
        return find_line(text, str(value))
    if field == "category" and value:
        pos = 0
        for line in text.split("\n"):  # the line the parser read it from
            if stated_category(line) == value:
                return _line_span(text, pos)
            pos += len(line) + 1
        return None
    if field == "contact":
        m = _CONTACT_LINE.search(text) or _PHONE.search(text)
        if m is None:
            return None
        start, end = _line_span(text, m.start())
        return (start, end) if end - start <= 120 else (m.start(), m.end())
    return None


def _letter_asked(
    question: Question, retrieval: Retrieval, tokenizer: ChineseTokenizer, focus_letters: tuple[str, ...]
) -> ReplyLetter | None:
    """The letter the question names best among the top passages' letters; a question that
    names nothing (a follow-up) means the letter in focus."""
    snapshot = retrieval.snapshot
    scorer = Scorer(question, retrieval, tokenizer)
    anchors = {w: weight for w, weight in scorer.weights.items() if w not in _FACT_WORDS and len(w) >= 2}
    best: tuple[float, ReplyLetter] | None = None
    for passage in retrieval.passages[:5]:
        letter = snapshot.letter(passage.letter_id)
        cover = scorer.coverage(anchors, scorer.identity(letter) + "|" + snapshot.searchable_text(letter.id))
        if best is None or cover > best[0]:
            best = (cover, letter)
    if anchors and best is not None and best[0] >= _ANCHOR_MIN:
        return best[1]
    focus = [i for i in focus_letters if snapshot.has_letter(i)]
    if focus and (not anchors or best is None or best[0] < _ANCHOR_MIN):
        return snapshot.letter(focus[0])
    return None


def letter_fact(
    question: Question,
    retrieval: Retrieval,
    tokenizer: ChineseTokenizer,
    *,
    focus_letters: tuple[str, ...] = (),
) -> tuple[bool, str, list[Citation]] | None:
    """The answer to a question about the letter itself, or None when it is not one (or the
    letter does not state what is asked: the content answer may still hold it)."""
    asked = asked_field(question, tokenizer)
    if asked is None or not retrieval.passages:
        return None
    letter = _letter_asked(question, retrieval, tokenizer, focus_letters)
    if letter is None:
        return None
    span = _field_line(letter, asked.key_words, tokenizer)
    what = "相关字段"
    if span is None and asked.field is not None:
        span = field_span(letter, asked.field)
        what = WHAT[asked.field]
    elif span is not None:
        what = tokenizer.normalize(letter.text[span[0]:span[1]]).split("：")[0].split(":")[0]
    if span is None:
        return None
    citation = make_citation(1, letter, *span)
    return True, f"《{letter.display_title}》的{what}：“{citation.quote}”[1]", [citation]
