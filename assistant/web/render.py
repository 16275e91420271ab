"""The chat's HTML — answers, citation markers, the scope chips — as pure functions, no Gradio.
The letters' own HTML (source panel, reader, list) is `letters_html`.

Letter text is untrusted: it comes from web pages and uploaded files and may hold `<script>`,
`<img onerror=…>` or Markdown links. Every piece of it goes through `esc` (`html.escape`)
before it is put into markup, and the page shows this markup with Markdown rendering off, so
what the letter says is shown as text and never becomes an element, a link or a script. The
only markup here is our own, and nothing from a letter is ever put inside JavaScript.

Clickable things in an answer carry their address in a class name, because the chat's HTML
sanitizer keeps `class`, `role`, `tabindex` and `title` but drops `data-*` attributes:
`rq-k-<turn>-<n>` a citation marker, `rq-oc-<turn>-<n>` 查看全文 of a citation, `rq-ol-<turn>-<i>`
查看全文 of a lead, `rq-e-<turn>` 在全部答复中再问. `static/page.js` turns a click on one into a
value of a hidden textbox, which the server answers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from assistant.ask.answer import Answer
from assistant.ask.citation import Citation
from assistant.web.references import (
    SAMPLE_MARK,
    Sources,
    lead_line,
    quotes_fiction,
    reference_line,
    text_without_leads,
)

_MARKER = re.compile(r"\[(\d+)\]")
OPEN_TITLE = "在“信件浏览”中打开这封答复的全文"


def esc(text: object) -> str:
    """Escape untrusted text for element content and quoted attribute values."""
    return html.escape("" if text is None else str(text), quote=True)


def esc_lines(text: str | None) -> str:
    return esc(text).replace("\n", "<br>")


def user_html(question: str) -> str:
    return f'<div class="rq-question">{esc_lines(question)}</div>'


def error_html(message: str) -> str:
    return f'<div class="rq-answer rq-error">{esc_lines(message)}</div>'


def marker_html(turn: int, citation: Citation, sources: Sources | None = None) -> str:
    """A clickable `[n]`, or — when the citation could not be verified — a grey, struck one
    that says so and is deliberately not clickable: it must not pass for support."""
    if not citation.verified:
        why = citation.note or "所引原文不能支持这句话"
        return (f'<span class="rq-cite-unverified" title="{esc("未能核实：" + why)}">'
                f"<s>[{citation.n}]</s><small>未能核实</small></span>")
    facts = (sources or {}).get(citation.letter)
    return (f'<span class="rq-cite rq-k-{turn}-{citation.n}" role="button" tabindex="0" '
            f'title="{esc("查看原文：" + reference_line(citation, facts))}">[{citation.n}]</span>')


def open_html(css_key: str) -> str:
    """查看全文: opens the letter in the browser tab (see the module docstring for the key)."""
    return f'<span class="rq-open {css_key}" role="button" tabindex="0" title="{OPEN_TITLE}">查看全文</span>'


def _with_markers(text: str, citations: Sequence[Citation], turn: int, sources: Sources) -> str:
    by_n = {c.n: c for c in citations}
    parts: list[str] = []
    pos = 0
    for m in _MARKER.finditer(text):
        citation = by_n.get(int(m.group(1)))
        if citation is None:
            continue
        parts.append(esc_lines(text[pos:m.start()]))
        parts.append(marker_html(turn, citation, sources))
        pos = m.end()
    parts.append(esc_lines(text[pos:]))
    return "".join(parts)


def partial_html(text: str) -> str:
    """An answer still streaming: markers are shown but not yet clickable (not yet verified)."""
    body = _MARKER.sub(lambda m: f'<span class="rq-cite-pending">[{m.group(1)}]</span>', esc_lines(text))
    return f'<div class="rq-answer rq-streaming">{body}<span class="rq-caret">▍</span></div>'


def sample_note_html() -> str:
    return (f'<div class="rq-sample" title="示例答复为演示用虚构文本">{SAMPLE_MARK}：本回答引用的是演示用的虚构答复，'
            "不是真实答复，不能用于公文。</div>")


def _not_found_html(answer: Answer, turn: int, sources: Sources, scope: str) -> str:
    head = esc_lines("\n".join(text_without_leads(answer)))
    leads = "".join(
        f'<li class="rq-lead">{esc(lead_line(lead, sources.get(lead.letter)))} {open_html(f"rq-ol-{turn}-{i}")}</li>'
        for i, lead in enumerate(answer.leads)
    )
    parts = [f'<div class="rq-text">{head}</div>']
    if leads:
        parts.append(f'<ul class="rq-leads" aria-label="可能相关的答复">{leads}</ul>')
    if scope:
        parts.append(f'<div class="rq-scope-note">本次的检索范围：{esc(scope)}；范围之外的答复没有查找。'
                     f'<span class="rq-everywhere rq-e-{turn}" role="button" tabindex="0" '
                     f'title="清除检索范围，在全部答复中重新回答这个问题">在全部答复中再问</span></div>')
    return "".join(parts)


def answer_html(answer: Answer, turn: int, *, sources: Sources | None = None, scope: str = "") -> str:
    """The finished answer: text with clickable markers and its draft-ready references, each
    with 查看全文 — or 未找到 with the letters to read and, under a scope, the way out of it."""
    sources = sources or {}
    sample = sample_note_html() if quotes_fiction(answer, sources) else ""
    if not answer.found:
        return f'<div class="rq-answer rq-notfound">{sample}{_not_found_html(answer, turn, sources, scope)}</div>'
    refs = "".join(
        f'<li class="rq-ref{"" if c.verified else " rq-ref-unverified"}">{marker_html(turn, c, sources)} '
        f"{esc(reference_line(c, sources.get(c.letter)))}"
        f"{' ' + open_html(f'rq-oc-{turn}-{c.n}') if c.verified else ''}</li>"
        for c in answer.citations
    )
    refs_block = f'<ol class="rq-refs" aria-label="引用">{refs}</ol>' if refs else ""
    text = _with_markers(answer.text, answer.citations, turn, sources)
    return f'<div class="rq-answer">{sample}<div class="rq-text">{text}</div>{refs_block}</div>'


def scope_html(parts: Sequence[tuple[str, str]]) -> str:
    """The scope the next question is searched in, by the question box: one chip per part, a
    click on a chip takes that part away, 全部清除 all of them."""
    if not parts:
        return '<div class="rq-scope rq-scope-all" aria-live="polite">检索范围：全部答复</div>'
    chips = "".join(
        f'<button type="button" class="rq-chip" data-rq-scope="{esc(key)}" title="点击取消这项范围" '
        f'aria-label="{esc("取消检索范围：" + label)}">{esc(label)}<span class="rq-chip-x" aria-hidden="true">×</span>'
        "</button>"
        for key, label in parts
    )
    clear = ('<button type="button" class="rq-chip-clear" data-rq-scope="all" aria-label="清除全部检索范围">'
             "全部清除</button>") if len(parts) > 1 else ""
    return (f'<div class="rq-scope rq-scope-on" role="group" aria-label="检索范围" aria-live="polite">'
            f'<span class="rq-scope-label">检索范围：</span>{chips}{clear}</div>')
