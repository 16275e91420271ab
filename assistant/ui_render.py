"""Answers, citations and letters as HTML for the page — pure functions, no Gradio.

Letter text is untrusted: it comes from web pages and uploaded files and may hold `<script>`,
`<img onerror=…>` or Markdown links. Every piece of it goes through `esc` (`html.escape`)
before it is put into markup, and the page shows this markup with Markdown rendering off, so
what the letter says is shown as text and never becomes an element, a link or a script. The
only markup here is our own, and nothing from a letter is ever put inside JavaScript.

Clickable citation markers carry their address in a class name (`rq-cite rq-k-<turn>-<n>`)
because the chat's HTML sanitizer keeps `class`, `role`, `tabindex` and `title` but drops
`data-*` attributes. `PAGE_JS` turns a click on such a marker into a value of a hidden
textbox, which the server answers with the source panel.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence

from assistant.answer import Answer
from assistant.citation import Citation, chinese_date, section_at, section_words
from assistant.export import reference_line
from index.pipeline import STATUS_ZH, FileResult
from index.reading.letter import ReplyLetter
from index.reading.outline import Section
from index.storage.records import LetterRecord

CHANNEL_ZH = {"NPC": "人大建议", "CPPCC": "政协提案", "other": "其他"}
_MARKER = re.compile(r"\[(\d+)\]")
_KIND_ZH = {"preamble": "开头", "body": "正文", "closing": "结尾"}
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
    if section.kind == "numbered":
        return section_words("/".join(section.path))
    return _KIND_ZH.get(section.kind, "正文")


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
        label = section.label or _KIND_ZH.get(section.kind, "")
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


# --- page assets ------------------------------------------------------------------------------
CJK_FONTS = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'

PAGE_CSS = f"""
#rq-chat, .rq-answer, .rq-question, .rq-src, .rq-reader, .rq-letters {{ font-family: {CJK_FONTS}; }}
.rq-answer .rq-text {{ line-height: 1.8; }}
.rq-cite {{ color: var(--color-accent); font-weight: 600; cursor: pointer; padding: 0 2px; border-radius: 4px; }}
.rq-cite:hover, .rq-cite:focus {{ background: var(--color-accent-soft); outline: none; }}
.rq-cite-pending {{ color: var(--body-text-color-subdued); }}
.rq-cite-unverified {{ color: #8a8a8a; cursor: not-allowed; }}
.rq-cite-unverified s {{ margin-right: 2px; }}
.rq-cite-unverified small {{ border: 1px solid #b5b5b5; border-radius: 3px; padding: 0 3px; font-size: .75em; }}
.rq-refs {{ margin: .6em 0 0; padding: .4em 0 0 1.2em; border-top: 1px dashed var(--border-color-primary);
           font-size: .88em; list-style: none; }}
.rq-refs li {{ margin: .15em 0; }}
.rq-ref-unverified {{ color: #8a8a8a; }}
.rq-notfound {{ color: var(--body-text-color-subdued); }}
.rq-caret {{ animation: rq-blink 1s steps(1) infinite; }}
@keyframes rq-blink {{ 50% {{ opacity: 0; }} }}
.rq-src-title {{ margin: 0 0 .4em; font-size: 1.05em; }}
.rq-fields {{ display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: .1em .8em; margin: 0 0 .5em;
              font-size: .9em; }}
.rq-fields dt {{ color: var(--body-text-color-subdued); }}
.rq-fields dd {{ margin: 0; }}
.rq-src-ref {{ font-size: .9em; margin: .3em 0; padding: .3em .5em; background: var(--background-fill-secondary);
              border-radius: 4px; }}
.rq-src-outline summary {{ cursor: pointer; color: var(--body-text-color-subdued); font-size: .9em; }}
.rq-src .rq-outline, .rq-reader .rq-outline, .rq-outline ul {{ list-style: none !important; margin: .2em 0;
    padding-left: 1em; font-size: .88em; }}
.rq-outline li {{ list-style: none !important; margin: 0; }}
.rq-outline li::marker {{ content: none; }}
.rq-src .rq-outline {{ max-height: 14em; overflow-y: auto; }}
.rq-outline .rq-o-label {{ color: var(--body-text-color-subdued); }}
.rq-outline .rq-current > .rq-o-label, .rq-outline .rq-current {{ font-weight: 700; color: var(--color-accent); }}
.rq-outline .rq-current li {{ font-weight: 400; color: var(--body-text-color); }}
.rq-jump {{ cursor: pointer; }}
.rq-jump:hover {{ text-decoration: underline; }}
.rq-src-heading {{ font-weight: 600; margin: .6em 0 .3em; }}
.rq-src-body, .rq-reader-body {{ max-height: 26em; overflow-y: auto; border: 1px solid var(--border-color-primary);
                                 border-radius: 6px; padding: .5em .7em; }}
.rq-reader-body {{ max-height: 40em; }}
.rq-src-text, .rq-reader-text {{ white-space: pre-wrap; line-height: 1.9; }}
mark.rq-mark {{ background: #ffe27a; color: #222; padding: 0 2px; border-radius: 2px; }}
.rq-warn, .rq-error {{ color: #b45309; }}
.rq-letters {{ width: 100%; border-collapse: collapse; font-size: .92em; }}
.rq-letters th, .rq-letters td {{ text-align: left; padding: .35em .5em;
                                  border-bottom: 1px solid var(--border-color-primary); }}
tr.rq-letter {{ cursor: pointer; }}
tr.rq-letter:hover, tr.rq-letter:focus {{ background: var(--background-fill-secondary); outline: none; }}
.rq-list-count {{ margin: .3em 0; color: var(--body-text-color-subdued); }}
.rq-st-added .rq-status, .rq-st-updated .rq-status {{ color: #15803d; font-weight: 600; }}
.rq-st-failed .rq-status {{ color: #b91c1c; font-weight: 600; }}
.rq-toast {{ position: fixed; bottom: 2em; left: 50%; transform: translateX(-50%); z-index: 1000; padding: .5em 1.2em;
            background: #333; color: #fff; border-radius: 6px; font-family: {CJK_FONTS}; }}
"""

PAGE_JS = """
() => {
  if (window.__replyqa) return;
  window.__replyqa = true;
  const style = document.createElement('style');
  style.id = 'replyqa-style';
  style.textContent = __CSS__;
  document.head.appendChild(style);
  // A click becomes the value of a hidden textbox; its change event asks the server. The
  // timestamp makes every click a change, so clicking the same marker twice works too.
  const send = (boxId, value) => {
    const box = document.querySelector('#' + boxId + ' textarea');
    if (!box) return;
    box.value = value + '|' + Date.now();
    box.dispatchEvent(new Event('input', {bubbles: true}));
  };
  const act = (target) => {
    const cite = target.closest('.rq-cite');
    if (cite) {
      const m = /(?:^|\\s)rq-k-(\\d+)-(\\d+)(?:\\s|$)/.exec(cite.className);
      if (m) { send('rq-cite-key', m[1] + ':' + m[2]); return true; }
    }
    const row = target.closest('[data-rq-letter]');
    if (row) { send('rq-letter-key', row.getAttribute('data-rq-letter')); return true; }
    const jump = target.closest('[data-rq-jump]');
    if (jump) {
      const dest = document.getElementById(jump.getAttribute('data-rq-jump'));
      if (dest) dest.scrollIntoView({block: 'start'});
      return true;
    }
    return false;
  };
  document.addEventListener('click', (ev) => {
    if (ev.target instanceof Element && act(ev.target)) ev.preventDefault();
  }, true);
  document.addEventListener('keydown', (ev) => {
    if ((ev.key === 'Enter' || ev.key === ' ') && ev.target instanceof Element
        && ev.target.matches('.rq-cite, [data-rq-letter], [data-rq-jump]') && act(ev.target)) {
      ev.preventDefault();
    }
  }, true);
  window.__replyqaToast = (message) => {
    const toast = document.createElement('div');
    toast.className = 'rq-toast';
    toast.setAttribute('role', 'status');
    toast.textContent = message;
    document.body.appendChild(toast);
    setTimeout(() => toast.remove(), 1800);
  };
}
""".replace("__CSS__", json.dumps(PAGE_CSS))

SCROLL_TO_MARK_JS = """
watch('value', () => {
  const mark = element.querySelector('mark');
  if (mark) mark.scrollIntoView({block: 'center', inline: 'nearest'});
});
"""
"""For the source panel (`gr.HTML(js_on_load=...)`): after each new source, bring the quote into view."""

SCROLL_TO_TOP_JS = """
watch('value', () => {
  const body = element.querySelector('.rq-reader-body');
  if (body) body.scrollTop = 0;
});
"""

COPY_JS = """
async (text) => {
  const toast = window.__replyqaToast || (() => {});
  if (!text) { toast('还没有可复制的答案'); return; }
  try {
    await navigator.clipboard.writeText(text);
  } catch (err) {
    // Without a secure context (http on another host) the async clipboard is missing.
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  toast('已复制答案和引用');
}
"""
