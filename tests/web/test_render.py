"""The page without a browser: its HTML keeps letter text as text, a chat turn streams and then
finishes, uploads keep safe names, the static assets are put together, and the page is
offline by default.
"""

from __future__ import annotations

import json
import os

import pytest

from assistant.ask.retrieve import Filters
from assistant.service import ReplyQA
from assistant.web import assets, letters_html, render
from assistant.web.export import md_escape
from assistant.web.state import Conversation, respond
from assistant.web.upload_tab import safe_name

Q_CITE = "东川省首批5G应用示范项目有多少个？"
Q_FOLLOW = "省里给了多少奖补资金？"
Q_HOSTILE = "建议附件中转述的群众网上留言原文含有哪些字符？"


def test_respond_streams_then_finishes(ui_app: ReplyQA) -> None:
    conv = Conversation()
    states = [[dict(m) for m in c.messages] for c in respond(ui_app, Q_CITE, conv, Filters())]
    assert len(states) >= 3
    assert "rq-streaming" in states[0][-1]["content"] and "rq-streaming" in states[-2][-1]["content"]
    assert "rq-streaming" not in states[-1][-1]["content"] and "rq-k-0-1" in states[-1][-1]["content"]
    assert len(conv.answers) == len(conv.turns) == 1
    list(respond(ui_app, Q_FOLLOW, conv, Filters()))
    assert len(conv.answers) == 2 and "rq-k-1-1" in conv.messages[-1]["content"]


def test_render_escapes_letter_text(ui_app: ReplyQA) -> None:
    answer = ui_app.ask(Q_HOSTILE)
    letter = ui_app.letter("hostile")
    assert letter is not None
    citation = answer.citations[0]
    for markup in (render.answer_html(answer, 0), letters_html.source_html(letter, citation, turn=0),
                   letters_html.letter_html(letter, highlight=(citation.start, citation.end)),
                   render.partial_html(answer.text)):
        assert "<script" not in markup and "<img" not in markup and "href=" not in markup
        assert "&lt;script&gt;" in markup
    unverified = citation.model_copy(update={"verified": False})
    html = render.marker_html(0, unverified)
    assert "rq-cite " not in html and "rq-k-" not in html and "未能核实" in html
    assert "rq-oc-0-1" not in render.answer_html(answer.model_copy(update={"citations": [unverified]}), 0), \
        "an unverified citation offers no 查看全文 either"


def test_markdown_escapes_only_what_would_become_markup() -> None:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for hostile in ("[点击](http://evil.example/x)", "<script>alert(1)</script>", "<img src=x onerror=alert(2)>",
                    "![图](http://evil/x.png)", "**粗体** 与 _斜体_", "# 不是标题", "- 不是列表", "1. 不是编号",
                    "[x]: http://evil", "a | b\n--|--\nc | d", "~~删除~~"):
        rendered = md.render(md_escape(hostile))
        for markup in ("<a ", "<img", "<script", "<strong", "<em", "<h1", "<li", "<table", "<del"):
            assert markup not in rendered, (hostile, rendered)
    for plain in ("青石镇彩虹桥（第58号）总投资2680万元[1]", "004(1).对区十七届人大一次会议第04-1号建议的办理答复",
                  "粤卫案函〔2020〕208号", "2019年全省共建成5G基站超1万个、完成投资近33亿元。"):
        assert md_escape(plain) == plain, "ordinary text pastes as it reads"


def test_safe_upload_names() -> None:
    assert safe_name("答复 2024.TXT") == "答复 2024.txt"
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\x\\a<b>.docx") == "a_b_.docx"
    assert safe_name(".hidden.pdf") == "hidden.pdf"
    assert safe_name("...") == "upload"


def test_page_script_carries_the_page_css() -> None:
    """The CSS reaches the page only inside the page script: a placeholder left in it, or CSS
    not encoded as one JS string, would leave the page unstyled (and CJK text in boxes)."""
    js = assets.page_js()
    assert "__CSS__" not in js
    assert json.dumps(assets.page_css()) in js
    assert "Noto Sans CJK SC" in assets.page_css()
    for script in (assets.copy_js(), assets.scroll_to_mark_js(), assets.reader_js()):
        assert script.strip()
    assert "__ACCEPT__" not in js and '".txt,.html' in assets.page_js((".txt", ".html"))


@pytest.mark.parametrize("value", [None, "False"])
def test_page_is_offline_by_default(ui_app: ReplyQA, monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    """gradio's own default is on; the page's is off. It reads the variable and never sets it
    (the offline guard around every test here would catch a version check or telemetry)."""
    from assistant.web.app import analytics_opt_in, build_app

    if value is None:
        monkeypatch.delenv("GRADIO_ANALYTICS_ENABLED", raising=False)
    else:
        monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", value)
    assert build_app(ui_app).analytics_enabled is False
    assert os.environ.get("GRADIO_ANALYTICS_ENABLED") == value
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "True")
    assert analytics_opt_in(), "an explicit opt-in is still honoured"
