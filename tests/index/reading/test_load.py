"""Bytes → text: every format we accept, every way a file can be broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.reading.load import LoadError, html_to_text, load_bytes, load_file, reflow_pdf_lines

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


def test_every_sample_letter_loads_with_its_format_detected() -> None:
    formats = {p.name: load_file(p).format for p in (SAMPLES / "letters").iterdir()}
    assert formats["qh-zj-2022-027.html"] == "html"
    assert formats["qh-jy-2025-04-1.docx"] == "docx"
    assert formats["dc-wj-2019-1035.pdf"] == "pdf"
    assert {f for name, f in formats.items() if name.endswith(".txt")} == {"txt"}


def test_text_encodings_are_detected_not_assumed() -> None:
    gbk = load_file(SAMPLES / "letters" / "wx-nync-2023-036.txt")
    assert gbk.encoding == "gb18030"
    assert "温溪县农业农村局" in gbk.text
    bom = load_file(SAMPLES / "letters" / "bs-jt-2021-036.txt")
    assert bom.encoding == "utf-8-sig"
    assert not bom.text.startswith("\ufeff")


def test_gbk_bytes_under_any_extension_decode(tmp_path: Path) -> None:
    text = "关于县十届人大二次会议第9号建议的答复\n张某某代表：\n您提出的建议收悉。"
    path = tmp_path / "letter.txt"
    path.write_bytes(text.encode("gbk"))
    assert load_file(path).text == text


def test_html_saved_as_txt_is_read_as_html(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_text(
        "<html><head><style>p{color:red}</style></head><body><p>第一段。</p>"
        "<script>var x=1;</script><p>第二段。</p></body></html>",
        encoding="utf-8",
    )
    loaded = load_file(path)
    assert loaded.format == "html"
    assert loaded.text.split("\n") == ["第一段。", "第二段。"]


def test_html_keeps_paragraphs_and_drops_scripts_styles_comments_hidden() -> None:
    text, title = html_to_text(
        "<html><head><title>页面标题_某某网站</title></head><body>"
        "<div>一、关于道路<br>我局已安排资金。</div><!--EndFragment-->"
        "<span style='display:none'>隐藏文字</span><noscript>请启用脚本</noscript>"
        "<table><tr><td>索引号</td><td>123</td></tr></table></body></html>"
    )
    assert title == "页面标题_某某网站"
    lines = text.split("\n")
    assert lines[:2] == ["一、关于道路", "我局已安排资金。"]
    assert "EndFragment" not in text and "隐藏文字" not in text and "请启用脚本" not in text
    assert "索引号 | 123" in text


def test_hostile_markup_written_as_text_in_a_letter_survives_as_text() -> None:
    loaded = load_file(SAMPLES / "broken" / "hostile.html")
    assert "<script>alert(1)</script>" in loaded.text
    assert "onerror" in loaded.text


def test_pdf_text_layer_is_read_and_line_wraps_are_joined() -> None:
    loaded = load_file(SAMPLES / "letters" / "dc-wj-2019-1035.pdf")
    source = (SAMPLES / "src" / "dc-wj-2019-1035.txt").read_text(encoding="utf-8")
    long_paragraph = next(line.strip() for line in source.splitlines() if len(line.strip()) > 80)
    assert long_paragraph.replace("\u3000", "") in loaded.text.replace("\u3000", "")


def test_reflow_keeps_headings_and_dates_on_their_own_lines() -> None:
    text = "\n".join([
        "我局高度重视，已组织有关处室认真研究并提出具体意",
        "见，现答复如下：",
        "一、关于资金",
        "2023年6月18日",
    ])
    assert reflow_pdf_lines(text).split("\n") == [
        "我局高度重视，已组织有关处室认真研究并提出具体意见，现答复如下：",
        "一、关于资金",
        "2023年6月18日",
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.txt", "空"),
        ("scanned.pdf", "没有文字层"),
        ("corrupt.docx", "损坏"),
        ("unsupported.xyz", "不支持的文件类型"),
    ],
)
def test_broken_files_give_a_clear_error_naming_the_file(name: str, reason: str) -> None:
    path = SAMPLES / "broken" / name
    with pytest.raises(LoadError) as err:
        load_file(path)
    assert reason in err.value.reason
    assert str(path) in str(err.value)


def test_missing_file_and_old_word_format(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="不存在"):
        load_file(tmp_path / "nope.txt")
    with pytest.raises(LoadError, match=r"\.doc"):
        load_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, tmp_path / "old.doc")
