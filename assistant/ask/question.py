"""What a question asks for: the kind of answer, the thing asked about, and the words the
evidence has to contain.

Staff ask for amounts (投资多少), counts (几家), dates (什么时候), people or units (谁负责), places
(选址在哪), reasons (为什么), plans (下一步), the state of things (进展到哪一步), or ask which letters
mention something (哪些答复提到了…). The kind decides what a sentence must hold to answer (a sum
of money, a date, …); the focus (票价 in 票价是多少) is what the number must be a number of.
A question often first says which letter it means (`郑州中医药博物馆提案的答复里提到，…`,
`第122号建议（水塘铺村卫生室重建）的…`); words there only have to be in the letter, while the
words of the asked part have to be in the answer or in what identifies its letter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from index.tokenizer import ChineseTokenizer
from index.vocab import load_vocabulary, table

_VOCAB = load_vocabulary(Path(__file__).with_name("vocab") / "question.toml")
QUESTION_WORDS = frozenset(_VOCAB["question_words"])
UNIT_KIND_WORDS = frozenset(_VOCAB["unit_kind_words"])
_UNITS = _VOCAB["required_units"]
"""Units an answer must carry when the question names them (see the vocabulary file)."""
_UNIT_OF = table(_VOCAB, "unit_of")
_CLASSIFIERS = tuple(table(_VOCAB, "classifiers").values())
_DURATION_UNITS = _VOCAB["measures.duration"]

Kind = Literal["list", "next_steps", "money", "number", "date", "who", "where", "why", "status", "general"]

YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
"""A year as letters and questions write it (`2019年`); the group is the year."""
_LIST = re.compile(
    r"(?:哪些|哪几份|哪几封|有哪些|哪几个|哪几件)(?:答复|复函|回复|信件|函|文件)"
    r"|(?:答复|复函|回复)(?:有哪些|是哪些|有哪几份|有哪几封)"
    r"|哪些.{0,8}(?:答复|复函|回复)|(?:答复|复函|回复)(?:中|过)?(?:有|是)?哪(?:些|几)"
    r"|几(?:封|份|件)(?:答复|复函|回复)"
)
_NEXT = re.compile(
    r"下一步|下步|今后|后续|接下来|计划怎么|如何推进|怎么安排|如何安排|有什么安排|有何安排|有什么考虑|怎么推进"
    r"|后面怎么|怎么打算|如何打算|有什么打算|什么打算|打算怎么"
)
_MONEY = re.compile(
    r"多少钱|投资(?:了|额)?(?:多少|几)|资金(?:有|是)?多少|预算(?:是|有)?多少|多少预算|费用|补贴(?:了)?多少|"
    r"补助(?:了)?多少|花(?:了)?多少|多少(?:万|亿)|总投资|经费(?:有|是)?多少|拨款多少|多少资金|多少经费|多少补助"
)
_WHICH_FEW = r"(?<![哪这那好前近最])"
"""几 in 哪几个 / 这几年 / 前几年 asks which, or means "these": not how many."""
_NUMBER = re.compile(
    rf"多少|{_WHICH_FEW}几(?=[\u4e00-\u9fff])|多长|多大|多高|多宽|多远|多深|面积|比例|占比|百分之|几成"
)
_DATE = re.compile(r"什么时候|何时|哪年|哪一年|几月|哪天|哪一天|什么时间|几号|日期|何日|哪个月|截至什么")
_DURATION = re.compile(
    rf"多久|多长时间|多少天|{_WHICH_FEW}几天|{_WHICH_FEW}几年|{_WHICH_FEW}几个月|多少年|多少个月|{_WHICH_FEW}几周|"
    rf"多少个工作日|{_WHICH_FEW}几个工作日|多少小时"
)
_WHO = re.compile(
    r"谁|哪位|负责人|哪个(?:部门|单位|机构)|哪些(?:部门|单位|机构)|由谁|什么人|组长|牵头|哪些单位|和哪些|与哪些"
)
_WHERE = re.compile(r"在哪|哪里|什么地方|选址|位置|哪个(?:村|组|镇|乡|地方|路段|位置)|在什么地方|哪儿")
_WHY = re.compile(r"为什么|为何|原因|怎么回事|卡在|落不了|开不了")
_STATUS = re.compile(
    r"进展|到哪一步|什么程度|怎么样了|批了没有|批了吗|同意吗|是否|有没有|能不能|能否|同不同意|态度|批下来|完成了吗"
    r"|算不算|吗[？?]?$|什么标准|什么办法|什么措施"
)
_IDENTIFICATION = re.compile(
    r"^(?P<id>.{4,60}?(?:那份答复|这份答复|的答复里|的答复中|答复里|答复中|答复时|回复时|答复说|的复函里|"
    r"建议里|建议中|提案里|提案中|建议时|提案时|代表时|委员时|的事|这件事|的问题上|那份|那个)"
    r"|[\u4e00-\u9fff]{2,16}?(?:局|厅|委|委员会|政府|部|办|中心|公司|街道)(?:就|对|关于))(?:[，,：:]|提到|说|时)?"
)
_ASIDE = re.compile(r"[（(][^（）()]{1,40}[）)]")
_FOCUS_BEFORE = re.compile(r"([\u4e00-\u9fffA-Za-z0-9]{1,14}?)(?:是|有|为|达到|一共有|共有|总共|大概|大约)?(?:多少|几)")
_FOCUS_AFTER = re.compile(
    r"(?:多少|几)(?:个|家|座|名|所|辆|条|处|项|次|户|间|类|种|批|位|份|张|台|亩|人)?([\u4e00-\u9fffA-Za-z0-9]{1,14})"
)
_CLASSIFIER_IN_QUESTION = re.compile(
    r"(?:多少|几)(个月|个工作日|工作日|小时|分钟|名|人|位|本|册|年|月|天|日|周|亩|户|辆|台|次|班|张|床)"
)
_CLAUSE = re.compile(r"[，,；;：:]")
_SUBQUESTION = re.compile(r"[？?]")
_PROPER = frozenset({"ns", "nr", "nrt", "nrfg"})
"""Places and names. Organisations are left out: they are named many ways (卫健委, 卫生健康委员会)."""



@dataclass(frozen=True)
class Question:
    text: str
    kind: Kind
    words: tuple[str, ...]
    """Content words of the whole question (simplified, jieba precise mode)."""
    asked: tuple[str, ...]
    """The content words outside the part that only identifies the letter."""
    focus: str | None
    """What a number/amount/date question asks the number of (`票价`, `托位`, `游客`)."""
    units: tuple[str, ...]
    """Units the answer must carry (`公里` for 多少公里, `元` for 多少钱)."""
    years: tuple[str, ...]
    proper: tuple[str, ...] = ()
    """Proper-noun-like words of the asked part (places, names, organisations): an answer has
    to name them, or its letter has to (`青岛` in 2019年青岛市建成了多少个5G基站)."""
    event: str | None = None
    """For 什么时候 questions, what is to happen (完工, 建成, 施行)."""
    required: tuple[str, ...] = ()
    """Words an answer must contain (what a `那X呢` follow-up puts in focus)."""
    classifier: tuple[str, ...] = ()
    """For 多少名/几年/多少本 questions, the measure words the answer's number must carry
    (名 is answered by 人 or 位 too: `1196人` answers 多少名保洁员)."""

    asked_text: str = ""
    """The asked part as written (for a follow-up, its own words, not the topic it borrows)."""
    duration: bool = False
    """多久 / 多长时间: often answered without a number (需要一个过程), so its type is not required."""

    @property
    def is_list(self) -> bool:
        return self.kind == "list"

    def with_kind(self, kind: Kind) -> Question:
        return replace(self, kind=kind)


_BY_POSITION: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("next_steps", _NEXT), ("money", _MONEY), ("number", _DURATION), ("date", _DATE),
    ("who", _WHO), ("where", _WHERE), ("number", _NUMBER), ("why", _WHY),
)


_LIST_WORDS = re.compile(
    r"哪些|哪几份|哪几封|哪几个|有哪些|是哪些|答复|复函|回复|信件|涉及到?|提到了?|提及|谈到|说到|是关于|关于|有关|"
    r"代表委员|代表|委员|建议|提案|某条|某个|某些|方面|问题|的|了|是|中|里|呢|吗|[？?。]"
)


def without_list_words(text: str) -> str:
    """What a list question lists letters for, without its 哪些答复…提到了 frame."""
    return _LIST_WORDS.sub(" ", text)


def question_kind(text: str) -> Kind:
    """A list question (哪些答复…) is one whatever else it asks; otherwise the question word that
    comes last decides (a Chinese question puts what it asks at its end: 下一步还要投资多少 asks
    an amount, 这几个嘎查的路为什么修不成 a reason), earlier patterns winning ties; 吗/能不能
    questions are about the state of things only when nothing more specific is asked."""
    if _LIST.search(text):
        return "list"
    best: tuple[tuple[int, int], Kind] | None = None
    for priority, (kind, pattern) in enumerate(_BY_POSITION):
        for m in pattern.finditer(text):
            key = (m.end(), -priority)
            if best is None or key > best[0]:
                best = (key, kind)
    if best is not None:
        return best[1]
    return "status" if _STATUS.search(text) else "general"


def _content(words: list[str]) -> list[str]:
    return list(dict.fromkeys(w for w in words if w not in QUESTION_WORDS and len(w.strip()) >= 1))


def _focus(text: str, kind: Kind, tokenizer: ChineseTokenizer) -> str | None:
    if kind not in ("number", "money", "date"):
        return None
    norm = tokenizer.normalize(text)
    m = _FOCUS_AFTER.search(norm)
    if m:
        content = [w for w in tokenizer.words(m.group(1)) if w not in QUESTION_WORDS and len(w) >= 2]
        if content:
            return content[-1]
        if len(m.group(1)) == 1 and m.group(1) not in "个元钱":
            return m.group(1)
    m = _FOCUS_BEFORE.search(norm)
    if m:
        words = [w for w in tokenizer.words(m.group(1)) if w not in QUESTION_WORDS and len(w) >= 2]
        if words:
            return words[-1]
    return None


def asked_part(text: str) -> str:
    """The part of a question that asks, without what only says which letter is meant: asides in
    brackets, a leading `…的答复里`, and the clauses before the last one of each sub-question
    (`丘陵山区代表希望…提到六成，农业部同意吗？` asks about 农业部同意吗)."""
    text = _ASIDE.sub("", text)
    m = _IDENTIFICATION.match(text)
    if m and len(text) - m.end() >= 4:
        text = text[m.end():]
    parts = []
    for sub in _SUBQUESTION.split(text):
        clauses = [c for c in _CLAUSE.split(sub) if c.strip()]
        if clauses:
            parts.append(clauses[-1] if len(clauses[-1]) >= 4 or len(clauses) == 1 else "".join(clauses[-2:]))
    return "，".join(parts) or text


def _proper_words(text: str, tokenizer: ChineseTokenizer) -> list[str]:
    norm = tokenizer.normalize(text)
    return list(dict.fromkeys(
        w for w, flag in tokenizer.tag(norm)
        if flag in _PROPER and len(w) >= 2 and re.search(r"[\u4e00-\u9fff]", w) and w[0] not in "和与及的在对向把跟同"
        and w not in QUESTION_WORDS
    ))


_EVENT = re.compile(
    r"(?:什么时候|何时|哪年|哪一年|哪天|哪一天|什么时间|几月|哪个月)"
    r"(?:能|可以|才能|会|将|要|开始|前)?([\u4e00-\u9fff]{1,4})"
)


def analyse(
    text: str,
    tokenizer: ChineseTokenizer,
    kind: Kind | None = None,
    *,
    asked: str | None = None,
    required: tuple[str, ...] = (),
) -> Question:
    """`asked` overrides what counts as the asked part (a follow-up's own words)."""
    asked_text = asked_part(asked if asked else text)
    if kind is None:
        kind = question_kind(text)
        if kind != "list":
            asked_kind = question_kind(asked_text)
            kind = asked_kind if asked_kind != "general" else kind
    words = _content(tokenizer.words(text))
    asked_words = _content(tokenizer.words(asked_text))
    units = tuple(u for u in _UNITS if re.search(f"(?:多少|几)\\s*{re.escape(u)}", text))
    if kind == "money" and "元" not in units:
        units = (*units, "元")
    focus = _focus(asked_text, kind, tokenizer)
    for word, unit_set in _UNIT_OF.items():
        if not units and (word in (focus or "") or (word.startswith(("几", "比", "占")) and word in asked_text)):
            units = unit_set
    # Plans look ahead: a year borrowed from the previous question does not date them.
    year_text = asked if asked and kind == "next_steps" else text
    years = tuple(dict.fromkeys(YEAR.findall(year_text)))
    classifier: tuple[str, ...] = ()
    m = _CLASSIFIER_IN_QUESTION.search(asked_text)
    if m:
        word = m.group(1).removeprefix("个")
        classifier = next((group for group in _CLASSIFIERS if word in group), (word,))
    elif re.search(r"多久|多长时间", asked_text):
        classifier = _DURATION_UNITS
    event = None
    if kind == "date":
        m = _EVENT.search(tokenizer.normalize(asked_text))
        if m:
            event = m.group(1).rstrip("的了吗呢")
    needed = tuple(tokenizer.normalize(r) for r in required)
    return Question(text=text, kind=kind, words=tuple(words), asked=tuple(asked_words), focus=focus, units=units,
                    years=years, proper=tuple(_proper_words(asked_text, tokenizer)), event=event or None,
                    required=needed, classifier=classifier, duration=bool(_DURATION.search(asked_text)),
                    asked_text=asked_text)
