"""Faults of the machine under the store, said in the user's words.

Chroma reports a full disk as an English sqlite or Rust error and a stopped `chroma run` server
as httpx's `ConnectError: [Errno 111] Connection refused`; neither names the data directory or
the server, so a user cannot act on it. `translated` turns the faults we recognise into a
`StoreError` that says what happened, where, and that nothing committed was lost (a write that
fails never commits a letter, see `index.storage.writes`); anything else passes through as it is.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from typing import TypeVar

from index.settings import Settings
from index.storage.records import StoreError

T = TypeVar("T")

_DISK_FULL_WORDS = ("database or disk is full", "no space left on device", "disk is full", "sqlite_full")
_UNREACHABLE_WORDS = ("connection refused", "could not connect to a chroma server", "connecterror",
                      "server disconnected", "connection reset", "name or service not known")


def chroma_address(settings: Settings) -> str:
    return f"http://{settings.chroma_host}:{settings.chroma_port}"


def unreachable_message(settings: Settings) -> str:
    return (f"未能连接索引服务 {chroma_address(settings)}（Chroma 服务器未启动或无法访问）。"
            "请确认 chroma run 正在运行；服务恢复后可直接重试，无需重启本程序。")


def disk_full_message(settings: Settings) -> str:
    return (f"磁盘空间不足：索引目录 {settings.data_dir} 所在的磁盘已满，无法写入索引。"
            "本次未写完的内容不会生效，已导入的答复不受影响、仍可提问；请腾出磁盘空间后重试。")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def fault_message(exc: BaseException, settings: Settings) -> str | None:
    """The Chinese message for a fault we recognise anywhere in the exception's chain, else None."""
    import httpx

    for link in _chain(exc):
        text = f"{type(link).__name__}: {link}".lower()
        if (isinstance(link, OSError) and link.errno in (errno.ENOSPC, errno.EDQUOT)) or any(
            w in text for w in _DISK_FULL_WORDS
        ):
            return disk_full_message(settings)
        if settings.chroma_host and (
            isinstance(link, httpx.ConnectError | httpx.ConnectTimeout | httpx.RemoteProtocolError | httpx.ReadError)
            or any(w in text for w in _UNREACHABLE_WORDS)
        ):
            return unreachable_message(settings)
    return None


@contextlib.contextmanager
def translated(settings: Settings) -> Iterator[None]:
    """Recognised faults leave as a `StoreError` with a message for the user."""
    try:
        yield
    except StoreError as exc:
        message = fault_message(exc, settings) if exc.__cause__ is not None else None
        if message is None:
            raise
        raise StoreError(message) from exc
    except Exception as exc:
        message = fault_message(exc, settings)
        if message is None:
            raise
        raise StoreError(message) from exc


def translated_stream(items: Iterator[T], settings: Settings) -> Iterator[T]:
    """`translated` for a generator: its faults surface while it is iterated, not when it is made."""
    with translated(settings):
        yield from items
