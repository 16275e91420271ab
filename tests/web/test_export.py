"""The Word and Markdown exports as documents, opened the way a reader opens them: an A4 page in
the 公文 look, real footnotes — one per distinct source, later mentions as Word's own
cross-references — with references carrying issuer, 文号, date and section; Markdown that
pastes as it reads; letter text that stays text in both; fiction marked as fiction."""

from __future__ import annotations

import io

import docx
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from markdown_it import MarkdownIt

from assistant.service import ReplyQA
from assistant.web.export import FONT_BODY, FONT_HEADING, FONT_TITLE, conversation_docx, conversation_markdown
from assistant.web.footnotes import footnote_texts
from assistant.web.references import SAMPLE_TAG, answer_letters, reference_line, sources_for

Q_CITE = "东川省首批5G应用示范项目有多少个？"
Q_FILTER = "2022年青河市农村公路建设完成了多少投资？"
Q_HOSTILE = "建议附件中转述的群众网上留言原文含有哪些字符？"


def _east_asia(element: object) -> str | None:
    fonts = element.find(qn("w:rPr")).find(qn("w:rFonts"))  # type: ignore[attr-defined]
    assert not any(k.endswith("Theme") or k.endswith("theme") for k in fonts.attrib), "theme fonts win over names"
    return fonts.get(qn("w:eastAsia"))


def test_docx_is_a4_in_the_official_look_with_one_footnote_per_source(ui_app: ReplyQA) -> None:
    answers = [ui_app.ask(Q_FILTER), ui_app.ask(Q_CITE), ui_app.ask(Q_FILTER), ui_app.ask(Q_HOSTILE)]
    assert all(a.found and a.citations for a in answers)
    sources = sources_for(answer_letters(answers), ui_app.letter)
    data = conversation_docx(answers, sources)
    document = docx.Document(io.BytesIO(data))

    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(0.5) and abs(section.page_height - Mm(297)) < Mm(0.5), "A4"
    assert abs(section.top_margin - Mm(37)) < Mm(0.5) and abs(section.left_margin - Mm(28)) < Mm(0.5)
    styles = document.styles
    assert _east_asia(styles["Normal"].element) == FONT_BODY == "仿宋"
    assert styles["Normal"].font.size == Pt(16), "三号"
    assert _east_asia(styles["Heading 1"].element) == FONT_HEADING == "黑体"
    assert _east_asia(styles["Title"].element) == FONT_TITLE == "方正小标宋简体"
    assert styles["Title"].font.size == Pt(22), "二号"
    assert _east_asia(styles["footnote text"].element) == "仿宋"
    assert document.core_properties.author == "答复问答助手" and "python-docx" not in document.core_properties.comments
    assert next(p.text for p in document.paragraphs if p.style.name == "Heading 1") == f"问题1：{Q_FILTER}"

    cited = [reference_line(c, sources[c.letter]) for a in answers for c in a.citations]
    distinct = list(dict.fromkeys(cited))
    assert len(distinct) < len(cited), "the same source is cited twice"
    assert footnote_texts(data) == distinct, "one footnote per distinct source, in order of first mention"
    body = document.element.body
    assert len(body.findall(".//" + qn("w:footnoteReference"))) == len(distinct)
    crossrefs = [t.text for t in body.iter(qn("w:instrText"))]
    assert len(crossrefs) == len(cited) - len(distinct) and all("NOTEREF" in t for t in crossrefs)
    marks = {b.get(qn("w:name")) for b in body.iter(qn("w:bookmarkStart"))}
    assert all(t.split()[1] in marks for t in crossrefs), "each cross-reference points at a footnote's mark"
    shown, target = [], None
    for el in body.iter(qn("w:instrText"), qn("w:t")):
        if el.tag == qn("w:instrText"):
            target = el.text.split()[1]
        elif target is not None:
            shown.append((target, el.text))
            target = None
    assert shown and all(name == f"_RefRQNote{number}" for name, number in shown), "each shows its own number"

    farm = next(n for n in footnote_texts(data) if "农村公路" in n or "第58号" in n)
    assert "青河市交通运输局" in farm and "（青交建议复〔2023〕41号，2023年6月18日）" in farm, "issuer, 文号, date"
    assert all(n.startswith(SAMPLE_TAG) for n in footnote_texts(data)), "every quote here is from a sample"
    text = "\n".join(p.text for p in document.paragraphs)
    assert "示例（虚构）" in text.split("问题1")[0], "the document says up front it quotes fiction"
    assert "<script>alert(1)</script>" in text and "[1]" not in text


def test_markdown_pastes_clean_and_keeps_letter_text_as_text(ui_app: ReplyQA) -> None:
    answers = [ui_app.ask(Q_FILTER), ui_app.ask(Q_HOSTILE)]
    sources = sources_for(answer_letters(answers), ui_app.letter)
    markdown = conversation_markdown(answers, sources)
    ordinary = markdown.split("## 问题 2")[0]
    assert "\\" not in ordinary, "nothing in an ordinary answer needs escaping"
    assert answers[0].text in ordinary
    assert f"- [1] {reference_line(answers[0].citations[0], sources[answers[0].citations[0].letter])}" in ordinary
    rendered = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    assert "<a " not in rendered and "<script" not in rendered and "<img" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered, "the letter's markup shows as text"
    assert "示例（虚构）" in markdown.split("## 问题 1")[0]
