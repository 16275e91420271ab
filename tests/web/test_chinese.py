"""In Chromium, on a desktop and a 390 px phone: no English shows anywhere on the page — every
tab in use (an answer, its source, a letter open, a hit test, an import with refused and
broken files), every toast, every progress text while an import runs, every accessible name a
screen reader announces, the footer — and the API keeps its stable names.

What counts as English, honestly: every run of two or more Latin letters in what is drawn
(visible text nodes, `::before`/`::after` content) and in the names and hints of elements
(aria-label, title, placeholder, alt, of every element, not only the visible ones). What
is allowed is what is not the page's own wording: the Latin words that occur in the indexed
letters themselves (a letter that says 5G or DH0271 is quoted as it is), the letters' ids and
the uploaded files' names, and the names of the file formats the page offers (Word, Markdown,
PDF, .docx …). Screenshots of every state go to `REPLYQA_SCREENSHOTS` (or the test's temporary
folder) for a person to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from assistant.service import ReplyQA
from tests.web.pagekit import PHONE, T, Watch, ask, open_page, tab

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
FORMATS = {"Word", "Markdown", "PDF", "pdf", "docx", "doc", "wps", "ofd", "png", "jpg", "jpeg", "txt", "html", "htm",
           "md", "KB", "MB", "GB", "GBK", "UTF", "OCR"}
"""Format names the page offers and the units file sizes are given in, as Chinese software writes them."""
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)*")

SEEN = """() => {
  const out = [];
  const drawn = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
    && el.getClientRects().length > 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.textContent.trim();
    if (t && n.parentElement && drawn(n.parentElement)) out.push(['text', t]);
  }
  for (const el of document.querySelectorAll('*')) {
    for (const a of ['aria-label', 'title', 'placeholder', 'alt', 'aria-description', 'aria-placeholder']) {
      const v = el.getAttribute(a);
      if (v && v.trim()) out.push([a, v.trim()]);
    }
    if (drawn(el)) {
      for (const pseudo of ['::before', '::after']) {
        const c = getComputedStyle(el, pseudo).content;
        if (c && c !== 'none' && c !== 'normal' && /^".*"$/.test(c)) out.push([pseudo, c.slice(1, -1)]);
      }
    }
  }
  out.push(['title', document.title]);
  return out;
}"""
RECORD = """() => {
  // What is painted, frame by frame, while the import runs (its progress texts come and go).
  window.__rqSeen = new Set();
  const sample = () => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const t = n.textContent.trim();
      if (t && n.parentElement && n.parentElement.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) {
        window.__rqSeen.add(t);
      }
    }
    if (!window.__rqStop) requestAnimationFrame(sample);
  };
  requestAnimationFrame(sample);
}"""


def letter_words(app: ReplyQA) -> set[str]:
    """Latin words that are data: what the letters say, their ids and source file names."""
    words: set[str] = set()
    for record in app.letters():
        letter = app.letter(record.id)
        texts = [record.id, Path(record.source).name, record.title]
        if letter is not None:
            fields = letter.model_dump(exclude={"text", "sections", "source", "format", "encoding", "channel"})
            texts += [letter.text, *(str(v) for v in fields.values() if v)]
        for text in texts:
            words.update(_words(text))
    return words


def _words(text: str) -> set[str]:
    """Each word and its parts (a file name `scanned.pdf` is also its letter id `scanned`)."""
    found = set(WORD.findall(text))
    return found | {p for w in found for p in re.split(r"[-_.]", w) if p}


def english(found: list[list[str]], allowed: set[str]) -> list[str]:
    """Latin words not allowed; a word cut short where a letter's text is clipped (`DH0…`) is
    the start of a letter's own word."""
    bad = []
    for where, text in found:
        for m in WORD.finditer(text):
            word = m.group()
            parts = [p for p in re.split(r"[-_.]", word) if p]
            if sum(c.isalpha() for c in word) < 2 or word in allowed or all(p in allowed or p.isdigit() for p in parts):
                continue
            clipped = text[m.end():].strip() in ("", "…")
            if clipped and any(a.startswith(word) for a in allowed):
                continue
            bad.append(f"{where}: {word!r} in {text[:80]!r}")
    return sorted(set(bad))


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("REPLYQA_SCREENSHOTS") or tmp_path_factory.mktemp("screens"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def upload_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A good letter, a type the import does not take, a PDF that is no PDF, a scan without text."""
    folder = tmp_path_factory.mktemp("uploads")
    good = folder / "温溪县答复-示例.txt"
    good.write_text((SAMPLES / "letters" / "lj-zr-2019-027.txt").read_text(encoding="utf-8").replace(
        "第27号", "第127号"), encoding="utf-8")
    wrong = folder / "说明.xyz"
    wrong.write_bytes((SAMPLES / "broken" / "unsupported.xyz").read_bytes())
    broken = folder / "损坏的答复.pdf"
    broken.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 8)
    scanned = folder / "scanned.pdf"
    scanned.write_bytes((SAMPLES / "broken" / "scanned.pdf").read_bytes())
    return [good, wrong, broken, scanned]


def _check(page: Page, allowed: set[str], shots: Path, name: str, *, full: bool = True) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=full)
    bad = english(page.evaluate(SEEN), allowed)
    assert bad == [], f"{name}: " + "\n".join(bad)


@pytest.fixture(params=["desktop", "phone"])
def view(request: pytest.FixtureRequest, chromium: Browser, page_server: str) -> Iterator[tuple[Page, Watch, str]]:
    page, watch = open_page(chromium, page_server, viewport=None if request.param == "desktop" else PHONE)
    page.wait_for_function("window.__replyqa === true", timeout=T)
    expect(page.locator(".rq-example").first).to_be_visible(timeout=T)
    yield page, watch, request.param
    page.context.close()
    assert watch.errors == [] and watch.outside == [], (watch.errors, watch.outside)


def test_no_english_on_any_tab_in_any_state(view: tuple[Page, Watch, str], ui_app: ReplyQA, shots: Path,
                                            upload_files: list[Path]) -> None:
    page, _, size = view
    good = upload_files[0]  # changed for each run, so the import has work to show progress for
    good.write_text(good.read_text(encoding="utf-8") + f"\n（{size}）\n", encoding="utf-8")
    allowed = FORMATS | letter_words(ui_app) | {w for p in upload_files for w in _words(p.name)}
    _check(page, allowed, shots, f"{size}-1-chat")
    page.locator("#rq-export-docx").click()  # nothing to export yet: a warning toast
    expect(page.locator("[data-testid='toast-body']")).to_be_visible(timeout=T)
    expect(page.locator("[data-testid='toast-body']")).to_contain_text("提示")
    page.wait_for_function(  # faded in and slid in: drawn, so the check below sees its words
        "() => { const e = document.querySelector(\"[data-testid='toast-body']\"); const r = e.getBoundingClientRect();"
        " return getComputedStyle(e).opacity === '1' && r.left >= 0 && r.right <= innerWidth; }", timeout=T)
    _check(page, allowed, shots, f"{size}-2-toast", full=False)  # the toast is fixed to the window
    page.locator("[data-testid='toast-close']").first.click()

    bubble = ask(page, "2022年青河市农村公路建设完成了多少投资？")
    bubble.locator(".rq-text .rq-cite").first.click()
    expect(page.locator("#rq-source mark")).to_have_count(1, timeout=T)
    ask(page, "2019年青岛市建成了多少个5G基站？")
    page.locator("#rq-filters").get_by_text("检索范围").click()
    _check(page, allowed, shots, f"{size}-3-answers")

    bubble.locator(".rq-refs .rq-open").first.click()
    expect(page.locator("#rq-reader mark")).to_have_count(1, timeout=T)
    _check(page, allowed, shots, f"{size}-4-letter")

    tab(page, "命中测试")
    page.locator("#rq-h-question textarea").fill("东川省首批5G应用示范项目有多少个？")
    page.locator("#rq-h-run").click()
    expect(page.locator("#rq-h-result .rq-hittest")).to_be_visible(timeout=T)
    _check(page, allowed, shots, f"{size}-5-hittest")

    tab(page, "导入答复")
    _check(page, allowed, shots, f"{size}-6-upload")
    page.evaluate(RECORD)
    page.locator("#rq-upload input[type='file']").set_input_files([str(p) for p in upload_files])
    for path in upload_files:
        expect(page.locator("#rq-upload")).to_contain_text(path.stem, timeout=T)
    page.locator("#rq-ingest").click()
    result = page.locator("#rq-ingest-result")
    expect(result.locator("tr", has_text=upload_files[0].name).locator(".rq-status")).to_have_text(
        re.compile("新增|更新|未变"), timeout=T)
    for refused in upload_files[1:]:
        expect(result.locator("tr", has_text=refused.name).locator(".rq-status")).to_have_text("失败")
    expect(result.locator("tr", has_text="说明.xyz")).to_contain_text("不支持的文件类型")
    expect(result.locator("tr", has_text="scanned.pdf")).to_contain_text("没有文字层")
    _check(page, allowed, shots, f"{size}-7-imported")
    appeared = [["while importing", t] for t in page.evaluate("window.__rqStop = true, [...window.__rqSeen]")]
    assert any("封" in t or "块" in t for _, t in appeared), ("the import showed its progress", appeared)
    assert english(appeared, allowed) == []


def test_gradios_own_upload_limit_is_said_in_chinese(chromium: Browser, small_upload_server: str,
                                                     tmp_path: Path) -> None:
    """Gradio refuses a file over its limit before our import sees it, in English: said in Chinese."""
    big = tmp_path / "很大的答复.txt"
    big.write_bytes(b"x" * (6 * 1024 * 1024))
    page, watch = open_page(chromium, small_upload_server)
    try:
        page.wait_for_function("window.__replyqa === true", timeout=T)
        tab(page, "导入答复")
        page.locator("#rq-upload input[type='file']").set_input_files([str(big)])
        toast = page.locator("[data-testid='toast-body']")
        expect(toast).to_be_visible(timeout=T)
        expect(toast).to_contain_text("文件超过允许的最大大小")
        assert english(page.evaluate(SEEN), FORMATS | {"txt"}) == []
    finally:
        page.context.close()
    assert watch.outside == []


def test_the_api_has_stable_names_and_the_footer_no_english_links(chromium: Browser, page_server: str,
                                                                   ui_app: ReplyQA) -> None:
    from gradio_client import Client

    with httpx.Client(trust_env=False, timeout=10) as http:
        info = http.get(page_server + "gradio_api/info").json()
    assert set(info["named_endpoints"]) == {"/ask", "/letters"}, info["named_endpoints"].keys()
    client = Client(page_server, verbose=False)
    letters = client.predict(api_name="/letters")
    assert {item["id"] for item in letters} == {r.id for r in ui_app.letters()}
    assert any(item["doc_number"] == "青交建议复〔2023〕41号" for item in letters)
    answer = client.predict("2022年青河市农村公路建设完成了多少投资？", api_name="/ask")
    assert answer["found"] and answer["citations"][0]["letter"] == "qh-jt-2023-058"
    page, _ = open_page(chromium, page_server)
    try:
        page.wait_for_function("window.__replyqa === true", timeout=T)
        assert page.locator("footer a, footer button, a[href*='view=api'], a[href*='settings']").count() == 0
        for link in ("Gradio", "通过 API 使用", "设置", "API"):
            assert page.get_by_text(link, exact=True).count() == 0, link
    finally:
        page.context.close()
