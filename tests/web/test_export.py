"""The Word and Markdown exports as documents: real footnotes Word, WPS and LibreOffice
renumber themselves, and letter text that stays text in both.
"""

from __future__ import annotations

import io

import docx

from assistant.service import ReplyQA
from assistant.web.export import conversation_docx, conversation_markdown, footnote_texts, reference_line

Q_CITE = "东川省首批5G应用示范项目有多少个？"
Q_HOSTILE = "建议附件中转述的群众网上留言原文含有哪些字符？"


def test_docx_footnotes_are_real(ui_app: ReplyQA) -> None:
    answers = [ui_app.ask(Q_CITE), ui_app.ask(Q_HOSTILE)]
    data = conversation_docx(answers)
    notes = footnote_texts(data)
    assert notes == [reference_line(c) for a in answers for c in a.citations]
    document = docx.Document(io.BytesIO(data))
    rels = [r for r in document.part.rels.values() if r.reltype.endswith("/footnotes")]
    assert len(rels) == 1 and str(rels[0].target_part.partname) == "/word/footnotes.xml"
    styles = {s.style_id for s in document.styles}
    assert {"FootnoteText", "FootnoteReference"} <= styles
    assert document.settings.element.find(docx.oxml.ns.qn("w:footnotePr")) is not None
    assert "<script>alert(1)</script>" in "\n".join(p.text for p in document.paragraphs)
    assert "[点击查看]" not in conversation_markdown(answers)
