"""In Chromium, on a desktop and a 390 px phone: the search scope you can see (chips by the question
box, cleared by a click and by 新对话, a 未找到 under a scope that says so and asks everywhere),
facets that mean the same by Enter and Tab, 查看全文 from a citation, a lead and the source panel
opening the letter scrolled to the quote, and the letter browser finding any letter."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from assistant.ask.retrieve import Filters
from assistant.service import ReplyQA
from tests.web.pagekit import T, Watch, ask, browse_search, in_viewport, tab

Q_CITE = "东川省首批5G应用示范项目有多少个？"
Q_FILTER = "2022年青河市农村公路建设完成了多少投资？"
Q_LEADS = "2019年青岛市建成了多少个5G基站？"
ISSUER = "临江县卫生健康局"


def _chips(page: Page) -> list[str]:
    return [c.strip().rstrip("×").strip() for c in page.locator("#rq-scope .rq-chip").all_inner_texts()]


def _pick(page: Page, elem_id: str, option: str) -> None:
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.locator(f"#{elem_id} input")).to_have_value(option, timeout=T)


def test_scope_shows_by_the_box_and_a_not_found_under_it_asks_everywhere(
    any_ui: tuple[Page, Watch], ui_app: ReplyQA
) -> None:
    page, _ = any_ui
    scoped, everywhere = ui_app.ask(Q_CITE, filters=Filters(issuer=ISSUER)), ui_app.ask(Q_CITE)
    assert not scoped.found and everywhere.found, "the question is answerable only outside the scope"
    scope = page.locator("#rq-scope")
    expect(scope).to_contain_text("全部答复", timeout=T)
    page.locator("#rq-filters").get_by_text("检索范围").click()
    _pick(page, "rq-f-issuer", ISSUER)
    page.locator("#rq-filters").get_by_text("检索范围").click()  # closed again: the chip still says it
    expect(page.locator("#rq-scope .rq-chip")).to_have_count(1, timeout=T)
    assert _chips(page) == [f"答复单位含“{ISSUER}”"]
    question = page.locator("#rq-question textarea")
    gap = question.bounding_box()["y"] - scope.bounding_box()["y"]  # type: ignore[index]
    assert 0 < gap < 120, "the chip sits right above the question box"

    bubble = ask(page, Q_CITE)
    note = bubble.locator(".rq-scope-note")
    expect(note).to_contain_text(f"答复单位含“{ISSUER}”")
    expect(note).to_contain_text("范围之外的答复没有查找")
    note.locator(".rq-everywhere").click()
    bots = page.locator("#rq-chat [data-testid='bot']")
    expect(bots).to_have_count(2, timeout=T)
    expect(bots.nth(1).locator(".rq-answer:not(.rq-streaming) .rq-text")).to_have_text(everywhere.text, timeout=T)
    expect(scope).to_contain_text("全部答复", timeout=T)
    expect(page.locator("#rq-scope .rq-chip")).to_have_count(0)

    # A letter as the scope, from the browser; one click on its chip takes it away.
    browse_search(page, "第22号")
    page.locator("#rq-letter-list tr[data-rq-letter='lj-wj-2024-022']").click()
    expect(page.locator("#rq-reader h3")).to_contain_text("第22号", timeout=T)
    page.locator("#rq-ask-this").click()
    expect(page.locator("#rq-scope .rq-chip")).to_have_count(1, timeout=T)
    assert "第22号提案的答复" in _chips(page)[0]
    page.locator("#rq-scope .rq-chip").click()
    expect(page.locator("#rq-scope .rq-chip")).to_have_count(0, timeout=T)
    expect(page.locator("#rq-f-letters")).not_to_contain_text("第22号")

    # Two parts, then 新对话 clears both with the conversation.
    page.locator("#rq-filters").get_by_text("检索范围").click()
    _pick(page, "rq-f-issuer", ISSUER)
    _pick(page, "rq-f-from", "2024")
    expect(page.locator("#rq-scope .rq-chip")).to_have_count(2, timeout=T)
    expect(page.locator("#rq-scope .rq-chip-clear")).to_be_visible()
    page.locator("#rq-new").click()
    expect(page.locator("#rq-scope .rq-chip")).to_have_count(0, timeout=T)
    expect(page.locator("#rq-chat [data-testid='bot']")).to_have_count(0)
    expect(page.locator("#rq-f-issuer input")).to_have_value("全部单位")


def test_a_typed_issuer_means_the_same_by_enter_and_by_tab(any_ui: tuple[Page, Watch], ui_app: ReplyQA) -> None:
    page, _ = any_ui
    holding = [r for r in ui_app.letters() if "交通" in r.issuer]
    first_option = sorted({r.issuer for r in holding})[0]
    assert len(holding) > sum(r.issuer == first_option for r in holding), "picking the first option would narrow it"
    tab(page, "信件浏览")
    box = page.locator("#rq-b-issuer input")
    count = page.locator("#rq-letter-list .rq-list-count")
    for key in ("Enter", "Tab"):
        box.click()
        box.fill("交通")
        box.press(key)
        expect(box).to_have_value("交通", timeout=T)
        expect(count).to_contain_text(f"符合条件 {len(holding)} 封", timeout=T)
        expect(page.locator("#rq-b-issuer").get_by_role("option")).to_have_count(0, timeout=T)  # its list closed

    tab(page, "问答")
    page.locator("#rq-filters").get_by_text("检索范围").click()
    chat_box = page.locator("#rq-f-issuer input")
    chat_box.click()
    chat_box.fill("交通")
    chat_box.press("Enter")
    expect(page.locator("#rq-f-issuer").get_by_role("option")).to_have_count(0, timeout=T)
    expect(page.locator("#rq-scope .rq-chip")).to_contain_text("答复单位含“交通”", timeout=T)
    page.locator("#rq-question textarea").click()  # nothing lies over the question box
    # One click on the chip clears that scope. (It also matters to the keyboard below: while the
    # box still holds its committed value 交通, gradio's arrow keys walk the unfiltered list.)
    page.locator("#rq-scope .rq-chip").filter(has_text="答复单位").click()
    expect(page.locator("#rq-scope .rq-chip")).to_have_count(0, timeout=T)
    chat_box.click()
    chat_box.fill("交通")
    chat_box.press("Shift")  # gradio filters its list on a key press (an IME sends one), not on input
    names = sorted({r.issuer for r in holding})
    expect(page.locator("#rq-f-issuer").get_by_role("option")).to_have_count(len(names), timeout=T)
    chat_box.press("ArrowDown")
    chat_box.press("Enter")  # an option chosen with the keyboard is still chosen
    expect(chat_box).not_to_have_value("交通", timeout=T)
    chosen = chat_box.input_value()
    assert chosen in names
    expect(page.locator("#rq-scope .rq-chip")).to_contain_text(f"答复单位含“{chosen}”", timeout=T)


def test_the_whole_letter_opens_at_the_quote_from_a_citation_a_lead_and_the_source(
    any_ui: tuple[Page, Watch], ui_app: ReplyQA
) -> None:
    page, _ = any_ui
    expected = ui_app.ask(Q_FILTER)
    citation = expected.citations[0]
    letter = ui_app.letter(citation.letter)
    assert letter is not None
    bubble = ask(page, Q_FILTER)
    bubble.locator(".rq-refs .rq-open").first.click()
    expect(page.get_by_role("tab", name="信件浏览")).to_have_attribute("aria-selected", "true", timeout=T)
    reader = page.locator("#rq-reader")
    expect(reader.locator("h3")).to_contain_text(letter.display_title, timeout=T)
    mark = reader.locator("mark#rq-reader-mark")
    expect(mark).to_have_text(citation.quote, timeout=T)
    expect(mark).to_be_in_viewport(timeout=T)
    expect(reader.locator(".rq-reader-text")).to_contain_text(letter.text[:20].strip())  # the whole letter

    tab(page, "问答")
    missing = ui_app.ask(Q_LEADS)
    assert not missing.found and missing.leads
    lead = missing.leads[0]
    bubble = ask(page, Q_LEADS)
    expect(bubble.locator(".rq-lead")).to_have_count(len(missing.leads))
    bubble.locator(".rq-lead .rq-open").first.click()
    expect(reader.locator("h3")).to_contain_text(lead.title, timeout=T)
    expect(reader.locator("mark")).to_have_count(0)
    page.wait_for_function("() => { const r = document.querySelector('#rq-reader').getBoundingClientRect();"
                           " return r.top < innerHeight && r.bottom > 0; }", timeout=T)

    tab(page, "问答")
    page.locator("#rq-chat [data-testid='bot']").first.locator(".rq-text .rq-cite").first.click()
    expect(page.locator("#rq-source mark")).to_have_text(citation.quote, timeout=T)
    page.locator("#rq-source .rq-open-btn").click()
    expect(mark).to_have_text(citation.quote, timeout=T)
    expect(mark).to_be_in_viewport(timeout=T)
    assert in_viewport(mark)


def test_the_browser_finds_a_letter_by_anything_it_says(real_ui: tuple[Page, Watch], real_app: ReplyQA) -> None:
    page, _ = real_ui
    entries = {e.id: e for e in real_app.catalog.entries()}
    deputy = browse_search(page, "李剑波")
    expect(deputy.locator("tr[data-rq-letter]")).to_have_count(1, timeout=T)
    expect(deputy.locator("tr[data-rq-letter='032']")).to_contain_text("李剑波代表")
    in_text = browse_search(page, "茂名至吴川")  # only in the letter's text: a snippet says where
    row = in_text.locator("tr[data-rq-letter='032']")
    expect(row.locator(".rq-snippet mark")).to_have_text("茂名至吴川", timeout=T)
    expect(in_text.locator("tr[data-rq-letter]")).to_have_count(1)

    for typed in ("粤卫案函〔2020〕208号", "粤卫案函[2020]208号"):
        listed = browse_search(page, typed)
        expect(listed.locator("tr[data-rq-letter]")).to_have_count(1, timeout=T)
        expect(listed.locator("tr[data-rq-letter='082']")).to_contain_text("文号 粤卫案函〔2020〕208号")

    texts = real_app.catalog.texts(list(entries))
    with_5g = {i for i, text in texts.items() if "5G" in text or "5G" in entries[i].record.title}
    assert len(with_5g) >= 1 and len(with_5g) < len(entries)
    listed = browse_search(page, "5g")
    expect(listed.locator("tr[data-rq-letter]")).to_have_count(len(with_5g), timeout=T)
    for letter_id in with_5g:
        expect(listed.locator(f"tr[data-rq-letter='{letter_id}']")).to_be_visible()

    everything = browse_search(page, "")
    for e in entries.values():
        row = everything.locator(f"tr[data-rq-letter='{e.id}']")
        if e.suggestion_title and e.suggestion_title.strip("《》") != e.record.title.strip("《》"):
            expect(row).to_contain_text(f"所答建议：《{e.suggestion_title.strip('《》')}》")
        if e.addressee:
            expect(row).to_contain_text(e.addressee)
        if e.number:
            expect(row).to_contain_text(e.number)
    row = everything.locator("tr[data-rq-letter='082']")
    row.click()
    expect(page.locator("#rq-reader .rq-fields")).to_contain_text("粤卫案函〔2020〕208号", timeout=T)
    assert in_viewport(page.locator("#rq-reader h3")), "the opened letter is brought into view (on a phone too)"


def test_example_questions_come_from_the_letters_indexed(real_ui: tuple[Page, Watch], real_app: ReplyQA) -> None:
    page, _ = real_ui
    examples = page.locator(".rq-example:visible")
    expect(examples.first).to_be_visible(timeout=T)
    questions = [q.strip() for q in examples.all_inner_texts()]
    indexed = {r.id for r in real_app.letters()}
    for question in questions:
        assert not any(place in question for place in ("青河", "东川", "临江", "白石", "温溪")), question
        answer = real_app.ask(question)
        assert answer.found and {c.letter for c in answer.citations} <= indexed, question
    examples.first.click()
    bubble = page.locator("#rq-chat [data-testid='bot']").first
    expect(bubble.locator(".rq-answer:not(.rq-streaming)")).to_have_count(1, timeout=T)
    expect(bubble.locator(".rq-refs .rq-ref")).not_to_have_count(0)
    expect(bubble.locator(".rq-sample")).to_have_count(0), "a real letter is not marked as fiction"
