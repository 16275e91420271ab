"""The formats offices hold beyond .txt/.html/.docx/.pdf, each built by the test and read by the
real tool (LibreOffice, Tesseract, pdftoppm), as a user would see them: the letter's title,
issuer and date read, or a Chinese reason naming the file."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from index.pipeline import discover
from index.reading.letter import ReplyLetter, parse_loaded
from index.reading.load import LoadError, ReadLimits, load_bytes, load_file
from tests.index.reading.samples import ISSUER, LINES, TITLE, ofd_bytes, scan_image, write_doc, write_docx, zip_bytes


def _letter(path: Path, limits: ReadLimits | None = None) -> ReplyLetter:
    return parse_loaded(load_file(path, limits), source=str(path), letter_id=path.stem)


def _assert_sample_letter(letter: ReplyLetter) -> None:
    assert letter.title == TITLE
    assert letter.issuer == ISSUER
    assert letter.date == "2023-06-18"
    assert "今年已安排资金三百万元" in letter.text


# --- .doc and .wps through LibreOffice ----------------------------------------------------------


@pytest.fixture(scope="module")
def doc_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_doc(tmp_path_factory.mktemp("doc") / "letter.doc").read_bytes()


@pytest.mark.parametrize("suffix", [".doc", ".wps"])
def test_old_word_and_wps_are_read_through_libreoffice(tmp_path: Path, doc_bytes: bytes, suffix: str) -> None:
    path = tmp_path / f"答复 第9号{suffix}"
    path.write_bytes(doc_bytes)
    letter = _letter(path)
    _assert_sample_letter(letter)
    assert letter.format == suffix[1:]
    assert not letter.ocr


def test_a_doc_in_a_folder_is_picked_up_not_skipped(tmp_path: Path, doc_bytes: bytes) -> None:
    for name in ("a.doc", "b.wps", "c.ofd", "d.png", "e.jpg", "f.jpeg", "g.docx", "notes.xyz"):
        (tmp_path / name).write_bytes(b"x")
    found = {p.name for p in discover([tmp_path])}
    assert found == {"a.doc", "b.wps", "c.ofd", "d.png", "e.jpg", "f.jpeg", "g.docx"}


def test_without_libreoffice_a_doc_is_refused_naming_the_file_and_the_package(
    tmp_path: Path, doc_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "旧答复.doc"
    path.write_bytes(doc_bytes)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(LoadError) as err:
        load_file(path)
    assert "LibreOffice" in err.value.reason and "libreoffice-writer-nogui" in err.value.reason
    assert str(path) in str(err.value)


def test_a_broken_doc_is_refused_and_leaves_no_libreoffice_behind(tmp_path: Path) -> None:
    path = tmp_path / "坏的.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8)
    with pytest.raises(LoadError, match="已损坏或无法识别：LibreOffice") as err:
        load_file(path)
    assert str(path) in str(err.value)
    assert not _our_soffice_processes()


def test_a_conversion_over_its_time_limit_is_stopped(tmp_path: Path, doc_bytes: bytes) -> None:
    path = tmp_path / "慢.doc"
    path.write_bytes(doc_bytes)
    start = time.monotonic()
    with pytest.raises(LoadError, match=r"超过 0\.5 秒仍未完成"):
        load_file(path, ReadLimits(convert_timeout=0.5))
    assert time.monotonic() - start < 10
    assert not _our_soffice_processes()


def _our_soffice_processes() -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            continue
        if "replyqa-lo-" in cmdline:
            found.append(cmdline)
    return found


# --- OFD ------------------------------------------------------------------------------------------


def test_ofd_text_comes_in_reading_order_with_the_template_header(tmp_path: Path) -> None:
    path = tmp_path / "答复.ofd"
    path.write_bytes(ofd_bytes())
    letter = _letter(path)
    _assert_sample_letter(letter)
    assert letter.format == "ofd"
    assert letter.text.split("\n")[:3] == LINES[:3]


def test_a_signed_ofd_is_read_like_any_other(tmp_path: Path) -> None:
    path = tmp_path / "签章.ofd"
    path.write_bytes(ofd_bytes(signed=True))
    _assert_sample_letter(_letter(path))


def _ofd_members() -> dict[str, str | bytes]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(ofd_bytes())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("missing page", "缺少部件 Doc_0/Pages/Page_0/Content.xml"),
        ("page not xml", "Content.xml 不是有效的 XML"),
        ("encrypted", "已加密"),
        ("text as images", "没有可读的文字"),
        ("truncated", "已损坏"),
    ],
)
def test_a_damaged_or_encrypted_ofd_gets_a_clear_reason(tmp_path: Path, damage: str, reason: str) -> None:
    members = _ofd_members()
    page = "Doc_0/Pages/Page_0/Content.xml"
    if damage == "missing page":
        del members[page]
    elif damage == "page not xml":
        members[page] = os.urandom(300)
    elif damage == "encrypted":
        members["Encryptions.xml"] = "<Encryptions/>"
    elif damage == "text as images":
        members[page] = members[page].replace(b"<ofd:TextCode", b"<ofd:ImageObject").replace(  # type: ignore[union-attr]
            b"</ofd:TextCode>", b"</ofd:ImageObject>")
        members["Doc_0/Tpls/Tpl_0/Content.xml"] = members[page]
    data = zip_bytes(members)
    if damage == "truncated":
        data = data[: len(data) // 2]
    path = tmp_path / f"{damage}.ofd"
    path.write_bytes(data)
    with pytest.raises(LoadError) as err:
        load_file(path)
    assert reason in err.value.reason
    assert str(path) in str(err.value)


# --- OCR: scans and photos ------------------------------------------------------------------------


@pytest.mark.parametrize(("suffix", "fmt"), [(".png", "PNG"), (".jpg", "JPEG")])
def test_a_photo_of_a_letter_is_read_by_ocr_and_marked_so(tmp_path: Path, suffix: str, fmt: str) -> None:
    path = tmp_path / f"扫描{suffix}"
    scan_image().save(path, format=fmt)
    letter = _letter(path)
    _assert_sample_letter(letter)
    assert letter.format == "image" and letter.ocr
    assert "张某某代表：" in letter.text  # Tesseract's ASCII colon made full-width again


def test_a_scanned_pdf_is_read_by_ocr_and_marked_so(tmp_path: Path) -> None:
    path = tmp_path / "扫描件.pdf"
    scan_image().convert("RGB").save(path, format="PDF", resolution=200)
    letter = _letter(path)
    _assert_sample_letter(letter)
    assert letter.format == "pdf" and letter.ocr


def test_a_pdf_with_a_text_layer_is_not_marked_as_ocr() -> None:
    letter = _letter(Path(__file__).resolve().parents[3] / "samples" / "letters" / "dc-wj-2019-1035.pdf")
    assert letter.format == "pdf" and not letter.ocr


def test_a_scanned_pdf_without_ocr_is_refused_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "扫描件.pdf"
    scan_image().convert("RGB").save(path, format="PDF", resolution=200)
    with pytest.raises(LoadError) as off:
        load_file(path, ReadLimits(ocr=False))
    assert "没有文字层" in off.value.reason and "已关闭" in off.value.reason
    assert str(path) in str(off.value)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(LoadError) as missing:
        load_file(path)
    assert "没有文字层" in missing.value.reason and "tesseract-ocr-chi-sim" in missing.value.reason


def test_a_scan_longer_than_the_ocr_page_limit_is_refused_before_ocr(tmp_path: Path) -> None:
    path = tmp_path / "长扫描件.pdf"
    page = scan_image().convert("RGB")
    page.save(path, format="PDF", resolution=200, save_all=True, append_images=[page, page])
    start = time.monotonic()
    with pytest.raises(LoadError, match="共 3 页，超过文字识别上限 2 页"):
        load_file(path, ReadLimits(ocr_max_pages=2))
    assert time.monotonic() - start < 2


def test_an_image_too_large_for_ocr_is_refused_from_its_header(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "巨幅.png"
    Image.new("1", (9000, 9000), 1).save(path)
    assert path.stat().st_size < 100_000
    with pytest.raises(LoadError, match="9000×9000 像素，超过文字识别上限") as err:
        load_file(path)
    assert str(path) in str(err.value)


def test_a_broken_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "坏图.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(LoadError, match="图片已损坏"):
        load_file(path)


def test_a_docx_made_here_still_reads(tmp_path: Path) -> None:
    _assert_sample_letter(_letter(write_docx(tmp_path / "答复.docx")))


def test_load_bytes_takes_the_limits_from_settings(tmp_path: Path) -> None:
    from index.settings import Settings

    limits = ReadLimits.from_settings(Settings(data_dir=tmp_path, read_max_chars=50, ocr_enabled=False))
    assert limits.max_chars == 50 and not limits.ocr
    with pytest.raises(LoadError, match="超过上限 50 字"):
        load_bytes("\n".join(LINES).encode(), tmp_path / "a.txt", limits)
