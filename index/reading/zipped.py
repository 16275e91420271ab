"""Zip containers (.docx, .ofd) opened within bounds: sizes are checked from the directory before
a byte is unpacked, so a 376 KB file that unpacks to 200 MB is refused at once.

Python's zipfile stops each member at its declared size (and fails its CRC if the data goes on),
so the declared sizes are a real bound, not a promise.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from index.reading.loaded import LoadError, ReadLimits, megabytes

_MAX_MEMBERS = 20_000


def open_bounded_zip(data: bytes, path: Path | str, limits: ReadLimits, label: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise LoadError(path, f"{label}已损坏，无法打开（{type(exc).__name__}）") from None
    if len(members) > _MAX_MEMBERS:
        raise LoadError(path, f"{label}内含 {len(members)} 个部件，超过上限 {_MAX_MEMBERS}，拒绝读取")
    unpacked = sum(m.file_size for m in members)
    if unpacked > limits.max_unpacked_bytes:
        raise LoadError(
            path,
            f"{label}解压后有 {megabytes(unpacked)}，超过上限 {megabytes(limits.max_unpacked_bytes)}"
            "（可能是压缩炸弹），拒绝读取",
        )
    return archive


def read_member(archive: zipfile.ZipFile, name: str, path: Path | str, label: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError:
        raise LoadError(path, f"{label}已损坏：缺少部件 {name}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as exc:
        raise LoadError(path, f"{label}已损坏：部件 {name} 无法解压（{type(exc).__name__}）") from None
