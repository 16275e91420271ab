"""`replyqa serve` imports gradio without gradio rewriting its type stubs, and gradio still
builds a page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import sys
from assistant.web.gradio_stubs import skip_stub_writing
assert skip_stub_writing()
assert not skip_stub_writing(), "one hook is enough"
import gradio as gr
import gradio.component_meta as meta
assert meta.create_or_modify_pyi.__module__ == "assistant.web.gradio_stubs", meta.create_or_modify_pyi
with gr.Blocks() as demo:
    box = gr.Textbox(label="问题")
    box.submit(lambda q: q, box, box)
assert demo.config["components"], "components still build"
print("ok")
"""


def test_gradio_imports_without_writing_stubs_and_still_builds_a_page() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_once_gradio_is_imported_the_hook_is_not_installed() -> None:
    child = "import gradio\nfrom assistant.web.gradio_stubs import skip_stub_writing\nprint(skip_stub_writing())"
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
