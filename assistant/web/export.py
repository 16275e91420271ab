"""A conversation as draft material: Word with real footnotes, Markdown, or plain text for the
clipboard — each citation given as the draft-ready reference staff paste into documents.

python-docx has no footnote API, so the `.docx` gets its footnotes the way Word itself stores
them: a `word/footnotes.xml` part (with the separator footnotes -1 and 0 Word expects),
related to the main document, the `FootnoteText` / `FootnoteReference` styles, a
`w:footnotePr` in the settings, and a `w:footnoteReference` run at each `[n]` marker. Word,
WPS and LibreOffice then number, place and renumber them like any footnote typed by hand.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph

from assistant.ask.answer import Answer
from assistant.ask.citation import Citation, references_block

_MARKER = re.compile(r"\[(\d+)\]")
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>()#!|~])")


def reference_line(citation: Citation) -> str:
    """One reference without its `[n] ` — exactly the line `references_block` writes."""
    return references_block([citation]).removeprefix(f"[{citation.n}] ")


def answer_with_references(answer: Answer) -> str:
    """What 复制引用 puts on the clipboard: the answer, a blank line, the numbered references."""
    refs = references_block(answer.citations) if answer.found else ""
    return f"{answer.text}\n\n{refs}" if refs else answer.text


def _stamp(now: datetime | None) -> str:
    return (now or datetime.now()).strftime("%Y年%m月%d日 %H:%M")


# --- Markdown -------------------------------------------------------------------------------
def md_escape(text: str) -> str:
    """Letter text shown as itself in any Markdown viewer: no links, emphasis or HTML, and
    `http://` broken up so viewers do not turn it into an autolink."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("://", "\\://")


def _md_answer(answer: Answer) -> str:
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


def conversation_markdown(answers: Sequence[Answer], *, now: datetime | None = None) -> str:
    lines = ["# 答复问答记录", "", f"导出时间：{_stamp(now)}", ""]
    for i, answer in enumerate(answers, start=1):
        lines += [f"## 问题 {i}：{md_escape(answer.question)}", "", _md_answer(answer), ""]
        if answer.found and answer.citations:
            lines += ["引用：", ""]
            lines += [f"- \\[{c.n}\\] {md_escape(reference_line(c))}" for c in answer.citations]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# --- Word -----------------------------------------------------------------------------------
_FOOTNOTES_XML = (
    f"<w:footnotes {nsdecls('w')}>"
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>'
    "</w:pPr><w:r><w:separator/></w:r></w:p></w:footnote>"
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:pPr><w:spacing w:after="0" w:line="240" '
    'w:lineRule="auto"/></w:pPr><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>'
    "</w:footnotes>"
)
_FOOTNOTE_STYLES = (
    f'<w:style {nsdecls("w")} w:type="paragraph" w:styleId="FootnoteText"><w:name w:val="footnote text"/>'
    '<w:basedOn w:val="Normal"/><w:uiPriority w:val="99"/><w:unhideWhenUsed/>'
    '<w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>'
    '<w:rPr><w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr></w:style>',
    f'<w:style {nsdecls("w")} w:type="character" w:styleId="FootnoteReference"><w:name w:val="footnote reference"/>'
    '<w:uiPriority w:val="99"/><w:unhideWhenUsed/><w:rPr><w:vertAlign w:val="superscript"/></w:rPr></w:style>',
)


def _clean(text: str) -> str:
    """XML 1.0 cannot hold most control characters; a pasted letter sometimes does."""
    return _XML_UNSAFE.sub("", text)


class _Footnotes:
    """The footnotes part of one document, created on first use."""

    def __init__(self, document: DocxDocument) -> None:
        self.document = document
        self.root: Any = None
        self.next_id = 1

    def _ensure(self) -> None:
        if self.root is not None:
            return
        doc_part = self.document.part
        part = XmlPart(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, parse_xml(_FOOTNOTES_XML), doc_part.package)
        doc_part.relate_to(part, RT.FOOTNOTES)
        self.root = part.element
        styles = self.document.styles.element
        present = {s.get(qn("w:styleId")) for s in styles.findall(qn("w:style"))}
        for xml in _FOOTNOTE_STYLES:
            style = parse_xml(xml)
            if style.get(qn("w:styleId")) not in present:
                styles.append(style)
        settings = self.document.settings.element
        if settings.find(qn("w:footnotePr")) is None:
            pr = parse_xml(f'<w:footnotePr {nsdecls("w")}><w:footnote w:id="-1"/><w:footnote w:id="0"/></w:footnotePr>')
            later = next((settings.find(qn(t)) for t in ("w:endnotePr", "w:compat", "w:docVars", "w:rsids")
                          if settings.find(qn(t)) is not None), None)
            if later is not None:
                later.addprevious(pr)
            else:
                settings.append(pr)

    def add(self, paragraph: Paragraph, text: str) -> None:
        """A footnote holding `text`, referenced at the end of `paragraph` as it is now."""
        self._ensure()
        fid = str(self.next_id)
        self.next_id += 1
        ref_run = paragraph.add_run()._r
        ref_run.get_or_add_rPr().append(_style_ref("w:rStyle", "FootnoteReference"))
        ref = OxmlElement("w:footnoteReference")
        ref.set(qn("w:id"), fid)
        ref_run.append(ref)

        note = OxmlElement("w:footnote")
        note.set(qn("w:id"), fid)
        p = OxmlElement("w:p")
        p_pr = OxmlElement("w:pPr")
        p_pr.append(_style_ref("w:pStyle", "FootnoteText"))
        p.append(p_pr)
        mark = OxmlElement("w:r")
        mark_pr = OxmlElement("w:rPr")
        mark_pr.append(_style_ref("w:rStyle", "FootnoteReference"))
        mark.append(mark_pr)
        mark.append(OxmlElement("w:footnoteRef"))
        p.append(mark)
        body = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.set(qn("xml:space"), "preserve")
        t.text = " " + _clean(text)
        body.append(t)
        p.append(body)
        note.append(p)
        self.root.append(note)


def _style_ref(tag: str, style_id: str) -> Any:
    el = OxmlElement(tag)
    el.set(qn("w:val"), style_id)
    return el


def _add_text(paragraph: Paragraph, text: str) -> None:
    lines = _clean(text).split("\n")
    for i, line in enumerate(lines):
        run = paragraph.add_run(line)
        if i < len(lines) - 1:
            run.add_break()


def conversation_docx(answers: Sequence[Answer], *, now: datetime | None = None) -> bytes:
    """The conversation as a Word document; each `[n]` becomes a footnote with its reference."""
    document = Document()
    normal = document.styles["Normal"]
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    document.add_heading("答复问答记录", level=1)
    document.add_paragraph(f"导出时间：{_stamp(now)}。引用以脚注给出，可直接用于公文起草。")
    notes = _Footnotes(document)
    for i, answer in enumerate(answers, start=1):
        question = document.add_paragraph()
        question.add_run(f"问题 {i}：").bold = True
        _add_text(question, answer.question)
        paragraph = document.add_paragraph()
        paragraph.add_run("答：").bold = True
        by_n = {c.n: c for c in answer.citations} if answer.found else {}
        pos = 0
        for m in _MARKER.finditer(answer.text):
            citation = by_n.get(int(m.group(1)))
            if citation is None:
                continue
            _add_text(paragraph, answer.text[pos:m.start()])
            notes.add(paragraph, reference_line(citation))
            pos = m.end()
        _add_text(paragraph, answer.text[pos:])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def footnote_texts(data: bytes) -> list[str]:
    """The footnotes of a `.docx` in order (separators left out) — for checking an export."""
    document = Document(io.BytesIO(data))
    for rel in document.part.rels.values():
        if rel.reltype == RT.FOOTNOTES:
            part = rel.target_part
            root = part.element if hasattr(part, "element") else parse_xml(part.blob)
            out = []
            for note in root.findall(qn("w:footnote")):
                if note.get(qn("w:type")) in ("separator", "continuationSeparator"):
                    continue
                out.append("".join(t.text or "" for t in note.iter(qn("w:t"))).strip())
            return out
    return []
