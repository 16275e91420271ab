"""The letters' HTML for the page — the source panel beside the chat, the reader and the list of
the browser, the import report — as pure functions, no Gradio.

Everything from a letter goes through `render.esc` (see `render`). These panels are `gr.HTML`,
which keeps `data-*` attributes, so their clickable parts say what they open in
`data-rq-letter` (a row), `data-rq-jump` (an outline entry) and `data-rq-open` (查看全文 of the
source panel), which `static/page.js` sends to the server.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.ask.citation import Citation, chinese_date, section_at, section_words
from assistant.web.facets import CHANNEL_ZH
from assistant.web.references import SAMPLE_MARK, facts_of, reference_line
from assistant.web.render import OPEN_TITLE, esc
from assistant.web.search import Hit
from index.pipeline import STATUS_ZH, FileResult
from index.reading.letter import PAGE_INFO, ReplyLetter
from index.reading.outline import SECTION_NAMES, Section
from index.storage.corrections import Correction

_CONTEXT = 400
"""Characters shown either side of a quote whose letter has no section around it."""
MISSING = "（未识别）"


def _badge(field: str, correction: Correction | None) -> str:
    if correction is None or field not in correction.values:
        return ""
    was = correction.original.get(field) or MISSING
    return f' <span class="rq-corrected" title="{esc(f"人工更正；解析结果为：{was}")}">已更正</span>'


def fields_html(letter: ReplyLetter, *, full: bool = True, correction: Correction | None = None) -> str:
    """The letter's identity; the source panel shows the short form, the reader everything."""
    number = " ".join(x for x in (letter.session, letter.number) if x)
    rows: list[tuple[str, str, str]] = [
        ("答复单位", letter.issuer or (MISSING if full else ""), "issuer"),
        ("日期", chinese_date(letter.date) or (MISSING if full else ""), "date"),
        ("收件人", letter.addressee or "", ""), ("编号", number, ""), ("文号", letter.doc_number or "", ""),
        ("渠道", CHANNEL_ZH.get(letter.channel, letter.channel), ""),
    ]
    if full:
        if letter.suggestion_title and letter.suggestion_title != letter.title:
            rows.insert(2, ("所答建议", f"《{letter.suggestion_title.strip('《》')}》", ""))
        rows += [("类别", letter.category or "", ""), ("公开属性", letter.disclosure or "", ""),
                 ("联系方式", letter.contact or "", "")]
    cells = "".join(f"<dt>{label}</dt><dd>{esc(value)}{_badge(key, correction)}</dd>"
                    for label, value, key in rows if value)
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


def _nonce(nonce: str) -> str:
    """A new value per click makes the panel change even when it shows the same thing again,
    so it is scrolled to again."""
    return f'<span class="rq-nonce" data-rq-shown="{esc(nonce)}" hidden></span>' if nonce else ""


def sample_banner(letter: ReplyLetter) -> str:
    if SAMPLE_MARK not in letter.text:
        return ""
    return f'<div class="rq-sample">{SAMPLE_MARK}：这是演示用的虚构答复，不是真实答复。</div>'


def source_html(letter: ReplyLetter | None, citation: Citation, *, nonce: str = "", turn: int | None = None) -> str:
    """The source panel: which letter, its outline, and the whole cited section with the quote
    inside `<mark id="rq-mark">` (the page scrolls it into view), and 查看全文."""
    facts = facts_of(letter)
    ref = _nonce(nonce) + f'<div class="rq-src-ref">引用 [{citation.n}]：{esc(reference_line(citation, facts))}</div>'
    if letter is None:
        return (f'<div class="rq-src">{ref}<p class="rq-warn">这封答复已不在索引中，无法打开原文。引文为：</p>'
                f'<blockquote class="rq-src-text">{esc(citation.quote)}</blockquote></div>')
    opener = "" if turn is None else (
        f'<button type="button" class="rq-open-btn" data-rq-open="c:{turn}:{citation.n}" title="{OPEN_TITLE}">'
        "查看全文</button>")
    title = f'<h3 class="rq-src-title">《{esc(letter.title or citation.title)}》</h3>'
    head = f"{sample_banner(letter)}{title}{fields_html(letter, full=False)}{ref}{opener}"
    span = locate(letter, citation)
    if span is None:
        body = '<p class="rq-warn">原文在引用之后已更新，找不到这段引文。请在“信件浏览”中查看最新原文。</p>'
        return f'<div class="rq-src">{head}{body}</div>'
    start, end = span
    section = section_at(letter, start, end)
    if section is not None:
        lo, hi = section.start, section.end
        heading = f"{section_name(section)}　{section.heading}".strip()
    elif letter.on_page(start):
        lo, hi = len(letter.body), len(letter.text)
        heading = f"{PAGE_INFO}（原网页上的信息栏，不是答复正文）"
    else:
        lo, hi = max(0, start - _CONTEXT), min(len(letter.text), end + _CONTEXT)
        heading = "引文上下文"
    text = letter.text
    body = (f"{esc(text[lo:start])}<mark id=\"rq-mark\" class=\"rq-mark\">{esc(text[start:end])}</mark>"
            f"{esc(text[end:hi])}")
    return (
        f'<div class="rq-src">{head}'
        f'<div class="rq-src-section"><div class="rq-src-heading">{esc(heading)}</div>'
        f'<div class="rq-src-body"><div class="rq-src-text">{body}</div></div></div>'
        f'<details class="rq-src-outline" open><summary>答复结构（加粗为所引部分）</summary>'
        f"{outline_html(letter.sections, current=section)}</details></div>"
    )


def _reader_text(letter: ReplyLetter, anchors: dict[int, str], highlight: tuple[int, int] | None) -> str:
    """The escaped text with an anchor at every section start and the highlight in a `<mark>`."""
    text = letter.text
    lo, hi = highlight if highlight and 0 <= highlight[0] < highlight[1] <= len(text) else (-1, -1)
    cuts = sorted({p for p in anchors if 0 <= p <= len(text)} | ({lo, hi} if lo >= 0 else set()))
    pieces: list[str] = []
    pos = 0
    for cut in cuts:
        pieces.append(esc(text[pos:cut]))
        if cut == hi:
            pieces.append("</mark>")
        if cut in anchors:
            pieces.append(f'<span class="rq-anchor" id="{anchors[cut]}"></span>')
        if cut == lo:
            pieces.append('<mark id="rq-reader-mark" class="rq-mark">')
        pos = cut
    pieces.append(esc(text[pos:]))
    return "".join(pieces)


def letter_html(
    letter: ReplyLetter, *, highlight: tuple[int, int] | None = None, correction: Correction | None = None,
    nonce: str = "",
) -> str:
    """The whole letter for reading: fields, a clickable outline, and the escaped text with an
    anchor at every section, and the quote it was opened for marked (the page scrolls to it)."""
    anchors = {s.start: f"rq-r-{i}" for i, s in enumerate(letter.all_sections())}
    note = ('<div class="rq-reader-note">已定位到所引原文（黄色标出）。</div>' if highlight else "")
    return (
        f'<div class="rq-reader" data-rq-letter-open="{esc(letter.id)}">{_nonce(nonce)}{sample_banner(letter)}'
        f'<h3 class="rq-src-title">《{esc(letter.display_title)}》{_badge("title", correction)}</h3>'
        f"{fields_html(letter, correction=correction)}{note}"
        f'<details class="rq-src-outline" open><summary>答复结构</summary>'
        f"{outline_html(letter.sections, anchors=anchors)}</details>"
        f'<div class="rq-reader-body"><div class="rq-reader-text">{_reader_text(letter, anchors, highlight)}'
        "</div></div></div>"
    )


def _row(hit: Hit) -> str:
    e, r = hit.entry, hit.entry.record
    below = []
    if e.suggestion_title and e.suggestion_title.strip("《》") != r.title.strip("《》"):
        below.append(f'<div class="rq-l-sub">所答建议：《{esc(e.suggestion_title.strip("《》"))}》</div>')
    doc = f"文号 {e.doc_number}" if e.doc_number else ""
    number = " ".join(x for x in (e.session, e.number) if x)
    numbers = "　".join(x for x in (CHANNEL_ZH.get(r.channel, r.channel), doc, number) if x)
    if numbers:
        below.append(f'<div class="rq-l-sub">{esc(numbers)}</div>')
    if hit.snippet:
        before, word, after = hit.snippet
        below.append(f'<div class="rq-snippet">{esc(before)}<mark>{esc(word)}</mark>{esc(after)}</div>')
    return (
        f'<tr class="rq-letter" role="button" tabindex="0" data-rq-letter="{esc(r.id)}" title="打开这封答复">'
        f'<td class="rq-l-title" data-label="标题">{esc(r.title)}{"".join(below)}</td>'
        f'<td data-label="收件人">{esc(e.addressee or "—")}</td>'
        f'<td data-label="答复单位">{esc(r.issuer or "单位不详")}</td>'
        f'<td data-label="日期">{esc(r.date or "—")}</td></tr>'
    )


def letter_list_html(hits: Sequence[Hit], total: int, *, query: str = "", limit: int = 300) -> str:
    """The matching letters as clickable rows (at most `limit`: a page, not a dump of the index);
    `query` (the words searched) is kept on the count line, so a script can tell which search
    the list shows."""
    said = f' data-rq-query="{esc(query)}"'
    if not hits:
        return f'<div class="rq-list-count"{said}>没有符合条件的答复（共 {total} 封）。</div>'
    more = f"，只显示前 {limit} 封，请用上面的条件缩小范围" if len(hits) > limit else ""
    rows = "".join(_row(h) for h in hits[:limit])
    return (
        f'<div class="rq-list-count"{said}>符合条件 {len(hits)} 封，共 {total} 封{more}。点击一行打开答复。</div>'
        f'<table class="rq-letters"><thead><tr><th>标题</th><th>收件人</th><th>答复单位</th><th>日期</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


_PARENTHESIS = re.compile(r"[（(]([^（）()]*)[）)]")
_ENGLISH_WORD = re.compile(r"(?<![.\w])[A-Za-z]{3,}")
_KNOWN_WORDS = frozenset({"PDF", "Word", "OCR", "HTML", "GBK", "UTF"})


def plain_reason(reason: str) -> str:
    """A failure reason without the library's own words in it: `PDF 文件已损坏，无法读取（startxref
    not found）` is said as `PDF 文件已损坏，无法读取`. The Chinese part already says what is wrong
    and what to do; the English exception text helps a developer, who finds it in the log. File
    types (`.txt`) and the names of formats stay."""

    def keep(m: re.Match[str]) -> str:
        words = _ENGLISH_WORD.findall(m.group(1))
        return "" if any(w not in _KNOWN_WORDS for w in words) else m.group()

    return _PARENTHESIS.sub(keep, reason).strip() or reason


def ingest_html(results: Sequence[tuple[str, FileResult]], summary: str) -> str:
    """One row per uploaded file: its name as uploaded, 新增/更新/未变/失败, and why it failed."""
    rows = "".join(
        f'<tr class="rq-st-{esc(r.status)}"><td data-label="文件">{esc(name)}</td>'
        f'<td class="rq-status" data-label="结果">{esc(STATUS_ZH[r.status])}</td>'
        f"<td data-label=\"答复编号\">{esc(r.letter_id or '')}</td>"
        f"<td data-label=\"段落块\">{r.chunks if r.status != 'failed' else ''}</td>"
        f'<td data-label="原因">{esc(plain_reason(r.reason))}</td></tr>'
        for name, r in results
    )
    return (
        f'<div class="rq-ingest"><div class="rq-list-count">{esc(summary)}</div>'
        f'<table class="rq-letters"><thead><tr><th>文件</th><th>结果</th><th>答复编号</th><th>段落块</th><th>原因</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )

