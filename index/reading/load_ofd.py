"""OFD (GB/T 33190, the fixed-layout format many 公文 systems export) → text in reading order.

An OFD is a zip of XML: `OFD.xml` names each document's `Document.xml`, which lists its pages'
`Content.xml` (and the templates a page is drawn on, where the red 版头 often lives). Text is in
`TextObject`s placed by a `Boundary` and `TextCode` X/Y; reading order is rebuilt by position, top
to bottom and left to right, one line per baseline, and the hard line wraps are then joined like
a PDF's. No OFD package on PyPI is both maintained and light enough for this (the candidates
render pages and pull in PDF and font stacks), so this is a small reader over the zip and lxml.

A signed OFD is read like any other (its text is not encrypted; the signature is not verified).
An encrypted one, or one whose parts are missing or are not XML, is refused with the reason.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from index.reading.loaded import LoadError, ReadLimits, wan
from index.reading.zipped import open_bounded_zip, read_member

_LABEL = "OFD 文件"


@dataclass(frozen=True)
class _Glyphs:
    y: float
    x: float
    size: float
    text: str


def is_ofd(archive: zipfile.ZipFile) -> bool:
    return any(name.lower() == "ofd.xml" for name in archive.namelist())


def ofd_text(data: bytes, path: Path | str, limits: ReadLimits) -> str:
    archive = open_bounded_zip(data, path, limits, _LABEL)
    names = {name.lower(): name for name in archive.namelist()}
    if "ofd.xml" not in names:
        raise LoadError(path, "这是一个压缩包，不是 OFD 文件（其中没有 OFD.xml）")
    root = _xml(archive, names["ofd.xml"], path)
    if any(_local(el) == "Encryptions" for el in root.iter()) or any("encryption" in n for n in names):
        raise LoadError(path, "OFD 文件已加密，无法读取文字；请导出未加密的版本后再导入")
    pages: list[str] = []
    total = 0
    for doc_root in _children(root, "DocRoot"):
        doc_name = _resolve("", (doc_root.text or "").strip())
        document = _xml(archive, _member(names, doc_name, path), path)
        base = posixpath.dirname(doc_name)
        templates = {
            el.get("ID"): _resolve(base, el.get("BaseLoc", ""))
            for el in document.iter() if _local(el) == "TemplatePage"
        }
        for page in (el for el in document.iter() if _local(el) == "Page"):
            page_name = _resolve(base, page.get("BaseLoc", ""))
            content = _xml(archive, _member(names, page_name, path), path)
            glyphs: list[_Glyphs] = []
            for used in (el for el in content.iter() if _local(el) == "Template"):
                template = templates.get(used.get("TemplateID"))
                if template and template.lower() in names:
                    glyphs += _page_glyphs(_xml(archive, names[template.lower()], path))
            glyphs += _page_glyphs(content)
            text = _reading_order(glyphs)
            total += len(text)
            if total > limits.max_chars:
                raise LoadError(path, f"OFD 文件的文字超过上限 {wan(limits.max_chars)}，拒绝读取")
            pages.append(text)
    text = "\n".join(p for p in pages if p)
    if not text.strip():
        raise LoadError(path, "OFD 文件中没有可读的文字（文字可能以图形或图片方式保存）")
    return text


def _page_glyphs(content: etree._Element) -> list[_Glyphs]:
    glyphs = []
    for obj in (el for el in content.iter() if _local(el) == "TextObject"):
        box = _numbers(obj.get("Boundary", "0 0 0 0"))
        bx, by = [*box, 0.0, 0.0][:2]
        size = _numbers(obj.get("Size", "")) or [box[3] if len(box) > 3 else 5.0]
        for code in (el for el in obj.iter() if _local(el) == "TextCode"):
            text = "".join(code.itertext())
            if text.strip():
                x = _numbers(code.get("X", "0")) or [0.0]
                y = _numbers(code.get("Y", "0")) or [0.0]
                glyphs.append(_Glyphs(by + y[0], bx + x[0], max(size[0], 0.1), text))
    return glyphs


def _reading_order(glyphs: list[_Glyphs]) -> str:
    """Glyph runs on one baseline (within half a character) make a line, read left to right."""
    lines: list[list[_Glyphs]] = []
    for glyph in sorted(glyphs, key=lambda g: (g.y, g.x)):
        if lines and abs(glyph.y - lines[-1][0].y) < lines[-1][0].size / 2:
            lines[-1].append(glyph)
        else:
            lines.append([glyph])
    out = []
    for line in lines:
        parts: list[str] = []
        end = None
        for glyph in sorted(line, key=lambda g: g.x):
            if end is not None and glyph.x - end > glyph.size * 1.5:
                parts.append(" ")
            parts.append(glyph.text)
            end = glyph.x + len(glyph.text) * glyph.size
        out.append("".join(parts).strip())
    return "\n".join(line for line in out if line)


def _xml(archive: zipfile.ZipFile, name: str, path: Path | str) -> etree._Element:
    data = read_member(archive, name, path, _LABEL)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        raise LoadError(path, f"{_LABEL}已损坏：{name} 不是有效的 XML（也可能已加密）")
    return root


def _member(names: dict[str, str], name: str, path: Path | str) -> str:
    if not name or name.lower() not in names:
        raise LoadError(path, f"{_LABEL}已损坏：缺少部件 {name or '（未注明）'}")
    return names[name.lower()]


def _resolve(base: str, loc: str) -> str:
    loc = loc.strip().replace("\\", "/")
    joined = loc.lstrip("/") if loc.startswith("/") else posixpath.join(base, loc)
    return posixpath.normpath(joined) if joined else ""


def _children(root: etree._Element, name: str) -> list[etree._Element]:
    return [el for el in root.iter() if _local(el) == name]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _numbers(value: str) -> list[float]:
    out = []
    for part in value.split():
        try:
            out.append(float(part))
        except ValueError:
            continue
    return out
