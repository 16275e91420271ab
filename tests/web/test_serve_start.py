"""`replyqa serve` as a user starts it: the page answers before any process has loaded torch
(questions are embedded in the page's own process without it), and an upload from the page is
still embedded and answerable — by torch in a process of its own that the upload started.

A real `replyqa serve` process, asked through its API with `gradio_client` and uploaded to in
Chromium; whether torch is loaded is read from each process's memory map.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from assistant.evaluation.served import ask, connect, serving
from assistant.service import ReplyQA
from index.settings import Settings
from tests.web.pagekit import T, open_page
from tests.web.test_browser import NEW_LETTER, Q_NEW

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "letters" / "dc-gx-2020-dh0271.txt"
LOAD_MS = 300_000
"""Ingesting the upload includes starting torch's process and loading the model: ~15 s idle,
far more on 2 cores shared with other suites."""


def torch_loaded(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def test_the_page_answers_without_torch_and_an_upload_starts_it(
    chromium: Browser, tmp_path: Path, models_dir: Path, export_dir: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", models_dir=models_dir, chroma_host=None, llm_base_url=None,
                        auth_users=None, auth_file=None)
    app = ReplyQA.open(settings)
    try:
        assert not app.ingest([SAMPLE]).failures
    finally:
        app.close()
    with serving(settings, tmp_path / "serve.log") as served:
        client = connect(served)
        first = ask(client, "东川省首批5G应用示范项目有多少个？")
        assert first["found"] and "46个" in first["text"], first
        assert served.pids() == [served.process.pid], "no process besides the page's"
        assert not torch_loaded(served.process.pid)

        letter = tmp_path / "云杉县交通局-彩虹桥答复.txt"
        letter.write_text(NEW_LETTER, encoding="utf-8")
        page, watch = open_page(chromium, served.url)
        try:
            page.wait_for_function("window.__replyqa === true", timeout=T)
            page.get_by_role("tab", name="导入答复").click()
            page.locator("#rq-upload input[type='file']").set_input_files([str(letter)])
            expect(page.locator("#rq-upload")).to_contain_text("彩虹桥", timeout=T)
            page.locator("#rq-ingest").click()
            row = page.locator("#rq-ingest-result tr", has_text=letter.name)
            expect(row.locator(".rq-status")).to_have_text("新增", timeout=LOAD_MS)
        finally:
            page.context.close()
        assert watch.errors == [] and watch.outside == [] and watch.dialogs == []

        new = ask(client, Q_NEW)
        assert new["found"] and "2680万元" in new["text"], new
        again = ask(client, "东川省首批5G应用示范项目有多少个？")
        assert again["text"] == first["text"], "questions are embedded as before the upload"
        children = served.pids()[1:]
        assert any(torch_loaded(pid) for pid in children), "the upload was embedded by torch's process"
        assert not torch_loaded(served.process.pid), "the page's own process still has no torch"
