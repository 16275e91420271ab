"""Answers, citations and letters as HTML for the page — pure functions, no Gradio.

Letter text is untrusted: it comes from web pages and uploaded files and may hold `<script>`,
`<img onerror=…>` or Markdown links. Every piece of it goes through `esc` (`html.escape`)
before it is put into markup, and the page shows this markup with Markdown rendering off, so
what the letter says is shown as text and never becomes an element, a link or a script. The
only markup here is our own, and nothing from a letter is ever put inside JavaScript.

Clickable citation markers carry their address in a class name (`rq-cite rq-k-<turn>-<n>`)
because the chat's HTML sanitizer keeps `class`, `role`, `tabindex` and `title` but drops
`data-*` attributes. `static/page.js` turns a click on such a marker into a value of a hidden
textbox, which the server answers with the source panel.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from assistant.ask.answer import Answer
from assistant.ask.citation import Citation, chinese_date, section_at, section_words
from assistant.web.export import reference_line
from index.pipeline import STATUS_ZH, FileResult
from index.reading.letter import ReplyLetter
from index.reading.outline import SECTION_NAMES, Section
from index.storage.records import LetterRecord

CHANNEL_ZH = {"NPC": "人大建议", "CPPCC": "政协提案", "other": "其他"}
_MARKER = re.compile(r"\[(\d+)\]")
_CONTEXT = 400
"""Characters shown either side of a quote whose letter has no section around it."""


def esc(text: object) -> str:
    """Escape untrusted text for element content and quoted attribute values."""
    return html.escape("" if text is None else str(text), quote=True)


def esc_lines(text: str | None) -> str:
    return esc(text).replace("\n", "<br>")


# --- chat -----------------------------------------------------------------------------------
def user_html(question: str) -> str:
    return f'<div class="rq-question">{esc_lines(question)}</div>'


def error_html(message: str) -> str:
    return f'<div class="rq-answer rq-error">{esc_lines(message)}</div>'


def marker_html(turn: int, citation: Citation) -> str:
    """A clickable `[n]`, or — when the citation could not be verified — a grey, struck one
    that says so and is deliberately not clickable: it must not pass for support."""
    if not citation.verified:
        why = citation.note or "所引原文不能支持这句话"
        return (f'<span class="rq-cite-unverified" title="{esc("未能核实：" + why)}">'
                f"<s>[{citation.n}]</s><small>未能核实</small></span>")
    return (f'<span class="rq-cite rq-k-{turn}-{citation.n}" role="button" tabindex="0" '
            f'title="{esc("查看原文：" + citation.reference)}">[{citation.n}]</span>')


def _with_markers(text: str, citations: Sequence[Citation], turn: int) -> str:
    by_n = {c.n: c for c in citations}
    parts: list[str] = []
    pos = 0
    for m in _MARKER.finditer(text):
        citation = by_n.get(int(m.group(1)))
        if citation is None:
            continue
        parts.append(esc_lines(text[pos:m.start()]))
        parts.append(marker_html(turn, citation))
        pos = m.end()
    parts.append(esc_lines(text[pos:]))
    return "".join(parts)


def partial_html(text: str) -> str:
    """An answer still streaming: markers are shown but not yet clickable (not yet verified)."""
    body = _MARKER.sub(lambda m: f'<span class="rq-cite-pending">[{m.group(1)}]</span>', esc_lines(text))
    return f'<div class="rq-answer rq-streaming">{body}<span class="rq-caret">▍</span></div>'


def answer_html(answer: Answer, turn: int) -> str:
    """The finished answer: text with clickable markers, then its draft-ready references."""
    if not answer.found:
        return f'<div class="rq-answer rq-notfound">{esc_lines(answer.text)}</div>'
    refs = "".join(
        f'<li class="rq-ref{"" if c.verified else " rq-ref-unverified"}">{marker_html(turn, c)} '
        f"{esc(reference_line(c))}</li>"
        for c in answer.citations
    )
    refs_block = f'<ol class="rq-refs" aria-label="引用">{refs}</ol>' if refs else ""
    return f'<div class="rq-answer"><div class="rq-text">{_with_markers(answer.text, answer.citations, turn)}</div>' \
           f"{refs_block}</div>"


# --- letters --------------------------------------------------------------------------------
def _fields_html(letter: ReplyLetter, *, full: bool = True) -> str:
    """The letter's identity; the source panel shows the short form, the reader everything."""
    number = " ".join(x for x in (letter.session, letter.number) if x)
    rows = [
        ("答复单位", letter.issuer), ("日期", chinese_date(letter.date)), ("收件人", letter.addressee),
        ("编号", number), ("渠道", CHANNEL_ZH.get(letter.channel, letter.channel)),
    ]
    if full:
        rows += [("文号", letter.doc_number), ("类别", letter.category), ("公开属性", letter.disclosure),
                 ("联系方式", letter.contact)]
    cells = "".join(f"<dt>{label}</dt><dd>{esc(value)}</dd>" for label, value in rows if value)
    return f'<dl class="rq-fields">{cells}</dl>'


def section_name(section: Section) -> str:
    """The cited section's heading in the source panel: `第三部分一是` for a numbered one, but
    plain `开头` / `正文` / `结尾` (not `开头部分` as in a reference) for the others."""
    return section_words(section.key) if section.kind == "numbered" else section.key


def _short(text: str, limit: int = 36) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def outline_html(
    sections: Sequence[Section], *, current: Section | None = None, anchors: dict[int, str] | None = None
) -> str:
    """The letter's own outline. `current` (the cited section) and the sections holding it are
    marked; with `anchors` (section start → element id) each entry jumps to its place."""

    def item(section: Section) -> str:
        classes = ["rq-o"]
        if current is not None and section.start == current.start and section.end == current.end \
                and section.path == current.path:
            classes.append("rq-current")
        elif current is not None and section.start <= current.start and current.end <= section.end:
            classes.append("rq-on-path")
        label = section.label or SECTION_NAMES.get(section.kind, "")
        inner = f'<span class="rq-o-label">{esc(label)}</span> {esc(_short(section.heading))}'
        if anchors and section.start in anchors:
            inner = (f'<span class="rq-jump" role="button" tabindex="0" data-rq-jump="{esc(anchors[section.start])}">'
                     f"{inner}</span>")
        children = f'<ul>{"".join(item(c) for c in section.children)}</ul>' if section.children else ""
        return f'<li class="{" ".join(classes)}">{inner}{children}</li>'

    if not sections:
        return ""
    return f'<ul class="rq-outline">{"".join(item(s) for s in sections)}</ul>'


def locate(letter: ReplyLetter, citation: Citation) -> tuple[int, int] | None:
    """Where the quote is in the letter as indexed now: at its recorded span, or — if the letter
    was re-imported since the answer — wherever the same words are; None if they are gone."""
    if letter.text[citation.start:citation.end] == citation.quote:
        return citation.start, citation.end
    found = letter.text.find(citation.quote) if citation.quote else -1
    return (found, found + len(citation.quote)) if found >= 0 else None


def source_html(letter: ReplyLetter | None, citation: Citation, *, nonce: str = "") -> str:
    """The source panel: which letter, its outline, and the whole cited section with the quote
    inside `<mark id="rq-mark">` (the page scrolls it into view). A new `nonce` per click makes
    the panel change even for the same citation, so it is scrolled to again."""
    ref = f'<span class="rq-nonce" data-rq-shown="{esc(nonce)}" hidden></span>' if nonce else ""
    ref += f'<div class="rq-src-ref">引用 [{citation.n}]：{esc(reference_line(citation))}</div>'
    if letter is None:
        return (f'<div class="rq-src">{ref}<p class="rq-warn">这封答复已不在索引中，无法打开原文。引文为：</p>'
                f'<blockquote class="rq-src-text">{esc(citation.quote)}</blockquote></div>')
    title = f'<h3 class="rq-src-title">《{esc(letter.title or citation.title)}》</h3>'
    span = locate(letter, citation)
    if span is None:
        body = '<p class="rq-warn">原文在引用之后已更新，找不到这段引文。请在“信件浏览”中查看最新原文。</p>'
        return f'<div class="rq-src">{title}{_fields_html(letter, full=False)}{ref}{body}</div>'
    start, end = span
    section = section_at(letter, start, end)
    if section is not None:
        lo, hi = section.start, section.end
        heading = f"{section_name(section)}　{section.heading}".strip()
    else:
        lo, hi = max(0, start - _CONTEXT), min(len(letter.text), end + _CONTEXT)
        heading = "引文上下文"
    text = letter.text
    body = (f"{esc(text[lo:start])}<mark id=\"rq-mark\" class=\"rq-mark\">{esc(text[start:end])}</mark>"
            f"{esc(text[end:hi])}")
    return (
        f'<div class="rq-src">{title}{_fields_html(letter, full=False)}{ref}'
        f'<div class="rq-src-section"><div class="rq-src-heading">{esc(heading)}</div>'
        f'<div class="rq-src-body"><div class="rq-src-text">{body}</div></div></div>'
        f'<details class="rq-src-outline" open><summary>答复结构（加粗为所引部分）</summary>'
        f"{outline_html(letter.sections, current=section)}</details></div>"
    )


def letter_html(letter: ReplyLetter) -> str:
    """The whole letter for reading: fields, a clickable outline, and the escaped text with an
    anchor at every section so the outline can jump there."""
    sections = letter.all_sections()
    anchors = {s.start: f"rq-r-{i}" for i, s in enumerate(sections)}
    text = letter.text
    cuts = sorted(p for p in anchors if 0 <= p <= len(text))
    pieces: list[str] = []
    pos = 0
    for cut in cuts:
        pieces.append(esc(text[pos:cut]))
        pieces.append(f'<span class="rq-anchor" id="{anchors[cut]}"></span>')
        pos = cut
    pieces.append(esc(text[pos:]))
    return (
        f'<div class="rq-reader"><h3 class="rq-src-title">《{esc(letter.title or letter.id)}》</h3>'
        f"{_fields_html(letter)}"
        f'<details class="rq-src-outline" open><summary>答复结构</summary>'
        f"{outline_html(letter.sections, anchors=anchors)}</details>"
        f'<div class="rq-reader-body"><div class="rq-reader-text">{"".join(pieces)}</div></div></div>'
    )


def letter_list_html(records: Sequence[LetterRecord], total: int, *, limit: int = 300) -> str:
    """The matching letters as clickable rows (at most `limit`: a page, not a dump of the index)."""
    if not records:
        return f'<div class="rq-list-count">没有符合条件的答复（共 {total} 封）。</div>'
    shown = records[:limit]
    more = f"，只显示前 {limit} 封，请用上面的条件缩小范围" if len(records) > limit else ""
    rows = "".join(
        f'<tr class="rq-letter" role="button" tabindex="0" data-rq-letter="{esc(r.id)}" title="打开这封答复">'
        f"<td>{esc(r.title)}</td><td>{esc(r.issuer or '—')}</td><td>{esc(r.date or '—')}</td>"
        f"<td>{esc(CHANNEL_ZH.get(r.channel, r.channel))}</td></tr>"
        for r in shown
    )
    return (
        f'<div class="rq-list-count">符合条件 {len(records)} 封，共 {total} 封{more}。点击一行打开答复。</div>'
        f'<table class="rq-letters"><thead><tr><th>标题</th><th>答复单位</th><th>日期</th><th>渠道</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )


def ingest_html(results: Sequence[tuple[str, FileResult]], summary: str) -> str:
    """One row per uploaded file: its name as uploaded, 新增/更新/未变/失败, and why it failed."""
    rows = "".join(
        f'<tr class="rq-st-{esc(r.status)}"><td>{esc(name)}</td><td class="rq-status">{esc(STATUS_ZH[r.status])}</td>'
        f"<td>{esc(r.letter_id or '')}</td><td>{r.chunks if r.status != 'failed' else ''}</td>"
        f"<td>{esc(r.reason)}</td></tr>"
        for name, r in results
    )
    return (
        f'<div class="rq-ingest"><div class="rq-list-count">{esc(summary)}</div>'
        f'<table class="rq-letters"><thead><tr><th>文件</th><th>结果</th><th>答复编号</th><th>段落块</th><th>原因</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )
