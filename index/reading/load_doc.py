"""Old Word (.doc) and WPS (.wps) → text through LibreOffice headless.

Each conversion runs in a private, throwaway LibreOffice profile (`-env:UserInstallation`): two
ingests, or an ingest and a user's own LibreOffice, never share one, and a profile left locked
by a killed run cannot block the next. The file is copied under a plain name first, so a name
with spaces, `../` or 255 bytes never reaches LibreOffice's command line. The text it writes
(UTF-8) then goes through the same cleaner and parser as every other format.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from index.reading.load_text import reads_as_text
from index.reading.loaded import LoadError, ReadLimits
from index.reading.tools import find_tool, run_tool

_SOFFICE = ("soffice", "libreoffice")


def soffice_path() -> str | None:
    return next((found for name in _SOFFICE if (found := find_tool(name))), None)


def doc_text(data: bytes, path: Path | str, limits: ReadLimits, suffix: str) -> str:
    kind = "WPS 文件" if suffix == ".wps" else "旧版 Word（.doc）文件"
    soffice = soffice_path()
    if soffice is None:
        raise LoadError(
            path,
            f"这是{kind}，需要 LibreOffice 才能读取，但本机未安装（系统软件包 libreoffice-writer-nogui）；"
            "也可以另存为 .docx 后再导入",
        )
    with tempfile.TemporaryDirectory(prefix="replyqa-lo-") as tmp:
        work = Path(tmp)
        source = work / f"letter{suffix}"
        source.write_bytes(data)
        out = work / "out"
        run_tool(
            [soffice, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless", "--norestore",
             "--nologo", "--nodefault", "--nolockcheck", "--convert-to", "txt:Text (encoded):UTF8",
             "--outdir", str(out), str(source)],
            timeout=limits.convert_timeout, path=path, what=f"LibreOffice 转换{kind}", cwd=work,
            env={"HOME": str(work), "SAL_USE_VCLPLUGIN": "svp"},
        )
        converted = out / "letter.txt"
        if not converted.exists():
            raise LoadError(path, f"{kind}已损坏或无法识别：LibreOffice 未能打开它")
        size = converted.stat().st_size
        if size > limits.max_chars * 4:
            raise LoadError(path, f"{kind}转换后的文字超过上限（{size // 1024} KB），拒绝读取")
        text = converted.read_text(encoding="utf-8-sig", errors="replace")
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\f", "\n").split("\n")]
    text = "\n".join(line for line in lines if line)
    if not text:
        raise LoadError(path, f"{kind}中没有文字")
    if not reads_as_text(text):
        # LibreOffice falls back to importing an unreadable file as plain text: that is garbage.
        raise LoadError(path, f"{kind}已损坏或无法识别：LibreOffice 读出的不是正常文字")
    return text
