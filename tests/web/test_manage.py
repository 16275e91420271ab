"""In Chromium, on a desktop and a 390 px phone: managing the index from the page — correcting a
letter's fields (kept across re-ingest, shown as corrected, used by answers), reading it again
from its file, deleting it — only for users allowed to; and the 命中测试 panel saying why an
answer is what it is."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from assistant.service import ReplyQA
from assistant.web.hittest_tab import answer_bar
from tests.web.pagekit import PHONE, T, Watch, ask, browse_search, open_page, tab

SEED = "000_10d0eb4a9841965d"
"""The 5G letter: its issuer is not in the text the parser keeps (单位不详)."""
ISSUER = "山东省工业和信息化厅"
Q_SEED = "2019年山东全省建成多少5G基站？"


def _open(page: Page, words: str, letter_id: str) -> None:
    browse_search(page, words).locator(f"tr[data-rq-letter='{letter_id}']").click()
    expect(page.locator("#rq-reader [data-rq-letter-open]")).to_have_attribute("data-rq-letter-open", letter_id,
                                                                                timeout=T)


def _status(page: Page, text: str) -> None:
    expect(page.locator("#rq-m-status")).to_contain_text(text, timeout=T)


def test_a_corrected_issuer_is_used_shown_and_kept_across_reingest(
    real_ui: tuple[Page, Watch], real_app: ReplyQA
) -> None:
    page, _ = real_ui
    record = next(r for r in real_app.letters() if r.id == SEED)
    assert not record.issuer, "the parser finds no issuer in this letter"
    _open(page, "5G产业布局", SEED)
    fields = page.locator("#rq-reader .rq-fields")
    issuer = fields.locator("dt:text-is('答复单位') + dd")
    expect(issuer).to_have_text("（未识别）")
    expect(page.locator("#rq-manage")).to_be_visible()
    page.locator("#rq-m-issuer textarea, #rq-m-issuer input").first.fill(ISSUER)
    page.locator("#rq-m-save").click()
    _status(page, "已更正答复单位")
    expect(issuer).to_contain_text(ISSUER)
    badge = issuer.locator(".rq-corrected")
    expect(badge).to_have_text("已更正")
    expect(badge).to_have_attribute("title", "人工更正；解析结果为：（未识别）")
    expect(page.locator(f"#rq-letter-list tr[data-rq-letter='{SEED}']")).to_contain_text(ISSUER, timeout=T)
    page.locator("#rq-b-issuer input").click()
    expect(page.locator("#rq-b-issuer").get_by_role("option", name=ISSUER, exact=True)).to_have_count(1, timeout=T)
    page.keyboard.press("Escape")

    tab(page, "问答")
    bubble = ask(page, Q_SEED)
    expect(bubble.locator(".rq-refs")).to_contain_text(f"{ISSUER}：《关于加强科技创新推进山东省5G产业布局的建议》",
                                                       timeout=T)

    tab(page, "信件浏览")
    page.locator("#rq-m-reparse").click()
    _status(page, "重新解析完成：源文件和解析方式都没有变化")
    source = Path(record.source)
    source.write_text(source.read_text(encoding="utf-8").replace("牵手行动", "牵手行动计划", 1), encoding="utf-8")
    page.locator("#rq-m-reparse").click()
    _status(page, "重新解析完成（更新")
    expect(page.locator("#rq-reader .rq-reader-text")).to_contain_text("牵手行动计划", timeout=T)
    expect(issuer).to_contain_text(ISSUER)
    expect(fields.locator(".rq-corrected")).to_have_count(1)
    assert next(r for r in real_app.letters() if r.id == SEED).issuer == ISSUER, "the re-read letter keeps it"

    page.locator("#rq-m-undo").click()
    _status(page, "已撤销更正")
    expect(issuer).to_have_text("（未识别）")
    expect(fields.locator(".rq-corrected")).to_have_count(0)

    page.locator("#rq-m-date textarea, #rq-m-date input").first.fill("去年")
    page.locator("#rq-m-save").click()
    _status(page, "日期 “去年” 无法识别")


def test_a_deleted_letter_is_gone_from_the_list_the_scope_and_the_answers(
    real_ui: tuple[Page, Watch], real_app: ReplyQA
) -> None:
    page, _ = real_ui
    record = next(r for r in real_app.letters() if r.id == "057")
    try:
        _open(page, "第68号", "057")
        page.locator("#rq-m-delete").click()
        expect(page.locator("#rq-m-confirm")).to_be_visible(timeout=T)
        page.locator("#rq-m-confirm-no").click()
        expect(page.locator("#rq-m-confirm")).to_be_hidden(timeout=T)
        assert any(r.id == "057" for r in real_app.letters()), "取消 deletes nothing"
        page.locator("#rq-m-delete").click()
        page.locator("#rq-m-confirm-yes").click()
        _status(page, "已从索引中删除《对县十八届人大二次会议第68号建议的复函》")
        expect(page.locator("#rq-reader")).to_contain_text("在列表中点击一封答复", timeout=T)
        expect(page.locator("#rq-letter-list tr[data-rq-letter='057']")).to_have_count(0, timeout=T)
        assert all(r.id != "057" for r in real_app.letters())
        tab(page, "问答")
        page.locator("#rq-filters").get_by_text("检索范围").click()
        page.locator("#rq-f-letters input").click()
        expect(page.get_by_role("option", name="对县十八届人大二次会议第68号建议的复函", exact=False)).to_have_count(0)
    finally:
        real_app.ingest([Path(record.source)])  # the other tests read this letter too


def test_only_admins_see_and_may_use_the_controls(chromium: Browser, auth_page_server: str) -> None:
    for user, password, allowed in (("staff", "青河-2024:pw", False), ("admin", "x", True)):
        page, watch = open_page(chromium, auth_page_server, viewport=PHONE if allowed else None)
        try:
            page.locator("input[type='text']").first.fill(user)
            page.locator("input[type='password']").fill(password)
            page.locator("input[type='password']").press("Enter")
            expect(page.locator("#rq-question textarea")).to_be_visible(timeout=T)
            tab(page, "信件浏览")
            page.locator("#rq-letter-list tr[data-rq-letter]").first.click()
            expect(page.locator("#rq-reader [data-rq-letter-open]")).to_have_count(1, timeout=T)
            if allowed:
                expect(page.locator("#rq-manage")).to_be_visible(timeout=T)
            else:
                expect(page.locator("#rq-manage")).to_be_hidden(timeout=T)
                expect(page.locator("#rq-m-save")).to_have_count(0)
            assert watch.errors == [] and watch.outside == []
        finally:
            page.context.close()


def test_hit_test_shows_ranked_passages_and_why_each_sentence_was_taken(
    any_ui: tuple[Page, Watch], ui_app: ReplyQA
) -> None:
    page, _ = any_ui
    question = "2022年青河市农村公路建设完成了多少投资？"
    examined, answer = ui_app.examine(question), ui_app.ask(question)
    tab(page, "命中测试")
    page.locator("#rq-h-question textarea").fill(question)
    page.locator("#rq-h-run").click()
    panel = page.locator("#rq-h-result .rq-hittest")
    expect(panel).to_be_visible(timeout=T)
    expect(panel).to_contain_text(f"检索语句{examined.rewrite.query}")
    expect(panel).to_contain_text(f"作答线{answer_bar(ui_app):.2f}")
    tables = panel.locator("table")
    passages = tables.nth(0).locator("tbody tr")
    expect(passages).to_have_count(len(examined.retrieval.passages))
    for rank, p in enumerate(examined.retrieval.passages[:3], start=1):
        cells = passages.nth(rank - 1).locator("td")
        expect(cells.nth(0)).to_have_text(str(rank))
        expect(cells.nth(1)).to_contain_text(ui_app.letter(p.letter_id).title or "")  # type: ignore[union-attr]
        expect(cells.nth(4)).to_have_text("—" if p.dense_rank is None else str(p.dense_rank))
        expect(cells.nth(5)).to_have_text("—" if p.bm25_rank is None else str(p.bm25_rank))
    taken = tables.nth(1).locator("tr.rq-h-taken")
    expect(taken).not_to_have_count(0)
    for i in range(taken.count()):
        sentence = taken.nth(i).locator("td").nth(1).inner_text()
        assert any(sentence in c.quote or c.quote in sentence for c in answer.citations), sentence
        expect(taken.nth(i)).to_contain_text("采用，即答案中的引用 [")
    refused = tables.nth(1).locator("tr.rq-h-refused")
    expect(refused).not_to_have_count(0)
    reasons = [r.locator("td").last.inner_text() for r in refused.all()[:10]]
    assert all(reasons) and any(("不作为答案" in r) or ("低于作答线" in r) or ("不及" in r) for r in reasons), reasons
