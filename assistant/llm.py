"""Answers written by an LLM (any OpenAI-compatible endpoint), checked sentence by sentence.

The model sees the top retrieved passages as numbered sources (one passage per source, number
= rank) and must cite each sentence with `[k]`. Its reply is streamed to the caller as it comes,
then parsed into sentences, and each sentence is verified against the source(s) it cites
(`assistant.verify`: its numbers, dates, titles and names must be in the cited passage or in
that letter's title/issuer/date).

Policy for sentences that fail — no marker, a marker out of range, or a fact not in the cited
span: they are **dropped** from the answer text, and the text ends with a note saying how many
were left out. Not flagged-and-kept: an answer is pasted into official drafts, and a flag such
as （未能核实） is easily lost in a copy while the wrong figure survives. So every sentence of
an LLM answer's text carries at least one citation, and every citation in `Answer.citations`
has `verified=True` and a quote for which `letter.text[start:end] == quote`; `verified=False`
never appears in LLM answers, and a UI that meets one must not present it as support.
When no sentence survives, or the model gave the not-found sentence, the answer is not found,
with leads, like an extractive one.

Quirks of llama-index 0.14's `OpenAILike` (llama-index-llms-openai-like 0.8) handled here:
- `stream_chat` returns a generator; the HTTP request is only made when it is first iterated,
  so errors surface inside the loop, not at the call.
- `max_retries` is used twice: by llama-index's tenacity decorator (stop after that many
  *attempts*, waits ≥ 1 s) and by the openai client (that many *retries*). With 1, llama-index
  tries once and the client retries once, so a dead endpoint fails in about a second.
  The decorator cannot retry a stream anyway (it wraps the function that returns the generator).
- Reasoning models served without a reasoning parser put `<think>…</think>` in the content;
  it is held back from the stream and removed before parsing.
"""

from __future__ import annotations

import functools
import logging
import re
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.llms.openai_like import OpenAILike

from assistant.answer import NOT_FOUND, Answer, leads, not_found_text, retrieved_items
from assistant.chat import Turn, rewrite_rules
from assistant.citation import (
    Citation,
    chinese_date,
    display_title,
    make_citation,
    section_at,
    section_key,
    section_words,
)
from assistant.question import question_kind
from assistant.retrieve import Filters, Passage, Retrieval, retrieve
from assistant.verify import (
    Fact,
    bigram_overlap,
    extract_facts,
    fact_in,
    has_content,
    looks_like_instruction,
    negated,
    normalize,
)
from index.reading.letter import ReplyLetter
from index.settings import Settings

if TYPE_CHECKING:
    from assistant.library import Snapshot
    from assistant.service import ReplyQA

log = logging.getLogger(__name__)

MAX_SOURCES = 6
"""Passages given to the model; more dilutes its attention more than it adds recall."""
MAX_QUOTE = 300
"""Longest quote of one citation, in characters."""
MIN_OVERLAP = 0.6
"""A sentence with no number or name to check must share this much of its wording (character
bigrams) with the quoted span."""
MAX_TOKENS = 1024

DROPPED_NOTE = "（另有{n}句模型生成的内容未能在所引答复中核实，已略去。）"
REJECTED_NOTE = "（模型生成的回答未能在所引答复中逐句核实，未予采用。）"
UNAVAILABLE_NOTE = "（大模型服务不可用：{reason}。以下为从答复原文中直接摘录的回答。）"

_MARK = r"[\[［【]\s*[0-9０-９]{1,3}(?:\s*[,，、]\s*[0-9０-９]{1,3})*\s*[\]］】]"
_MARK_RE = re.compile(_MARK)
_MARKS_RUN = re.compile(rf"(?:[ \t]*{_MARK})+")
_SENTENCE_END = re.compile(r"[。！？!?；;]+[”’」』）)]*|\n")
_TRAILING_END = re.compile(r"[。！？!?；;，,、]+[”’」』）)]*$")
_INNER_MARKS = re.compile(rf"(?:{_MARK})+[ \t]*[，,、]")
_LABEL = re.compile(
    r"^(?:[-*•·]\s*|\d{1,2}[.、．)）](?!\d)\s*|[（(]\d{1,2}[)）]\s*|[一二三四五六七八九十]{1,3}[、.．]\s*|\*\*)+"
)
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
_UNIT_END = re.compile(r"[。！？!?；;]+[”’」』）)]*|\n")
_CLAUSE_END = re.compile(r"[，,、：:]")
_CONDENSE_PREFIX = re.compile(r"^(?:改写后的问题|独立问题|完整问题|问题)[:：]\s*")


# --------------------------------------------------------------------------- prompts


def prompt_dir() -> Path:
    """The installed `prompts` folder. `importlib.resources.files("prompts")` fails on Python
    3.11 for this data-only (namespace) package in an editable install, so take the first real
    directory on the package path, or the folder next to `assistant/`."""
    try:
        import prompts

        for entry in prompts.__path__:
            if Path(entry).is_dir():
                return Path(entry)
    except ImportError:
        pass
    return Path(__file__).resolve().parents[1] / "prompts"


def load_prompt(name: str) -> str:
    """Read at every use, so an edited prompt takes effect without a restart."""
    return (prompt_dir() / f"{name}.txt").read_text(encoding="utf-8")


def fill(template: str, **values: str) -> str:
    """Replace `{name}` placeholders literally (other braces in a prompt stay as written)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


# --------------------------------------------------------------------------- the model


def make_llm(settings: Settings) -> OpenAILike:
    if not settings.llm_enabled:
        raise ValueError("no LLM endpoint configured (REPLYQA_LLM_BASE_URL, REPLYQA_LLM_MODEL)")
    return _llm(settings.llm_base_url, settings.llm_model, settings.llm_api_key or "none", settings.llm_timeout)


@functools.lru_cache(maxsize=8)
def _llm(base_url: str | None, model: str | None, api_key: str, timeout: float) -> OpenAILike:
    """One client per endpoint, reused across questions (its HTTP connection pool with it)."""
    return OpenAILike(
        model=model or "",
        api_base=base_url,
        api_key=api_key,
        is_chat_model=True,
        is_function_calling_model=False,
        timeout=timeout,
        max_retries=1,
        temperature=0.1,
        max_tokens=MAX_TOKENS,
        context_window=32768,
    )


def strip_think(text: str) -> str:
    return _THINK.sub("", text).strip() if "<think>" in text else text


def stream_reply(llm: OpenAILike, messages: Sequence[ChatMessage]) -> Iterator[str]:
    """The reply's text deltas as they arrive, without a leading `<think>…</think>` block."""
    held = ""
    thinking: bool | None = None  # None: not yet known whether the reply starts with <think>
    for response in llm.stream_chat(messages):
        delta = response.delta or ""
        if not delta:
            continue
        if thinking is False:
            yield delta
            continue
        held += delta
        stripped = held.lstrip()
        if thinking is None:
            if stripped.startswith("<think>"):
                thinking = True
            elif "<think>".startswith(stripped):
                continue
            else:
                thinking = False
                yield held
                continue
        if "</think>" in held:
            thinking = False
            rest = held.split("</think>", 1)[1].lstrip()
            if rest:
                yield rest
    if thinking is None and held:
        yield held


# --------------------------------------------------------------------------- condensing


def format_history(turns: Sequence[Turn], snapshot: Snapshot | None = None, limit: int = 4) -> str:
    """Earlier turns for the condense prompt: the question, and which letters its answer cited
    (the conversation's letter in focus)."""
    blocks = []
    for turn in list(turns)[-limit:]:
        lines = [f"用户问：{turn.question}"]
        if snapshot is not None:
            cited = [snapshot.letters[i] for i in turn.letters if i in snapshot.letters]
            for letter in cited:
                who = f"（{letter.issuer}）" if letter.issuer else ""
                lines.append(f"回答依据的答复：《{display_title(letter)}》{who}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def condense(
    llm: OpenAILike,
    question: str,
    turns: Sequence[Turn],
    *,
    fallback: str | None = None,
    snapshot: Snapshot | None = None,
) -> str:
    """The follow-up as one standalone question; on any LLM error (or an unusable reply) the
    `fallback` (the rules rewrite), else the question itself."""
    return _condense(llm, question, turns, fallback=fallback, snapshot=snapshot)[0]


def _condense(
    llm: OpenAILike,
    question: str,
    turns: Sequence[Turn],
    *,
    fallback: str | None = None,
    snapshot: Snapshot | None = None,
) -> tuple[str, Exception | None]:
    fallback = fallback or question
    if not turns:
        return question, None
    prompt = fill(load_prompt("condense"), history=format_history(turns, snapshot), question=question)
    try:
        response = llm.chat([ChatMessage(role=MessageRole.USER, content=prompt)])
    except Exception as exc:
        log.warning("condensing the follow-up with the LLM failed, using the rules rewrite: %s", exc)
        return fallback, exc
    text = strip_think(response.message.content or "")
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = _CONDENSE_PREFIX.sub("", line).strip().strip("“”\"'「」")
    if not line or len(line) > 200:
        return fallback, None
    return line, None


# --------------------------------------------------------------------------- sources


@dataclass
class Source:
    """One numbered source: a retrieved passage of a letter, cut into quotable units."""

    n: int
    passage: Passage
    letter: ReplyLetter
    units: list[tuple[int, int]] = field(default_factory=list)
    """Sentence spans of the passage (≤ MAX_QUOTE each) in the letter text."""
    blocked: set[int] = field(default_factory=set)
    """Units that speak to the model (忽略以上所有指令…): shown to it as data, never support,
    and no quote runs across them."""
    identity: str = ""
    """The letter's title, issuer, addressee, number and date: facts the model was shown in
    the source's header count as supported by that source."""

    def unit_text(self, i: int) -> str:
        start, end = self.units[i]
        return self.letter.text[start:end]


def make_sources(passages: Sequence[Passage], snapshot: Snapshot) -> list[Source]:
    sources = []
    for n, passage in enumerate(passages, start=1):
        letter = snapshot.letters[passage.letter_id]
        units = quote_units(letter.text, passage.start, passage.end)
        source = Source(n=n, passage=passage, letter=letter, units=units, identity=_identity(letter))
        source.blocked = {i for i in range(len(units)) if looks_like_instruction(source.unit_text(i))}
        sources.append(source)
    return sources


def _identity(letter: ReplyLetter) -> str:
    parts = (letter.title, letter.suggestion_title, letter.issuer, letter.addressee, letter.session, letter.number,
             chinese_date(letter.date), letter.date)
    return " ".join(p for p in parts if p)


def quote_units(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of text[start:end] as trimmed spans; a sentence longer than MAX_QUOTE is cut
    at clause marks (，、：) into pieces that fit."""
    units: list[tuple[int, int]] = []
    pos = start
    for m in _UNIT_END.finditer(text, start, end):
        _add_unit(text, pos, m.start() if m.group() == "\n" else m.end(), units)
        pos = m.end()
    _add_unit(text, pos, end, units)
    return units


def _add_unit(text: str, start: int, end: int, units: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end <= start:
        return
    while end - start > MAX_QUOTE:
        cut = max((m.end() for m in _CLAUSE_END.finditer(text, start, start + MAX_QUOTE)), default=start + MAX_QUOTE)
        units.append((start, cut))
        start = cut
    units.append((start, end))


def _escape(text: str) -> str:
    """A letter must not be able to close its own <资料> block."""
    return text.replace("<", "＜").replace(">", "＞")


def format_sources(sources: Sequence[Source]) -> str:
    blocks = []
    for s in sources:
        letter, passage = s.letter, s.passage
        section = section_at(letter, passage.start, passage.end)
        where = section_words(section_key(section)) if section else "正文"
        if section is not None and section.heading:
            where += f" {section.heading}"
        lines = [f'<资料 编号="{s.n}">', f"标题：《{_escape(display_title(letter))}》"]
        if letter.issuer:
            lines.append(f"答复单位：{_escape(letter.issuer)}")
        if letter.date:
            lines.append(f"答复日期：{chinese_date(letter.date)}")
        lines += [f"所在部分：{_escape(where)}", "内容：", _escape(passage.text.strip()), "</资料>"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def answer_messages(question: str, sources: Sequence[Source]) -> list[ChatMessage]:
    system = fill(load_prompt("answer_system"), not_found=NOT_FOUND)
    user = fill(load_prompt("answer_user"), sources=format_sources(sources), question=question)
    return [ChatMessage(role=MessageRole.SYSTEM, content=system), ChatMessage(role=MessageRole.USER, content=user)]


# --------------------------------------------------------------------------- parsing the reply


@dataclass
class Sentence:
    """One sentence (or clause, see `parse_reply`) of the reply, markers taken out."""

    body: str
    """Without markers and without the final punctuation."""
    end: str
    """The final punctuation (may be empty: list items often have none)."""
    markers: list[int]
    newline: bool = False
    """Followed by a line break in the reply."""
    group: int = 0
    """Clauses of one sentence share a group."""
    group_end: str = ""
    """The final punctuation of the whole sentence (a kept clause ends with it when the
    clauses after it are dropped)."""

    @property
    def claim(self) -> str:
        """What is checked: the body without list labels or Markdown emphasis."""
        return _LABEL.sub("", self.body.strip()).replace("**", "")


def parse_reply(reply: str) -> list[Sentence]:
    """Sentences with their markers. A marker run right after the final punctuation (`…。[1]`)
    belongs to that sentence, as does one before it (`…[1]。`). A sentence whose clauses cite
    different sources (`…320个[2]，投资1450万元[1]。`) is cut after each marker run that follows
    a clause holding a fact, so each clause is checked against its own source."""
    sentences: list[Sentence] = []
    pos = 0
    group = 0
    while pos < len(reply):
        m = _SENTENCE_END.search(reply, pos)
        if m is None:
            raw, pos, newline = reply[pos:], len(reply), False
        elif m.group() == "\n":
            raw, pos, newline = reply[pos:m.start()], m.end(), True
        else:
            end = m.end()
            run = _MARKS_RUN.match(reply, end)
            if run:
                end = run.end()
            raw, pos = reply[pos:end], end
            newline = reply[pos:pos + 1] == "\n"
            if newline:
                pos += 1
        pieces = [_sentence(piece, group) for piece in _clauses(raw)]
        pieces = [p for p in pieces if p.body.strip() or p.markers]
        if pieces:
            for p in pieces:
                p.group_end = pieces[-1].end
            pieces[-1].newline = newline
            sentences.extend(pieces)
            group += 1
        elif newline and sentences:
            sentences[-1].newline = True
    return sentences


def _clauses(raw: str) -> list[str]:
    out: list[str] = []
    last = 0
    for m in _INNER_MARKS.finditer(raw):
        if m.end() >= len(raw.rstrip()):
            break
        left = raw[last:m.end()]
        if extract_facts(_LABEL.sub("", _MARK_RE.sub("", left))):
            out.append(left)
            last = m.end()
    out.append(raw[last:])
    return out


def _sentence(raw: str, group: int) -> Sentence:
    markers = [int(unicodedata.normalize("NFKC", d)) for mark in _MARK_RE.findall(raw)
               for d in re.findall(r"[0-9０-９]+", mark)]
    body = _MARK_RE.sub("", raw).strip()
    tail = _TRAILING_END.search(body)
    end = tail.group() if tail else ""
    body = body[: tail.start()] if tail else body
    return Sentence(body=body.rstrip(), end=end, markers=markers, group=group)


# --------------------------------------------------------------------------- verification


@dataclass
class Verdict:
    sentence: Sentence
    ok: bool
    reason: str = ""
    quotes: list[tuple[Source, int, int]] = field(default_factory=list)
    """(source, start, end) spans in the source's letter that support the sentence."""


def _is_not_found(sentence: Sentence) -> bool:
    return normalize(NOT_FOUND.rstrip("。")) in normalize(sentence.body)


def _connective(sentence: Sentence, facts: list[Fact]) -> bool:
    """A lead-in such as 具体情况如下： — not a claim, left out silently."""
    return not sentence.markers and not facts and (sentence.end == "" and sentence.body.rstrip().endswith(("：", ":")))


def verify_sentence(sentence: Sentence, sources: Sequence[Source]) -> Verdict:
    """Check one sentence against the sources it cites (see the module docstring for the policy)."""
    claim = sentence.claim
    if not sentence.markers:
        return Verdict(sentence, False, "无引用")
    if any(not 1 <= k <= len(sources) for k in sentence.markers):
        return Verdict(sentence, False, "引用编号超出范围")
    cited = [sources[k - 1] for k in dict.fromkeys(sentence.markers)]
    facts = extract_facts(claim)
    for fact in facts:
        if not any(_in_source(fact, s) or fact_in(fact, s.identity) for s in cited):
            return Verdict(sentence, False, f"“{fact.text}”不在所引资料中")
    quotes: list[tuple[Source, int, int]] = []
    for source in cited:
        # What the source's header (title, issuer, date) already shows needs no quote.
        needed = [f for f in facts if _in_source(f, source) and not fact_in(f, source.identity)]
        for start, end in _fact_windows(source, needed):
            quotes.append((source, start, end))
    if not quotes:
        # No fact to locate (none, or only the letter's own title/issuer/date): the span that
        # says most of what the sentence says, which must be close enough if there were no facts.
        best: tuple[float, int, Source, int, int] | None = None
        polarity = negated(claim)
        for source in cited:
            for start, end in _windows(source, max_units=3):
                span = source.letter.text[start:end]
                if not facts and negated(span) != polarity:
                    continue
                score = bigram_overlap(claim, span)
                key = (score, -(end - start))
                if best is None or key > (best[0], best[1]):
                    best = (score, -(end - start), source, start, end)
        if best is None or (not facts and best[0] < MIN_OVERLAP):
            return Verdict(sentence, False, "所引资料中没有相应内容")
        quotes.append((best[2], best[3], best[4]))
    return Verdict(sentence, True, quotes=quotes)


def _in_source(fact: Fact, source: Source) -> bool:
    return any(fact_in(fact, source.unit_text(i)) for i in range(len(source.units)) if i not in source.blocked)


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


def _fact_windows(source: Source, facts: list[Fact]) -> list[tuple[int, int]]:
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
            covered = sum(1 for f in remaining if fact_in(f, text[start:end]))
            if not covered:
                continue
            key = (-covered, end - start, start, end)
            if best is None or key < best:
                best = key
        if best is None:
            break
        _, _, start, end = best
        chosen.append((start, end))
        remaining = [f for f in remaining if not fact_in(f, text[start:end])]
    return chosen


def build_answer(
    reply: str,
    *,
    question: str,
    query: str,
    retrieval_passages: Sequence[Passage],
    sources: Sequence[Source],
    snapshot: Snapshot,
    kind: str = "general",
) -> Answer:
    """The final `Answer` from the model's whole reply: verified sentences only, renumbered."""
    retrieval = Retrieval(query, list(retrieval_passages), snapshot)
    citations: list[Citation] = []
    number: dict[tuple[str, int, int], int] = {}
    kept: list[tuple[Sentence, list[int]]] = []
    dropped = 0
    said_not_found = False
    for sentence in parse_reply(strip_think(reply)):
        if _is_not_found(sentence):
            said_not_found = True
            continue
        if not has_content(sentence.claim) or _connective(sentence, extract_facts(sentence.claim)):
            continue
        verdict = verify_sentence(sentence, sources)
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


# --------------------------------------------------------------------------- the whole path


def _reason(exc: Exception) -> str:
    """What went wrong, in the words the note shows to the user."""
    import httpx
    import openai

    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return "请求超时"
    if isinstance(exc, openai.APIConnectionError | httpx.ConnectError):
        return "无法连接"
    if isinstance(exc, httpx.TransportError):
        return "连接中断"
    if isinstance(exc, openai.APIStatusError):
        return f"服务返回错误（HTTP {exc.status_code}）"
    return "返回内容无法解析"


def _unreachable(exc: Exception) -> bool:
    """Errors that will happen again right away (so the answer call is not even tried)."""
    import openai

    return isinstance(exc, openai.APIConnectionError | openai.AuthenticationError | openai.NotFoundError)


def stream_llm(
    qa: ReplyQA, question: str, history: Sequence[Turn] = (), *, filters: Filters | None = None
) -> Iterator[str | Answer]:
    """`ReplyQA.stream` with an LLM: condense (with history), retrieve, stream the model's text,
    then the verified `Answer`. When the endpoint fails, the extractive answer with a note."""
    started = time.perf_counter()
    turns = list(history)
    snapshot = qa.library.snapshot()
    rewrite = rewrite_rules(question, turns, qa.library.tokenizer, qa._specific)
    try:
        llm = make_llm(qa.settings)
    except Exception as exc:
        yield from _fallback(qa, question, turns, filters, exc, started, streamed=False)
        return
    query, failure = rewrite.query, None
    if turns:
        query, failure = _condense(llm, question, turns, fallback=rewrite.query, snapshot=snapshot)
    if failure is not None and _unreachable(failure):
        yield from _fallback(qa, question, turns, filters, failure, started, streamed=False)
        return
    retrieval = retrieve(query, qa.library, qa.embedder, filters=filters, prefer_letters=rewrite.prefer_letters)
    kind = question_kind(query)
    kind = rewrite.kind if kind == "general" else kind
    sources = make_sources(retrieval.passages[:MAX_SOURCES], retrieval.snapshot)
    reply = ""
    if sources:
        asked = query if turns else question
        try:
            for delta in stream_reply(llm, answer_messages(asked, sources)):
                reply += delta
                yield delta
        except Exception as exc:
            log.warning("the LLM answer failed, falling back to the extractive answer: %s", exc)
            yield from _fallback(qa, question, turns, filters, exc, started, streamed=bool(reply))
            return
    answer = build_answer(
        reply, question=question, query=query, retrieval_passages=retrieval.passages, sources=sources,
        snapshot=retrieval.snapshot, kind=kind,
    )
    answer.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    yield answer


def ask_llm(qa: ReplyQA, question: str, history: Sequence[Turn] = (), *, filters: Filters | None = None) -> Answer:
    final: Answer | None = None
    for item in stream_llm(qa, question, history, filters=filters):
        if isinstance(item, Answer):
            final = item
    assert final is not None
    return final


def _fallback(
    qa: ReplyQA,
    question: str,
    turns: list[Turn],
    filters: Filters | None,
    exc: Exception,
    started: float,
    *,
    streamed: bool,
) -> Iterator[str | Answer]:
    """The extractive answer, with a note that the model service could not be used."""
    answer = qa._ask_extractive(question, turns, filters=filters)
    note = UNAVAILABLE_NOTE.format(reason=_reason(exc))
    answer.text = f"{note}\n{answer.text}"
    answer.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    yield ("\n\n" if streamed else "") + answer.text
    yield answer
