"""A conversation as draft material: Word in the usual 公文 look with real footnotes, or Markdown
that pastes clean — each citation given as the draft-ready reference (`references`).

The Word document follows what a draft in a Chinese government office looks like (GB/T 9704
for the page and the type): A4 with 37/35/28/26 mm margins, the title in 方正小标宋简体 二号
(22 pt), each question as a 黑体 三号 heading, the text in 仿宋 三号 (16 pt) at a fixed 28 pt
line with a two-character first-line indent, Latin letters and figures in Times New Roman,
footnotes in 仿宋 五号 — one per distinct source (`footnotes`). Its properties name the
assistant as author, not the library that wrote it.

Markdown escapes only what would otherwise become markup (a link, an HTML tag, emphasis, a
heading or list at the start of a line, a bare URL): `[1]` or `第58号（一）` stay as they are, so
the text pasted from a viewer or from the file itself reads like the answer, while a letter's
`<script>` or `[点击](http://…)` still stays text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import BaseStyle
from docx.text.paragraph import Paragraph

from assistant.ask.answer import Answer
from assistant.web.footnotes import FONT_LATIN, Footnotes
from assistant.web.references import (
    SAMPLE_MARK,
    Sources,
    lead_line,
    quotes_fiction,
    reference_line,
    text_without_leads,
)

TITLE = "答复问答记录"
AUTHOR = "答复问答助手"
FONT_TITLE = "方正小标宋简体"
FONT_HEADING = "黑体"
FONT_BODY = "仿宋"
SIZE_TITLE, SIZE_HEADING, SIZE_BODY, SIZE_NOTE = 22.0, 16.0, 16.0, 10.5
LINE_PT = 28.0
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
FICTION_NOTE = f"注：本记录引用了{SAMPLE_MARK}答复，其内容为演示用虚构文本，不是真实答复，不能用于公文。"

_MARKER = re.compile(r"\[(\d+)\]")
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _stamp(now: datetime | None) -> str:
    when = now or datetime.now()
    return f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}"


# --- Markdown -------------------------------------------------------------------------------
_MD_INLINE = re.compile(
    r"\\(?=[!-/:-@\[-`{-~])"          # a backslash that would escape what follows
    r"|[*_`]"                          # emphasis and code
    r"|~(?=~)"                         # strikethrough
    r"|\](?=[(\[:])"                   # the end of a link text: [..](..), [..][..]
    r"|<(?=[A-Za-z/!?])"               # an HTML tag or an autolink
    r"|&(?=#?\w+;)"                    # an entity
    r"|\|"                             # a table cell
    r"|(?<=[A-Za-z])(?=://)"           # a bare URL: http://…
    r"|(?<=\bwww)(?=\.)"               # www.…
)
_MD_LINE_START = re.compile(r"^(\s*)(?:([#>+=]|-(?=\s|-|$)|\[(?=[^\]]*\]:))|(\d+)([.)])(?=\s))")


def md_escape(text: str) -> str:
    """Letter text shown as itself in any Markdown viewer, escaped only where it would not be."""

    def line_start(m: re.Match[str]) -> str:
        if m.group(2):
            return f"{m.group(1)}\\{m.group(2)}"
        return f"{m.group(1)}{m.group(3)}\\{m.group(4)}"  # `1\.`: a backslash before a digit escapes nothing

    lines = []
    for line in text.split("\n"):
        line = _MD_INLINE.sub(lambda m: "\\" + m.group(), line)
        lines.append(_MD_LINE_START.sub(line_start, line, count=1))
    return "\n".join(lines)


def _md_answer(answer: Answer) -> str:
    if not answer.found:
        return "  \n".join(md_escape(line) for line in text_without_leads(answer))
    parts: list[str] = []
    pos = 0
    known = {c.n for c in answer.citations}
    for m in _MARKER.finditer(answer.text):
        if int(m.group(1)) in known:
            parts.append(md_escape(answer.text[pos:m.start()]))
            parts.append(m.group())  # our own marker stays a readable [n]
            pos = m.end()
    parts.append(md_escape(answer.text[pos:]))
    return "".join(parts).replace("\n", "  \n")


def conversation_markdown(answers: Sequence[Answer], sources: Sources, *, now: datetime | None = None) -> str:
    lines = [f"# {TITLE}", "", f"导出时间：{_stamp(now)}", ""]
    if any(quotes_fiction(a, sources) for a in answers):
        lines += [md_escape(FICTION_NOTE), ""]
    for i, answer in enumerate(answers, start=1):
        lines += [f"## 问题 {i}：{md_escape(answer.question)}", "", _md_answer(answer), ""]
        if answer.found and answer.citations:
            lines += ["引用：", ""]
            lines += [f"- [{c.n}] {md_escape(reference_line(c, sources.get(c.letter)))}" for c in answer.citations]
            lines.append("")
        elif answer.leads:
            lines += [f"- {md_escape(lead_line(lead, sources.get(lead.letter)))}" for lead in answer.leads]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# --- Word -----------------------------------------------------------------------------------
def _clean(text: str) -> str:
    """XML 1.0 cannot hold most control characters; a pasted letter sometimes does."""
    return _XML_UNSAFE.sub("", text)


def set_fonts(element: Any, east_asia: str, size_pt: float | None = None) -> None:
    """Explicit fonts on a style's or a run's properties. Theme font attributes are removed:
    Word prefers them over the explicit names, and the template's themes are Latin fonts."""
    r_pr = element.get_or_add_rPr()
    fonts = r_pr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr, value in (("w:ascii", FONT_LATIN), ("w:hAnsi", FONT_LATIN), ("w:eastAsia", east_asia),
                        ("w:cs", FONT_LATIN)):
        fonts.set(qn(attr), value)
    if size_pt is not None:
        for tag in ("w:sz", "w:szCs"):
            old = r_pr.find(qn(tag))
            if old is not None:
                r_pr.remove(old)
            size = OxmlElement(tag)
            size.set(qn("w:val"), str(round(size_pt * 2)))
            r_pr.append(size)


def _style(style: BaseStyle, east_asia: str, size_pt: float, *, center: bool = False, indent: bool = False,
           before: float = 0.0) -> None:
    set_fonts(style.element, east_asia, size_pt)
    font = style.font  # type: ignore[attr-defined]
    font.bold, font.italic = False, False
    font.color.rgb = RGBColor(0, 0, 0)
    p_pr = style.element.get_or_add_pPr()
    border = p_pr.find(qn("w:pBdr"))
    if border is not None:
        p_pr.remove(border)
    fmt = style.paragraph_format  # type: ignore[attr-defined]
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(max(LINE_PT, size_pt * 1.3))
    fmt.space_before, fmt.space_after = Pt(before), Pt(0)
    fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.first_line_indent = Pt(size_pt * 2) if indent else Pt(0)


def _setup(document: DocxDocument, now: datetime | None) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    styles = document.styles
    _style(styles["Normal"], FONT_BODY, SIZE_BODY, indent=True)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")
    styles["Normal"].element.get_or_add_rPr().append(lang)
    _style(styles["Title"], FONT_TITLE, SIZE_TITLE, center=True)
    _style(styles["Heading 1"], FONT_HEADING, SIZE_HEADING, before=LINE_PT / 2)
    props = document.core_properties
    props.author = props.last_modified_by = AUTHOR
    props.title, props.subject, props.language = TITLE, "答复问答", "zh-CN"
    props.comments, props.keywords = "", ""
    props.created = props.modified = (now or datetime.now()).astimezone()


def _add_text(paragraph: Paragraph, text: str) -> None:
    lines = _clean(text).split("\n")
    for i, line in enumerate(lines):
        run = paragraph.add_run(line)
        if i < len(lines) - 1:
            run.add_break()


def _answer_paragraphs(document: DocxDocument, answer: Answer, sources: Sources, notes: Footnotes) -> None:
    paragraph = document.add_paragraph()
    paragraph.add_run("答：")
    if not answer.found:
        _add_text(paragraph, "\n".join(text_without_leads(answer)))
        for lead in answer.leads:
            document.add_paragraph(_clean(lead_line(lead, sources.get(lead.letter))))
        return
    by_n = {c.n: c for c in answer.citations}
    pos = 0
    for m in _MARKER.finditer(answer.text):
        citation = by_n.get(int(m.group(1)))
        if citation is None:
            continue
        _add_text(paragraph, answer.text[pos:m.start()])
        notes.cite(paragraph, _clean(reference_line(citation, sources.get(citation.letter))))
        pos = m.end()
    _add_text(paragraph, answer.text[pos:])


def conversation_docx(answers: Sequence[Answer], sources: Sources, *, now: datetime | None = None) -> bytes:
    """The conversation as a Word document; each `[n]` becomes a footnote with its reference
    (or a cross-reference to the footnote its source already has)."""
    document = Document()
    _setup(document, now)
    document.add_paragraph(TITLE, style="Title")
    stamp = document.add_paragraph(f"导出时间：{_stamp(now)}")
    stamp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    stamp.paragraph_format.first_line_indent = Pt(0)
    if any(quotes_fiction(a, sources) for a in answers):
        document.add_paragraph(FICTION_NOTE)
    notes = Footnotes(document, east_asia=FONT_BODY, size_pt=SIZE_NOTE)
    for i, answer in enumerate(answers, start=1):
        heading = document.add_paragraph(style="Heading 1")
        _add_text(heading, f"问题{i}：{answer.question}")
        _answer_paragraphs(document, answer, sources, notes)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
