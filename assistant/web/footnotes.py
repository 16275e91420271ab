"""Real Word footnotes in a python-docx document, one per distinct source.

python-docx has no footnote API, so the `.docx` gets its footnotes the way Word itself stores
them: a `word/footnotes.xml` part (with the separator footnotes -1 and 0 Word expects),
related to the main document, the `FootnoteText` / `FootnoteReference` styles, a
`w:footnotePr` in the settings, and a `w:footnoteReference` run at each marker. Word, WPS and
LibreOffice then number, place and renumber them like any footnote typed by hand.

A source cited again is not given a second, identical footnote: its later markers are what
Word's own 插入 → 交叉引用 → 脚注编号 makes, a `NOTEREF` field to a bookmark around the first
footnote's reference mark, formatted as a footnote reference (`\\f`) and holding the current
number as its result, so it reads right before any field update and stays right after one.
"""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.text.paragraph import Paragraph

FONT_LATIN = "Times New Roman"

_FOOTNOTES_XML = (
    f"<w:footnotes {nsdecls('w')}>"
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>'
    "</w:pPr><w:r><w:separator/></w:r></w:p></w:footnote>"
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:pPr><w:spacing w:after="0" w:line="240" '
    'w:lineRule="auto"/></w:pPr><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>'
    "</w:footnotes>"
)


def _footnote_styles(east_asia: str, half_points: int) -> tuple[str, str]:
    fonts = (f'<w:rFonts w:ascii="{FONT_LATIN}" w:hAnsi="{FONT_LATIN}" w:eastAsia="{east_asia}" '
             f'w:cs="{FONT_LATIN}"/>')
    return (
        f'<w:style {nsdecls("w")} w:type="paragraph" w:styleId="FootnoteText"><w:name w:val="footnote text"/>'
        '<w:basedOn w:val="Normal"/><w:uiPriority w:val="99"/><w:unhideWhenUsed/>'
        '<w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/><w:ind w:firstLine="0"/>'
        '<w:jc w:val="left"/></w:pPr>'
        f'<w:rPr>{fonts}<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr></w:style>',
        f'<w:style {nsdecls("w")} w:type="character" w:styleId="FootnoteReference"><w:name w:val="footnote reference"/>'
        '<w:uiPriority w:val="99"/><w:unhideWhenUsed/><w:rPr><w:vertAlign w:val="superscript"/></w:rPr></w:style>',
    )


def _style_ref(tag: str, style_id: str) -> Any:
    el = OxmlElement(tag)
    el.set(qn("w:val"), style_id)
    return el


def _ref_run(*children: Any) -> Any:
    run = OxmlElement("w:r")
    pr = OxmlElement("w:rPr")
    pr.append(_style_ref("w:rStyle", "FootnoteReference"))
    run.append(pr)
    for child in children:
        run.append(child)
    return run


class Footnotes:
    """The footnotes part of one document, created on first use; `cite` adds a footnote for a
    new text and a cross-reference to it for a text already footnoted."""

    def __init__(self, document: DocxDocument, *, east_asia: str, size_pt: float) -> None:
        self.document = document
        self.east_asia = east_asia
        self.half_points = round(size_pt * 2)
        self.root: Any = None
        self.by_text: dict[str, int] = {}

    @property
    def count(self) -> int:
        return len(self.by_text)

    def _ensure(self) -> None:
        if self.root is not None:
            return
        doc_part = self.document.part
        part = XmlPart(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, parse_xml(_FOOTNOTES_XML), doc_part.package)
        doc_part.relate_to(part, RT.FOOTNOTES)
        self.root = part.element
        styles = self.document.styles.element
        present = {s.get(qn("w:styleId")) for s in styles.findall(qn("w:style"))}
        for xml in _footnote_styles(self.east_asia, self.half_points):
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

    def cite(self, paragraph: Paragraph, text: str) -> int:
        """A footnote mark at the end of `paragraph` for `text`; returns the footnote's number."""
        self._ensure()
        known = self.by_text.get(text)
        if known is not None:
            self._cross_reference(paragraph, known)
            return known
        number = len(self.by_text) + 1
        self.by_text[text] = number
        reference = OxmlElement("w:footnoteReference")
        reference.set(qn("w:id"), str(number))
        start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
        for mark in (start, end):
            mark.set(qn("w:id"), str(900 + number))
        start.set(qn("w:name"), _bookmark(number))
        p = paragraph._p
        p.append(start)
        p.append(_ref_run(reference))
        p.append(end)
        self.root.append(self._note(number, text))
        return number

    def _cross_reference(self, paragraph: Paragraph, number: int) -> None:
        def field_char(kind: str) -> Any:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            return el

        instr = OxmlElement("w:instrText")
        instr.set(qn("xml:space"), "preserve")
        instr.text = f" NOTEREF {_bookmark(number)} \\f \\h "
        shown = OxmlElement("w:t")
        shown.text = str(number)
        p = paragraph._p
        for run in (_ref_run(field_char("begin")), _ref_run(instr), _ref_run(field_char("separate")),
                    _ref_run(shown), _ref_run(field_char("end"))):
            p.append(run)

    def _note(self, number: int, text: str) -> Any:
        note = OxmlElement("w:footnote")
        note.set(qn("w:id"), str(number))
        p = OxmlElement("w:p")
        p_pr = OxmlElement("w:pPr")
        p_pr.append(_style_ref("w:pStyle", "FootnoteText"))
        p.append(p_pr)
        p.append(_ref_run(OxmlElement("w:footnoteRef")))
        body = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.set(qn("xml:space"), "preserve")
        t.text = " " + text
        body.append(t)
        p.append(body)
        note.append(p)
        return note


def _bookmark(number: int) -> str:
    """Hidden bookmark names (leading `_`), as Word gives its own cross-reference targets."""
    return f"_RefRQNote{number}"


def _footnotes_root(data: bytes) -> Any:
    document = Document(io.BytesIO(data))
    for rel in document.part.rels.values():
        if rel.reltype == RT.FOOTNOTES:
            part = rel.target_part
            return part.element if hasattr(part, "element") else parse_xml(part.blob)
    return None


def footnote_texts(data: bytes) -> list[str]:
    """The footnotes of a `.docx` in order (separators left out) — for checking an export."""
    root = _footnotes_root(data)
    if root is None:
        return []
    out = []
    for note in root.findall(qn("w:footnote")):
        if note.get(qn("w:type")) in ("separator", "continuationSeparator"):
            continue
        out.append("".join(t.text or "" for t in note.iter(qn("w:t"))).strip())
    return out
