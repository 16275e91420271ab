"""Where derived caches live and how a bundle of arrays is written and read back safely.

A bundle is a folder of `.npy` files plus a sidecar `<stem>.json` written last, atomically, that
names the folder and carries each file's size and checksum and what the arrays were derived
from. A crash mid-write, two processes racing, or a damaged file all end in `CacheMiss` and a
rebuild, never in wrong answers. Arrays can be memory-mapped, so a large index costs the
process only the pages its questions touch.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from index.settings import Settings

_CHUNK = 1 << 20


class CacheMiss(Exception):
    """The on-disk cache is missing, stale or damaged; the caller rebuilds."""


def default_cache_dir(settings: Settings) -> Path:
    """Local even with a Chroma server, keyed by which server and collection it mirrors."""
    where = f"{settings.chroma_host}-{settings.chroma_port}" if settings.chroma_host else "embedded"
    return settings.data_dir / "bm25" / safe_name(where) / safe_name(settings.collection)


def safe_name(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", value) or "_"


def pack_strings(strings: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 blob + offsets: no pickle, and no fixed width (one long junk token from a web page
    would otherwise widen every entry of a '<U' array)."""
    encoded = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def unpack_strings(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    raw = np.asarray(blob).tobytes()
    bounds = np.asarray(offsets).tolist()
    return [raw[bounds[i] : bounds[i + 1]].decode("utf-8") for i in range(len(bounds) - 1)]


def save_bundle(cache_dir: Path, stem: str, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
    """Write the arrays into a fresh folder, then the sidecar that makes it current. Folders of
    this stem other than the new one and the one it replaces are removed."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    previous = _current_folder(cache_dir, stem)
    folder = f"{stem}.{uuid.uuid4().hex[:12]}"
    tmp = cache_dir / f".{folder}.tmp"
    tmp.mkdir()
    files: dict[str, dict[str, Any]] = {}
    try:
        for name, array in arrays.items():
            path = tmp / f"{name}.npy"
            with path.open("wb") as handle:
                np.save(handle, np.ascontiguousarray(array), allow_pickle=False)
                handle.flush()
                os.fsync(handle.fileno())
            files[name] = {"bytes": path.stat().st_size, "sha256": _file_sha256(path)}
        os.replace(tmp, cache_dir / folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    sidecar = {**meta, "folder": folder, "files": files}
    atomic_write(cache_dir / f"{stem}.json", json.dumps(sidecar, ensure_ascii=False, indent=1).encode())
    for old in cache_dir.glob(f"{stem}.*"):
        if old.is_dir() and old.name not in {folder, previous}:
            shutil.rmtree(old, ignore_errors=True)


def load_bundle(
    cache_dir: Path, stem: str, wanted: Mapping[str, Any], *, mmap: bool = False
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and the sidecar; `CacheMiss` unless every file is intact and the sidecar
    agrees with `wanted`."""
    try:
        sidecar = json.loads((cache_dir / f"{stem}.json").read_text("utf-8"))
        stale = [key for key, value in wanted.items() if sidecar.get(key) != value]
        if stale:
            raise CacheMiss(f"stale ({', '.join(stale)})")
        folder = cache_dir / str(sidecar["folder"])
        arrays: dict[str, np.ndarray] = {}
        for name, info in dict(sidecar["files"]).items():
            path = folder / f"{name}.npy"
            if path.stat().st_size != info["bytes"] or _file_sha256(path) != info["sha256"]:
                raise CacheMiss(f"{path.name}: checksum mismatch")
            array = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
            # A plain ndarray over the same mapped pages: every slice of an np.memmap runs its
            # Python-level __array_finalize__, which was the page's largest CPU item under load
            # (a question slices the word index once per candidate sentence).
            arrays[name] = array.view(np.ndarray) if mmap else array
        return arrays, sidecar
    except CacheMiss:
        raise
    except Exception as exc:
        raise CacheMiss(f"unreadable ({type(exc).__name__}: {exc})") from exc


def bundle_files(cache_dir: Path, stem: str) -> list[Path]:
    """The files of the current bundle (for tests and for reporting disk use)."""
    folder = _current_folder(cache_dir, stem)
    return sorted((cache_dir / folder).glob("*.npy")) if folder else []


def _current_folder(cache_dir: Path, stem: str) -> str | None:
    try:
        return str(json.loads((cache_dir / f"{stem}.json").read_text("utf-8"))["folder"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
