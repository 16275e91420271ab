"""The page in a real browser: Chromium (Playwright) against the app served in-process over a
real index of the sample letters plus the hostile one (see conftest).

Why in a browser: the things that matter here — a click on `[1]` opening the right section
with the quote marked and in view, the clipboard, downloads, letter text staying text — all
happen in the page's own JavaScript and HTML, which no server-side test sees. Expected
answers come from the same `ReplyQA` the page uses, so these tests check the page, not the
answer quality being tuned elsewhere.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import docx
import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from assistant.ask.answer import Answer
from assistant.ask.citation import section_at
from assistant.ask.retrieve import Filters
from assistant.service import ReplyQA
from assistant.web.export import md_escape
from assistant.web.footnotes import footnote_texts
from assistant.web.letters_html import plain_reason
from assistant.web.references import (
    Sources,
    answer_letters,
    answer_with_references,
    reference_line,
    references_block,
    sources_for,
)
from index.reading.letter import parse_file
from index.reading.load import LoadError
from tests.web.pagekit import T, Watch, ask, open_page, squash

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

Q_CITE = "东川省首批5G应用示范项目有多少个？"
Q_FOLLOW = "省里给了多少奖补资金？"
Q_FILTER = "2022年青河市农村公路建设完成了多少投资？"
Q_HOSTILE = "建议附件中转述的群众网上留言原文含有哪些字符？"
Q_NEW = "青石镇彩虹桥总投资多少？"



def sources_of(app: ReplyQA, *answers: Answer) -> Sources:
    return sources_for(answer_letters(answers), app.letter)


NEW_LETTER = """关于县十九届人大一次会议第77号建议的答复

钱某某代表：
　　您提出的《关于修建青石镇彩虹桥的建议》收悉。现答复如下：
　　一、青石镇彩虹桥项目已于2024年3月开工建设，大桥主跨长度为168米，总投资2680万元。
　　二、下一步，我局将督促施工单位加快施工进度，确保2025年底前建成通车。
　　感谢您对全县交通运输工作的关心和支持。

云杉县交通运输局
2024年9月10日
"""
"""A fictional letter with a fact no sample letter has (2680万元 for 彩虹桥)."""


def test_answer_cite_follow_up_and_new_conversation(ui: tuple[Page, Watch], ui_app: ReplyQA) -> None:
    page, _ = ui
    # Narrow enough for the columns to stack: the source panel starts below the fold, so
    # seeing the quote means the page scrolled to it.
    page.set_viewport_size({"width": 640, "height": 800})
    expected = ui_app.ask(Q_CITE)
    assert expected.found and expected.citations
    first = expected.citations[0]
    page.evaluate("""() => {
        window.__sawStreaming = false;
        new MutationObserver(() => {
            if (document.querySelector('#rq-chat .rq-streaming')) window.__sawStreaming = true;
        }).observe(document.querySelector('#rq-chat'), {subtree: true, childList: true, characterData: true});
    }""")
    bubble = ask(page, Q_CITE)
    assert page.evaluate("window.__sawStreaming"), "the answer did not stream"
    expect(bubble.locator(".rq-text")).to_have_text(expected.text, timeout=T)
    facts = sources_of(ui_app, expected)[first.letter]
    expect(bubble.locator(".rq-refs")).to_contain_text(reference_line(first, facts))

    panel = page.locator("#rq-source")
    mark = panel.locator("mark")
    assert (panel.bounding_box() or {"y": 0})["y"] > 800, "layout changed: the panel is not below the fold"
    bubble.locator(".rq-text .rq-cite").first.click()
    expect(mark).to_have_text(first.quote, timeout=T)
    expect(mark).to_be_in_viewport(timeout=T)
    letter = ui_app.letter(first.letter)
    assert letter is not None
    for fact in (letter.title, letter.issuer, "2020年8月20日", letter.addressee, letter.number):
        expect(panel).to_contain_text(str(fact))
    section = section_at(letter, first.start, first.end)
    assert section is not None
    assert squash(panel.locator(".rq-src-text").inner_text()) == squash(letter.text[section.start:section.end])
    expect(panel.locator(".rq-outline .rq-current")).to_contain_text(section.heading[:10])
    body = panel.locator(".rq-src-body").bounding_box()
    box = mark.bounding_box()
    assert body and box, "the section or its mark is not laid out"
    bottom = body["y"] + body["height"] - min(box["height"], 20)
    assert body["y"] - 1 <= box["y"] <= bottom, "the quote is scrolled out of its panel"

    follow = ui_app.ask_with_history(Q_FOLLOW, [Q_CITE])
    bubble2 = ask(page, Q_FOLLOW)
    assert follow.found
    expect(bubble2.locator(".rq-text")).to_have_text(follow.text, timeout=T)
    bubble2.locator(".rq-text .rq-cite").first.focus()
    page.keyboard.press("Enter")  # markers work from the keyboard too, and address their own turn
    expect(mark).to_have_text(follow.citations[0].quote, timeout=T)
    expect(mark).to_be_in_viewport(timeout=T)

    page.locator("#rq-new").click()
    expect(page.locator("#rq-chat [data-testid='bot']")).to_have_count(0, timeout=T)
    expect(panel.locator("mark")).to_have_count(0, timeout=T)


def test_copy_and_export(ui: tuple[Page, Watch], ui_app: ReplyQA) -> None:
    page, _ = ui
    expected = ui_app.ask(Q_CITE)
    ask(page, Q_CITE)
    page.locator("#rq-copy").click()
    sources = sources_of(ui_app, expected)
    want = answer_with_references(expected, sources)
    page.wait_for_function("async (want) => (await navigator.clipboard.readText()) === want", arg=want, timeout=T)
    clip = page.evaluate("navigator.clipboard.readText()")
    assert expected.text in clip and "【示例（虚构）】" in clip, "a sample's words are marked as fiction"
    for line in references_block(expected.citations, sources).splitlines():
        assert line in clip

    page.locator("#rq-export-docx").click()
    link = page.locator("#rq-export a").first
    expect(link).to_be_visible(timeout=T)
    with page.expect_download(timeout=T) as info:
        link.click()
    data = Path(info.value.path()).read_bytes()
    document = docx.Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert Q_CITE in text and expected.citations[0].quote in text
    assert "[1]" not in text, "markers should have become footnote references"
    assert footnote_texts(data) == list(dict.fromkeys(reference_line(c, sources[c.letter]) for c in expected.citations))
    body = document.element.body
    refs = body.findall(".//" + docx.oxml.ns.qn("w:footnoteReference"))
    assert len(refs) == len(footnote_texts(data))

    page.locator("#rq-export-md").click()
    expect(page.locator("#rq-export")).to_contain_text(".md", timeout=T)
    link = page.locator("#rq-export a").first
    with page.expect_download(timeout=T) as info:
        link.click()
    markdown = Path(info.value.path()).read_text(encoding="utf-8")
    assert md_escape(reference_line(expected.citations[0], sources[expected.citations[0].letter])) in markdown
    assert md_escape(Q_CITE) in markdown


def test_upload_good_and_broken(ui: tuple[Page, Watch], ui_app: ReplyQA, tmp_path: Path) -> None:
    page, _ = ui
    good = tmp_path / "云杉县交通局-彩虹桥答复.txt"
    good.write_text(NEW_LETTER, encoding="utf-8")
    bad = tmp_path / "corrupt.docx"
    shutil.copyfile(SAMPLES / "broken" / "corrupt.docx", bad)
    with pytest.raises(LoadError) as failure:
        parse_file(bad)
    before = {r.id: r.version for r in ui_app.letters()}

    page.get_by_role("tab", name="导入答复").click()
    page.locator("#rq-upload input[type='file']").set_input_files([str(good), str(bad)])
    expect(page.locator("#rq-upload")).to_contain_text("corrupt", timeout=T)
    expect(page.locator("#rq-upload")).to_contain_text("彩虹桥", timeout=T)
    page.locator("#rq-ingest").click()
    result = page.locator("#rq-ingest-result")
    good_row = result.locator("tr", has_text=good.name)
    bad_row = result.locator("tr", has_text="corrupt.docx")
    expect(good_row.locator(".rq-status")).to_have_text("新增", timeout=T)
    expect(bad_row.locator(".rq-status")).to_have_text("失败", timeout=T)
    expect(bad_row).to_contain_text(plain_reason(failure.value.reason))

    after = {r.id: r.version for r in ui_app.letters()}
    assert len(after) == len(before) + 1
    assert {k: v for k, v in after.items() if k in before} == before, "other letters changed"
    assert (ui_app.settings.data_dir / "uploads" / good.name).exists()
    page.get_by_role("tab", name="信件浏览").click()
    expect(page.locator("#rq-letter-list")).to_contain_text(f"共 {len(after)} 封", timeout=T)

    page.get_by_role("tab", name="问答").click()
    bubble = ask(page, Q_NEW)
    expect(bubble.locator(".rq-text")).to_contain_text("2680万元", timeout=T)
    expect(bubble.locator(".rq-refs")).to_contain_text("云杉县交通运输局")

    # The same file again, revised: it updates its letter instead of adding a copy.
    good.write_text(NEW_LETTER.replace("2680万元", "2750万元"), encoding="utf-8")
    page.get_by_role("tab", name="导入答复").click()
    page.locator("#rq-upload button[aria-label='清除'], #rq-upload button:has-text('清除')").first.click()
    page.locator("#rq-upload input[type='file']").set_input_files([str(good)])
    expect(page.locator("#rq-upload")).not_to_contain_text("corrupt", timeout=T)
    page.locator("#rq-ingest").click()
    expect(result.locator("tr", has_text=good.name).locator(".rq-status")).to_have_text("更新", timeout=T)
    assert len(ui_app.letters()) == len(after)
    page.get_by_role("tab", name="问答").click()
    bubble = ask(page, Q_NEW)
    expect(bubble.locator(".rq-text")).to_contain_text("2750万元", timeout=T)


def _pick(page: Page, elem_id: str, option: str) -> None:
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.locator(f"#{elem_id} input")).to_have_value(option, timeout=T)


def test_filters_change_what_is_retrieved(ui: tuple[Page, Watch], ui_app: ReplyQA) -> None:
    page, _ = ui
    plain = ui_app.ask(Q_FILTER)
    narrowed = ui_app.ask(Q_FILTER, filters=Filters(issuer="临江县卫生健康局"))
    later = ui_app.ask(Q_FILTER, filters=Filters(year_from=2024))
    assert {r.letter for r in plain.retrieved} != {r.letter for r in narrowed.retrieved}
    assert all(ui_app.letter(r.letter).issuer == "临江县卫生健康局" for r in narrowed.retrieved)  # type: ignore[union-attr]
    assert all((ui_app.letter(r.letter).year or 0) >= 2024 for r in later.retrieved)  # type: ignore[union-attr]

    first = ask(page, Q_FILTER)
    expect(first).to_contain_text(plain.text[:30], timeout=T)
    expect(first).to_contain_text("青河市交通运输局")

    page.locator("#rq-filters").get_by_text("检索范围").click()
    _pick(page, "rq-f-issuer", "临江县卫生健康局")
    second = ask(page, Q_FILTER)
    expect(second).to_contain_text(narrowed.text[:30], timeout=T)
    expect(second).not_to_contain_text("青河市交通运输局")

    _pick(page, "rq-f-issuer", "全部单位")
    _pick(page, "rq-f-from", "2024")
    third = ask(page, Q_FILTER)
    expect(third).to_contain_text(later.text[:30], timeout=T)
    expect(third).not_to_contain_text("2023年6月18日")


def test_hostile_letter_stays_text(ui: tuple[Page, Watch], ui_app: ReplyQA) -> None:
    page, watch = ui
    page.get_by_role("tab", name="信件浏览").click()
    page.locator("#rq-b-text input, #rq-b-text textarea").first.fill("第9号")
    row = page.locator("#rq-letter-list tr[data-rq-letter='hostile']")
    expect(row).to_be_visible(timeout=T)
    row.click()
    reader = page.locator("#rq-reader")
    expect(reader).to_contain_text("<script>alert(1)</script>", timeout=T)
    expect(reader).to_contain_text("<img src=x onerror=alert(2)>")
    expect(reader).to_contain_text("[点击查看](http://evil.example/x)")
    expect(reader).to_contain_text("临江县城市管理局")
    reader.locator("[data-rq-jump]").last.click()
    page.locator("#rq-ask-this").click()  # narrows the chat to this letter and goes there
    expect(page.locator("#rq-question textarea")).to_be_visible(timeout=T)
    page.locator("#rq-filters").get_by_text("检索范围").click()
    expect(page.locator("#rq-f-letters")).to_contain_text("第9号建议的答复", timeout=T)

    expected = ui_app.ask(Q_HOSTILE)
    assert expected.found and expected.citations[0].letter == "hostile"
    bubble = ask(page, Q_HOSTILE)
    expect(bubble).to_contain_text("<script>alert(1)</script>", timeout=T)
    expect(bubble).to_contain_text("[点击查看](http://evil.example/x)")
    bubble.locator(".rq-text .rq-cite").first.click()
    mark = page.locator("#rq-source mark")
    expect(mark).to_contain_text("<img src=x onerror=alert(2)>", timeout=T)

    page.wait_for_timeout(1000)  # give an injected onerror or script the chance to run
    for scope in ("#rq-chat", "#rq-source", "#rq-reader", "#rq-letter-list"):
        assert page.locator(f"{scope} script, {scope} img, {scope} iframe").count() == 0, scope
    assert page.locator("a[href*='evil']").count() == 0
    assert page.locator("img[src='x'], [onerror]").count() == 0
    assert watch.dialogs == [] and watch.errors == [], (watch.dialogs, watch.errors)


def test_example_answer_is_drawn_with_a_cjk_font(ui: tuple[Page, Watch], ui_app: ReplyQA) -> None:
    page, _ = ui
    example = page.locator(".rq-example").first
    expect(example).to_be_visible(timeout=T)
    question = example.inner_text().strip()
    example.click()
    bubble = page.locator("#rq-chat [data-testid='bot']").first
    expect(bubble.locator(".rq-answer:not(.rq-streaming)")).to_have_count(1, timeout=T)
    expect(page.locator("#rq-chat [data-testid='user']").first).to_have_text(question)
    alone = ui_app.ask(question)
    expect(bubble.locator(".rq-text")).to_have_text(alone.text, timeout=T)
    # Examples come from the letters indexed (a real letter uploaded by an earlier test first):
    # an answer quoting a fictional sample says so, one quoting a real letter does not.
    quoted = ui_app.letter(alone.citations[0].letter)
    assert quoted is not None
    if "示例（虚构）" in quoted.text:
        expect(bubble.locator(".rq-sample")).to_contain_text("示例（虚构）")
    else:
        expect(bubble.locator(".rq-sample")).to_have_count(0)
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#rq-chat .rq-answer .rq-text"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    families = [f["familyName"] for f in fonts]
    assert any("CJK" in name for name in families), families


def test_login_required_for_page_and_api(chromium: Browser, auth_page_server: str, ui_app: ReplyQA) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    with httpx.Client(trust_env=False, timeout=10) as http:
        for path in ("config", "gradio_api/info", "gradio_api/call/letters"):
            resp = http.get(auth_page_server + path) if path != "gradio_api/call/letters" \
                else http.post(auth_page_server + path, json={"data": []})
            assert resp.status_code == 401, (path, resp.status_code)
    with pytest.raises(AuthenticationError):
        Client(auth_page_server, verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(auth_page_server, auth=("staff", "wrong"), verbose=False)
    client = Client(auth_page_server, auth=("staff", "青河-2024:pw"), verbose=False)
    letters = client.predict(api_name="/letters")
    assert len(letters) == len(ui_app.letters())

    page, watch = open_page(chromium, auth_page_server)
    try:
        password = page.locator("input[type='password']")
        expect(password).to_be_visible(timeout=T)
        assert page.locator("#rq-question").count() == 0
        page.locator("input[type='text']").first.fill("staff")
        password.fill("wrong")
        password.press("Enter")
        expect(page.locator("body")).to_contain_text("凭据不正确", timeout=T)  # Gradio's own zh-CN text
        expect(page.locator("body")).to_contain_text("请使用分配的账号登录")
        user = page.locator("input[type='text']").first
        user.fill("staff")  # the failed attempt cleared the form
        password.fill("青河-2024:pw")
        expect(user).to_have_value("staff")
        password.press("Enter")
        expect(page.locator("#rq-question textarea")).to_be_visible(timeout=T)
        assert watch.dialogs == [] and watch.outside == []
    finally:
        page.context.close()


def test_unverified_citation_is_not_offered_as_support(chromium: Browser, doubtful_page_server: str,
                                                       ui_app: ReplyQA) -> None:
    question = "哪些答复提到了新能源公交车辆？"
    expected = ui_app.ask(question)
    assert len(expected.citations) >= 2
    page, watch = open_page(chromium, doubtful_page_server)
    try:
        page.wait_for_function("window.__replyqa === true", timeout=T)
        bubble = ask(page, question)
        doubtful = bubble.locator(".rq-text .rq-cite-unverified")
        expect(doubtful).to_have_count(1, timeout=T)
        expect(doubtful).to_contain_text("未能核实")
        assert doubtful.locator("s").evaluate("e => getComputedStyle(e).textDecorationLine") == "line-through"
        assert doubtful.evaluate("e => getComputedStyle(e).cursor") == "not-allowed"
        expect(bubble.locator(".rq-refs .rq-ref-unverified")).to_contain_text("（未能核实）")
        expect(bubble.locator(".rq-text .rq-cite")).to_have_count(len(expected.citations) - 1)
        doubtful.click()
        page.wait_for_timeout(1500)
        expect(page.locator("#rq-source mark")).to_have_count(0)
        bubble.locator(".rq-text .rq-cite").first.click()  # the verified ones still open their source
        expect(page.locator("#rq-source mark")).to_have_text(expected.citations[0].quote, timeout=T)
        assert watch.dialogs == [] and watch.errors == [] and watch.outside == []
    finally:
        page.context.close()
