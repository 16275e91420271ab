"""Signals of one candidate sentence against the question: how much of it the sentence covers
(words weighted by rarity, sub-words counted in part), whether it holds the asked type of
answer (a sum in 元 for 多少钱, a count in the asked measure, a date, a plan), whether it is about
the asked thing, year and places.

These are inputs to the fitted ranker (`features`), and a few of them — the answer type of a
number, money or date question, a year the question names, a place no letter of the answer
names — are also hard filters, because a sentence failing them cannot be the answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from assistant.ask.question import YEAR, Kind, Question
from assistant.ask.retrieve import Retrieval
from index.reading.letter import ReplyLetter
from index.tokenizer import ChineseTokenizer
from index.vocab import load_vocabulary, table

_VOCAB = load_vocabulary(Path(__file__).with_name("vocab") / "evidence.toml")
_MONEY_WORDS = frozenset(_VOCAB["money_words"])
_MONEY_KINDS = tuple(frozenset(kind) for kind in table(_VOCAB, "money_kinds").values())
_ADMIN_AFTER = r"(?:省|市|县|区|州|盟|旗|镇|乡|村|街道)"
"""An administrative suffix right after a word of the question (jieba cuts 临江县 as 临江 + 县)."""
SPECIFIC_LETTERS = 2
"""A word in at most this many letters names something specific (a place, a project)."""

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
_ADMIN_SUFFIX = re.compile(r"(?<=[\u4e00-\u9fff]{2})(?:省|市|县|区|州|盟|旗|镇|乡|村|街道)$")
_FUTURE = re.compile(r"下一步|下步|今后|接下来|将|计划|拟|力争|争取|继续|进一步|逐步|加快|推动|推进|着力|积极")
_NEXT_PARA = re.compile(r"^(?:下一步|下步|今后|接下来|后续|同时|此外)")
_ABOUT_LETTER = re.compile(
    r"联系人|联系电话|联系方式|签发|哪个单位答复|谁答复|答复日期|什么时候答复|何时答复|承办单位|哪个部门答复"
)



@dataclass
class Scorer:
    question: Question
    retrieval: Retrieval
    tokenizer: ChineseTokenizer
    weights: dict[str, float] = field(default_factory=dict)
    asked_weights: dict[str, float] = field(default_factory=dict)
    specific: set[str] = field(default_factory=set)
    """Rare places and names of the asked part: the sentence itself (or its letter's identity) must name them."""
    places: set[str] = field(default_factory=set)
    """All places and names of the asked part: the answer's letter must name them somewhere."""
    administrative: set[str] = field(default_factory=set)
    """Of those, the ones the question names with an administrative suffix (青岛 of 青岛市):
    certainly places, unlike much of what jieba tags as one."""
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
            if core != word or re.search(re.escape(core) + _ADMIN_AFTER, self.tokenizer.normalize(self.question.text)):
                self.administrative.add(core)
            if 1 <= snapshot.letter_count(core) <= SPECIFIC_LETTERS:
                self.specific.add(core)

    def weight_of(self, word: str) -> float:
        bm25 = self.retrieval.snapshot.bm25
        return bm25.idf(word) or self._subword_idf(word) or math.log1p((len(bm25) + 0.5) / 0.5)

    def _subword_idf(self, word: str) -> float:
        bm25 = self.retrieval.snapshot.bm25
        return max((bm25.idf(sub) for sub in self.tokenizer.subwords(word)), default=0.0)

    def norm(self, text: str) -> str:
        return self.tokenizer.compact(text)

    def identity(self, letter: ReplyLetter) -> str:
        if letter.id not in self.identities:
            self.identities[letter.id] = self.norm(letter.identity_text())
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
