"""Regenerate docs/screenshot.png: the page with an answer and its cited section highlighted.

Kept as a script rather than a test so that running the tests never rewrites a tracked file.
It builds a throw-away index of samples/letters (unless --data-dir points at an existing one),
serves the page on a free 127.0.0.1 port, asks one question in headless Chromium, clicks its
first citation and takes the screenshot.

    .venv/bin/python docs/make_screenshot.py [--data-dir DIR] [--question 问题] [--out PATH]
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"

import argparse
import socket
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from assistant.service import ReplyQA  # noqa: E402
from assistant.web.app import serve  # noqa: E402
from index.settings import Settings  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> int:
    parser = argparse.ArgumentParser(description="生成 docs/screenshot.png")
    parser.add_argument("--data-dir", help="已有索引的目录（默认：用 samples/letters 临时建一个）")
    parser.add_argument("--question", default="2022年青河市农村公路建设完成了多少投资？")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="replyqa-shot-") as tmp:
        data_dir = Path(args.data_dir) if args.data_dir else Path(tmp)
        # The model lives where the user's own index keeps it, so a throw-away index does not
        # export it again.
        models_dir = Settings().model_store
        app = ReplyQA.open(Settings(data_dir=data_dir, models_dir=models_dir, auth_users=None, auth_file=None))
        if not args.data_dir:
            app.ingest([ROOT / "samples" / "letters"])
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        demo = serve(app, "127.0.0.1", port, users={}, prevent_thread_lock=True, quiet=True)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(locale="zh-CN", viewport={"width": 1440, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_function("window.__replyqa === true", timeout=30_000)
                page.locator("#rq-question textarea").fill(args.question)
                page.locator("#rq-question textarea").press("Enter")
                cite = page.locator("#rq-chat .rq-text .rq-cite").first
                expect(cite).to_be_visible(timeout=30_000)
                cite.click()
                expect(page.locator("#rq-source mark")).to_be_in_viewport(timeout=30_000)
                page.evaluate("window.scrollTo(0, 0)")
                page.locator("#rq-source mark").evaluate("m => m.scrollIntoView({block: 'center'})")
                page.wait_for_timeout(300)
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=args.out, full_page=True)
                browser.close()
        finally:
            demo.close()
            app.close()
    print(f"已保存截图：{args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
