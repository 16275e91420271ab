#!/usr/bin/env python3
"""Regenerate the binary / oddly-encoded sample letters from plain-text sources.

All letters are fictional (each carries a 【示例（虚构）…】 note line).

    samples/src/qh-jy-2025-04-1.txt   -> samples/letters/qh-jy-2025-04-1.docx   (python-docx)
    samples/src/dc-wj-2019-1035.txt   -> samples/letters/dc-wj-2019-1035.pdf    (fpdf2, CJK text layer)
    samples/src/bs-jt-2021-036.txt    -> samples/letters/bs-jt-2021-036.txt     (UTF-8 with BOM)
    samples/src/wx-nync-2023-036.txt  -> samples/letters/wx-nync-2023-036.txt   (GB18030/GBK)

and the error-handling fixtures in samples/broken/ (empty.txt, scanned.pdf without a text
layer, corrupt.docx, unsupported.xyz).  samples/broken/hostile.html is hand-written, not
generated.

Usage:  python samples/build_binary_samples.py [--font PATH]

The PDF needs a CJK font that fpdf2 embeds as TrueType (glyf outlines), e.g. WenQuanYi Micro
Hei (Debian: fonts-wqy-microhei) or AR PL UMing (fonts-arphic-uming).  CFF-based fonts such as
Noto Sans/Serif CJK (.otf/.ttc) do render, but fpdf2 embeds them as CIDFontType0 with an
embedded CMap that pypdf decodes one byte at a time, so the extracted text comes back with a
NUL before every character; the script therefore checks the text layer after writing and
refuses such a font.  Set --font or REPLYQA_CJK_FONT to choose a font explicitly.

Outputs are deterministic (fixed creation dates and zip timestamps), so re-running the script
on unchanged sources gives identical files.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import re
import sys
import unicodedata
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
LETTERS = HERE / "letters"
BROKEN = HERE / "broken"

FIXED_DATE = dt.datetime(2025, 1, 1, 0, 0, 0, tzinfo=dt.UTC)

FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/simhei.ttf",
]

TITLE_RE = re.compile(r"^关于.*(答复|复函)$")
HEADING_RE = re.compile(r"^[一二三四五六七八九十]+、")
DATE_RE = re.compile(r"^(\d{4}年\s*\d{1,2}月\d{1,2}日|\d{4}-\d{2}-\d{2}|[〇一二三四五六七八九零]{4}年.+月.+日)$")


def norm(s: str) -> str:
    """Comparison form used by the project: NFKC, all whitespace removed."""
    return "".join(unicodedata.normalize("NFKC", s).split())


def read_src(name: str) -> list[str]:
    text = (SRC / name).read_text(encoding="utf-8")
    return text.rstrip("\n").split("\n")


def signature_lines(lines: list[str]) -> set[int]:
    """Indices of the signing unit and the date line (right-aligned in the documents)."""
    out: set[int] = set()
    for i, line in enumerate(lines):
        if DATE_RE.match(line.strip()):
            out.add(i)
            if i > 0 and lines[i - 1].strip() and not lines[i - 1].startswith("　"):
                out.add(i - 1)
    return out


# ---------------------------------------------------------------- plain-text re-encodings
def build_reencoded() -> None:
    bom = (SRC / "bs-jt-2021-036.txt").read_text(encoding="utf-8")
    (LETTERS / "bs-jt-2021-036.txt").write_bytes(bom.encode("utf-8-sig"))
    gbk = (SRC / "wx-nync-2023-036.txt").read_text(encoding="utf-8")
    data = gbk.encode("gb18030")
    # Stay within plain GBK so that both gbk and gb18030 decoders read it.
    assert data.decode("gbk") == gbk, "source uses characters outside GBK"
    (LETTERS / "wx-nync-2023-036.txt").write_bytes(data)


# ---------------------------------------------------------------- docx
def _fix_zip_times(path: Path) -> None:
    """Rewrite a zip container with fixed member timestamps (reproducible bytes)."""
    with zipfile.ZipFile(path) as zin:
        members = [(info, zin.read(info.filename)) for info in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in members:
            zi = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            zout.writestr(zi, data)
    path.write_bytes(buf.getvalue())


def build_docx(src: str, out: Path) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    lines = read_src(src)
    sig = signature_lines(lines)
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "FangSong"
    normal.font.size = Pt(14)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋")
    for i, raw in enumerate(lines):
        line = raw.lstrip("　 ")
        if not line:
            continue
        p = doc.add_paragraph()
        run = p.add_run(line)
        if line.startswith("【示例"):
            run.italic = True
            run.font.size = Pt(10)
            run.font.color.rgb = RGBColor(0x80, 0x80, 0x80)
        elif TITLE_RE.match(line):
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.bold = True
            run.font.size = Pt(20)
        elif HEADING_RE.match(line):
            run.bold = True  # the 一、 headings are bold (黑体 in the printed original)
            p.paragraph_format.first_line_indent = Pt(28)
        elif i in sig:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif raw.startswith("　"):
            p.paragraph_format.first_line_indent = Pt(28)
    cp = doc.core_properties
    cp.title = next((ln for ln in lines if TITLE_RE.match(ln)), "")
    cp.author = "示例（虚构）"
    cp.comments = "Fictional sample letter generated by samples/build_binary_samples.py"
    cp.created = FIXED_DATE.replace(tzinfo=None)
    cp.modified = FIXED_DATE.replace(tzinfo=None)
    cp.last_modified_by = "replyqa"
    cp.revision = 1
    doc.save(out)
    _fix_zip_times(out)

    # self-check: every source line is in the extracted text
    got = norm("\n".join(p.text for p in Document(out).paragraphs))
    missing = [ln for ln in lines if norm(ln) and norm(ln) not in got]
    assert not missing, f"docx text check failed: {missing[:3]}"


# ---------------------------------------------------------------- pdf
def find_font(explicit: str | None) -> str:
    cands = [explicit] if explicit else []
    if os.environ.get("REPLYQA_CJK_FONT"):
        cands.append(os.environ["REPLYQA_CJK_FONT"])
    cands += FONT_CANDIDATES
    for c in cands:
        if c and Path(c).is_file():
            return c
    sys.exit(
        "No suitable CJK TrueType font found. Install one, e.g.\n"
        "  apt-get install -y fonts-wqy-microhei\n"
        "or pass --font /path/to/font.ttf|.ttc (glyf outlines; Noto CJK OTF will not extract)."
    )


def build_pdf(src: str, out: Path, font_path: str) -> None:
    from fpdf import FPDF
    from pypdf import PdfReader

    lines = read_src(src)
    sig = signature_lines(lines)

    class OfficialPDF(FPDF):
        def footer(self) -> None:  # page number as printed on official documents: — 1 —
            self.set_y(-18)
            self.set_font("cjk", size=11)
            self.cell(0, 8, f"— {self.page_no()} —", align="C")

    pdf = OfficialPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(next((ln for ln in lines if TITLE_RE.match(ln)), ""))
    pdf.set_author("示例（虚构）")
    pdf.set_creator("samples/build_binary_samples.py")
    pdf.set_margins(left=28, top=30, right=26)
    pdf.set_auto_page_break(True, margin=28)
    pdf.add_font("cjk", "", font_path)
    pdf.add_page()
    for i, raw in enumerate(lines):
        if not raw.strip():
            pdf.ln(4)
            continue
        # fpdf2 treats U+3000 as a break opportunity and would wrap right after a "　　" first-line
        # indent, so the indent is dropped (as in many PDF text layers of official letters).
        raw = raw.lstrip("　")
        if raw.startswith("【示例"):
            pdf.set_font("cjk", size=9)
            pdf.set_text_color(110, 110, 110)
            pdf.multi_cell(0, 6, raw, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            pdf.ln(2)
        elif TITLE_RE.match(raw):
            pdf.ln(4)
            pdf.set_font("cjk", size=18)
            pdf.multi_cell(0, 11, raw, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        elif "〔" in raw and "号" in raw and i < 4:  # document number line
            pdf.set_font("cjk", size=13)
            pdf.multi_cell(0, 8, raw, align="R", new_x="LMARGIN", new_y="NEXT")
        elif i in sig:
            pdf.set_font("cjk", size=14)
            pdf.multi_cell(0, 9, raw, align="R", new_x="LMARGIN", new_y="NEXT")
        elif HEADING_RE.match(raw):
            pdf.set_font("cjk", size=14)
            pdf.multi_cell(0, 9, raw, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.set_font("cjk", size=13)
            pdf.multi_cell(0, 8.5, raw, new_x="LMARGIN", new_y="NEXT")
    tmp = out.with_name(out.name + ".tmp")
    pdf.output(str(tmp))

    # self-check: the text layer must give the source text back (else keep the old file)
    reader = PdfReader(str(tmp))
    raw_text = "\n".join(page.extract_text() or "" for page in reader.pages)
    # page footers (— 1 —) may fall inside a paragraph; ignore them for this check
    got = norm(re.sub(r"(?m)^— \d+ —$", "", raw_text))
    missing = [ln for ln in lines if norm(ln) and norm(ln) not in got]
    if "\x00" in got or missing:
        tmp.unlink()
        why = "NULs in extracted text (CFF font?)" if "\x00" in got else f"missing {missing[:2]}"
        sys.exit(f"{font_path}: PDF text layer does not read back ({why}); use a TrueType (glyf) CJK font")
    tmp.replace(out)


# ---------------------------------------------------------------- broken fixtures
def build_broken() -> None:
    from fpdf import FPDF

    BROKEN.mkdir(exist_ok=True)
    (BROKEN / "empty.txt").write_bytes(b"")

    # A "scanned" page: only vector shapes (a letterhead bar, grey text-like bars, a red
    # seal circle), no text objects at all, so text extraction yields nothing.
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_page()
    pdf.set_fill_color(200, 30, 30)
    pdf.rect(28, 30, 154, 2, style="F")
    pdf.set_fill_color(60, 60, 60)
    pdf.rect(55, 42, 100, 7, style="F")  # title
    rng = random.Random(20250101)
    y = 62.0
    for _ in range(22):
        indent = 10 if rng.random() < 0.25 else 0
        width = 154 - indent - (rng.randint(0, 60) if rng.random() < 0.3 else 0)
        pdf.set_fill_color(150, 150, 150)
        pdf.rect(28 + indent, y, width, 3.5, style="F")
        y += 8
    pdf.set_draw_color(200, 30, 30)
    pdf.set_line_width(1.2)
    pdf.ellipse(130, y + 4, 36, 36)
    pdf.output(str(BROKEN / "scanned.pdf"))

    rnd = random.Random(404)
    (BROKEN / "corrupt.docx").write_bytes(bytes(rnd.getrandbits(8) for _ in range(4096)))

    (BROKEN / "unsupported.xyz").write_text(
        "【示例（虚构）】这是一个扩展名不受支持的文件（.xyz），内容看似一封答复，但不应被当作信件读取。\n"
        "关于县十八届人大三次会议第99号建议的答复\n",
        encoding="utf-8",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--font", help="CJK TrueType font (.ttf/.ttc with glyf outlines) for the PDF")
    args = ap.parse_args()
    LETTERS.mkdir(exist_ok=True)
    font = find_font(args.font)
    build_reencoded()
    build_docx("qh-jy-2025-04-1.txt", LETTERS / "qh-jy-2025-04-1.docx")
    build_pdf("dc-wj-2019-1035.txt", LETTERS / "dc-wj-2019-1035.pdf", font)
    build_broken()
    print(f"built binary samples (PDF font: {font})")


if __name__ == "__main__":
    main()
