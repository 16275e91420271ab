"""Letters in every format a loader reads, built by the tests themselves (nothing downloaded):
.docx with python-docx, .doc/.wps by the real LibreOffice, OFD as the zip of XML GB/T 33190
describes, scans as Chinese text drawn with the installed Noto CJK font."""

from __future__ import annotations

import subprocess
import tempfile
import zipfile
from pathlib import Path

TITLE = "关于县十届人大二次会议第9号建议的答复"
ISSUER = "温溪县交通运输局"
LINES = [
    TITLE,
    "张某某代表：",
    "您提出的《关于加强农村道路建设的建议》收悉，现答复如下：",
    "一、我局高度重视农村道路建设，今年已安排资金三百万元。",
    "二、下一步将继续推进道路养护工作。",
    "感谢您对交通运输工作的关心和支持。",
    ISSUER,
    "2023年6月18日",
    "示例（虚构）",
]
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def write_docx(path: Path, lines: list[str] = LINES) -> Path:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(str(path))
    return path


def write_doc(path: Path, lines: list[str] = LINES) -> Path:
    """A Word 97 binary written by LibreOffice from a .docx; a Kingsoft .wps is the same format
    under another suffix (LibreOffice has no WPS export), so `path` may end in .wps."""
    with tempfile.TemporaryDirectory() as tmp:
        source = write_docx(Path(tmp) / "letter.docx", lines)
        profile = (Path(tmp) / "profile").as_uri()
        subprocess.run(
            ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "doc",
             "--outdir", tmp, str(source)],
            check=True, capture_output=True, timeout=120,
        )
        path.write_bytes((Path(tmp) / "letter.doc").read_bytes())
    return path


_NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def _text_object(obj_id: int, x: float, y: float, text: str, size: float = 5.3) -> str:
    return (
        f'<ofd:TextObject ID="{obj_id}" Boundary="{x} {y} 170 {size * 1.5}" Font="3" Size="{size}">'
        f'<ofd:TextCode X="0" Y="{size}">{text}</ofd:TextCode></ofd:TextObject>'
    )


def ofd_bytes(
    lines: list[str] = LINES, *, signed: bool = False, header_in_template: bool = True, shuffle: bool = True
) -> bytes:
    """An OFD whose first line (the 版头, as 公文 systems do) sits on a template page and whose
    text objects are stored out of reading order, so only position gives the order back."""
    header, body = (lines[0], lines[1:]) if header_in_template else (None, lines)
    objects = [(i, 25.0, 60.0 + 9 * i, line) for i, line in enumerate(body)]
    if shuffle:
        objects = objects[::-1]
    content = "".join(_text_object(10 + i, x, y, text) for i, x, y, text in objects)
    page = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {_NS}>'
        + ('<ofd:Template TemplateID="5"/>' if header else "")
        + f'<ofd:Content><ofd:Layer ID="4">{content}</ofd:Layer></ofd:Content></ofd:Page>'
    )
    template = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {_NS}><ofd:Content><ofd:Layer ID="6">'
        + (_text_object(7, 25.0, 40.0, header, 7.0) if header else "")
        + "</ofd:Layer></ofd:Content></ofd:Page>"
    )
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {_NS}><ofd:CommonData>'
        '<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>'
        '<ofd:MaxUnitID>40</ofd:MaxUnitID><ofd:TemplatePage ID="5" BaseLoc="Tpls/Tpl_0/Content.xml"/>'
        '</ofd:CommonData><ofd:Pages><ofd:Page ID="2" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
        "</ofd:Document>"
    )
    root = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {_NS} Version="1.0" DocType="OFD"><ofd:DocBody>'
        "<ofd:DocInfo><ofd:DocID>0f1e2d3c</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
        + ("<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>" if signed else "")
        + "</ofd:DocBody></ofd:OFD>"
    )
    members = {
        "OFD.xml": root,
        "Doc_0/Document.xml": document,
        "Doc_0/Pages/Page_0/Content.xml": page,
        "Doc_0/Tpls/Tpl_0/Content.xml": template,
    }
    if signed:
        members["Doc_0/Signs/Signatures.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Signatures {_NS}>'
            '<ofd:Signature ID="1" BaseLoc="Sign_0/Signature.xml"/></ofd:Signatures>'
        )
        members["Doc_0/Signs/Sign_0/Signature.xml"] = f'<ofd:Signature {_NS}><ofd:SignedInfo/></ofd:Signature>'
        members["Doc_0/Signs/Sign_0/SignedValue.dat"] = "\x30\x82\x01\x00"
    return zip_bytes(members)


def zip_bytes(members: dict[str, str | bytes]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in members.items():
            archive.writestr(name, value)
    return buffer.getvalue()


def scan_image(lines: list[str] = LINES, *, size: int = 40):  # type: ignore[no-untyped-def]
    """An A4 page at 200 dpi with the letter drawn in black on white, as a scanner gives it."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), size, index=2)  # index 2: the Simplified Chinese face
    image = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((150, 200 + i * int(size * 2)), line, font=font, fill=0)
    return image
