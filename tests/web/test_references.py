"""The page's words without a browser or a model: references as a draft cites a letter, the
scope in words, the search's folding of a 文号, a failure reason without English in it."""

from __future__ import annotations

from assistant.ask.answer import Answer, Lead
from assistant.ask.citation import Citation
from assistant.ask.retrieve import Filters
from assistant.web.facets import describe_scope, scope_words
from assistant.web.letters_html import plain_reason
from assistant.web.references import (
    SourceFacts,
    answer_with_references,
    lead_line,
    quotes_fiction,
    reference_line,
    references_block,
)
from assistant.web.render import scope_html
from assistant.web.search import fold

CITATION = Citation(n=1, letter="082",
                    title="关于广东省卫生健康委员会对省十三届人大三次会议第1234号代表建议答复的函",
                    issuer="广东省卫生健康委员会", date="2020-06-23", section="三/（一）", quote="……", start=0, end=2)


def test_a_reference_carries_issuer_doc_number_date_and_section() -> None:
    line = reference_line(CITATION, SourceFacts(doc_number="粤卫案函〔2020〕208号"))
    assert line == ("广东省卫生健康委员会：《关于广东省卫生健康委员会对省十三届人大三次会议第1234号代表建议答复的函》"
                    "（粤卫案函〔2020〕208号，2020年6月23日）第三部分（一）")
    bare = CITATION.model_copy(update={"issuer": None, "date": None, "title": "关于加快5G建设的建议",
                                       "section": "正文"})
    assert reference_line(bare) == "《关于加快5G建设的建议》的答复正文"
    doubtful = CITATION.model_copy(update={"verified": False})
    assert reference_line(doubtful).endswith("（未能核实）")


def test_a_quote_from_a_scan_says_it_was_recognised_by_ocr() -> None:
    from assistant.web.references import facts_of
    from index.reading.letter import ReplyLetter

    scanned = ReplyLetter(id="s", source="s.pdf", text="……", ocr=True)
    assert reference_line(CITATION, facts_of(scanned)).endswith("第三部分（一）（扫描件文字识别，请核对原件）")
    assert "文字识别" not in reference_line(CITATION, facts_of(scanned.model_copy(update={"ocr": False})))


def test_fiction_is_marked_wherever_it_is_quoted() -> None:
    sources = {"082": SourceFacts(fictional=True)}
    assert reference_line(CITATION, sources["082"]).startswith("【示例（虚构）】广东省卫生健康委员会：")
    found = Answer(question="问", query="问", found=True, text="“……”[1]", citations=[CITATION])
    assert quotes_fiction(found, sources) and not quotes_fiction(found, {})
    copied = answer_with_references(found, sources)
    assert copied.startswith("“……”[1]\n\n[1] 【示例（虚构）】")
    assert copied.endswith(references_block([CITATION], sources))
    lead = Lead(letter="082", title="关于某某的建议", issuer="某局", date="2021-05-04")
    missing = Answer(question="问", query="问", found=False, leads=[lead],
                     text="未找到能回答这个问题的答复内容。以下答复可能相关，可供查阅（不作为答案）：\n"
                          "- 《关于某某的建议》（某局，2021年5月4日）")
    assert answer_with_references(missing, sources).splitlines() == [
        "未找到能回答这个问题的答复内容。以下答复可能相关，可供查阅（不作为答案）：",
        f"- {lead_line(lead, sources['082'])}",
    ]
    assert lead_line(lead, sources["082"]) == "【示例（虚构）】某局：《关于某某的建议》（2021年5月4日）"


def test_the_scope_in_words_and_as_chips() -> None:
    assert describe_scope(Filters(), {}) == []
    scope = Filters(letters=("a",), issuer="交通", year_from=2020, year_to=2022, channel="NPC")
    parts = describe_scope(scope, {"a": "关于修路的答复"})
    assert [k for k, _ in parts] == ["letters", "issuer", "years", "channel"]
    assert scope_words(scope, {"a": "关于修路的答复"}) == "《关于修路的答复》、答复单位含“交通”、2020—2022年、人大建议"
    assert scope_words(Filters(year_from=2024), {}) == "2024年起"
    assert scope_words(Filters(year_from=2024, year_to=2024), {}) == "2024年"
    html = scope_html(parts)
    assert html.count('class="rq-chip"') == 4 and 'data-rq-scope="all"' in html
    assert "全部答复" in scope_html([])
    assert "<script" not in scope_html([("issuer", "<script>")])


def test_search_folds_the_forms_of_a_doc_number() -> None:
    assert fold("粤卫案函[2020]208号") == fold("粤卫案函〔2020〕208号") == fold("粤卫案函（2020）208号")
    assert fold("５Ｇ 基站") == fold("5g基站")


def test_failure_reasons_keep_only_their_chinese() -> None:
    assert plain_reason("PDF 文件已损坏，无法读取（startxref not found）") == "PDF 文件已损坏，无法读取"
    assert plain_reason("解析失败（KeyError: 'x'）") == "解析失败"
    kept = "不支持的文件类型（仅支持 .txt .html .htm .docx .pdf）"
    assert plain_reason(kept) == kept
    assert plain_reason("无法识别文本编码（不是 UTF-8 或 GBK/GB18030）").endswith("GB18030）")
