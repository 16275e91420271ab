"""Security as tests (it was checked by hand): uploads never write outside the data directory,
with login on no route answers without it, and the page binds 127.0.0.1 unless told otherwise
(`tests/cli/test_serve_binding.py`).
(API keys in logs and messages: `tests/ask/llm/test_llm_answer.py` and `test_redact.py`.)"""

from __future__ import annotations

from pathlib import Path

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.service import ReplyQA
from assistant.web.upload_tab import safe_name, save_uploads

HOSTILE_NAMES = ["../../etc/passwd.txt", "..\\..\\windows\\win.ini.txt", "/abs/path/x.txt", "a/../../b.txt",
                 "....//....//c.txt", "\x00evil.txt", "%2e%2e%2fd.txt", "~/.bashrc.txt", "..", ".", ". ..", "CON.txt",
                 "名" * 300 + ".txt"]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.sampled_from(HOSTILE_NAMES), st.text(max_size=80), st.lists(
    st.sampled_from(["..", "/", "\\", ".", "a", "答", "\x00", ":", " "]), max_size=30).map("".join)))
def test_an_upload_name_never_leaves_the_upload_folder(name: str) -> None:
    folder = Path("/srv/replyqa/uploads")
    safe = safe_name(name)
    assert safe and "/" not in safe and "\\" not in safe and "\x00" not in safe and not safe.startswith(".")
    assert (folder / safe).resolve().parent == folder
    assert len(safe.encode("utf-8")) <= 255


def test_saved_uploads_stay_in_the_data_dir(tmp_path: Path) -> None:
    """The files as gradio hands them over: a temp folder each, under the name the browser sent."""
    upload_dir = tmp_path / "data" / "uploads"
    sent = []
    for n, name in enumerate(["..%2f..%2fescape.txt", "....txt", "evil\\..\\..\\x.txt", " spaced name.txt"]):
        folder = tmp_path / "gradio" / str(n)
        folder.mkdir(parents=True)
        path = folder / name
        path.write_text("答复", encoding="utf-8")
        sent.append(str(path))
    kept, refused = save_uploads(sent, upload_dir, 20)
    assert len(kept) == 3 and [r.status for _, r in refused] == ["failed"], "`....txt` has no type left"
    for _, target in kept:
        assert target.resolve().parent == upload_dir.resolve()
    outside = {p for p in tmp_path.rglob("*") if p.is_file()} - set(upload_dir.iterdir())
    assert all("gradio" in p.parts for p in outside), "nothing written beside the data dir"


def test_with_login_on_no_route_answers_without_it(auth_page_server: str, ui_app: ReplyQA) -> None:
    title = ui_app.letters()[0].title
    source = ui_app.letters()[0].source
    with httpx.Client(trust_env=False, timeout=20, base_url=auth_page_server) as http:
        for method, path, body in [
            ("GET", "config", None), ("GET", "gradio_api/info", None), ("GET", "gradio_api/openapi.json", None),
            ("POST", "gradio_api/call/ask", {"data": ["青河市交通运输局答复了什么？"]}),
            ("POST", "gradio_api/call/letters", {"data": []}),
            ("POST", "gradio_api/queue/join", {"data": [], "fn_index": 0, "session_hash": "x"}),
            ("GET", f"gradio_api/file={source}", None), ("GET", f"file={source}", None),
        ]:
            resp = http.request(method, path, json=body)
            assert resp.status_code in (401, 403, 404), (path, resp.status_code)
            assert title not in resp.text and "答复" not in resp.text.replace("答复问答助手", ""), path
        upload = http.post("gradio_api/upload", files={"files": ("x.txt", "答复".encode(), "text/plain")})
        assert upload.status_code in (401, 403), upload.status_code
        page = http.get("")
        assert title not in page.text, "the page without login shows no letter"
