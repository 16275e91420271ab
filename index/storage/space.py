"""Room on the data directory's disk, so that a full disk never takes the index down with it.

An embedded Chroma cannot even be opened for reading on a disk with no byte left (its sqlite
wants to write as it opens), so an ingest that filled the disk used to leave every new process
unable to answer until someone freed space. Two guards: an ingest stops before a write that
would leave less than `Settings.disk_free_min_mb` free (it has written nothing half, see
`index.storage.writes`), and a small reserve file kept in the data directory is given up when
Chroma cannot open for want of space — whatever else filled the disk, the index still opens and
answers; the reserve is laid down again by the next ingest that finds room for it.
"""

from __future__ import annotations

import contextlib
import os
import shutil

from index.settings import Settings
from index.storage.faults import disk_full_message
from index.storage.records import StoreError

RESERVE_NAME = "disk-reserve"
RESERVE_BYTES = 8 * 1024 * 1024
BYTES_PER_CHUNK = 48 * 1024
"""What a chunk costs on disk at most, with room to spare (measured: about 25 KB per chunk in
Chroma's sqlite, HNSW files and the letter's record together)."""


def free_bytes(settings: Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(settings.data_dir).free


def check_room(settings: Settings, chunks: int) -> None:
    """Refuse, before anything is written, a write that would leave the disk (nearly) full."""
    need = chunks * BYTES_PER_CHUNK + settings.disk_free_min_mb * 1024 * 1024
    if free_bytes(settings) < need:
        raise StoreError(disk_full_message(settings))


def ensure_reserve(settings: Settings) -> None:
    """Lay the reserve down when there is room for it and more (written, not sparse: a sparse
    file would hold no space at all)."""
    path = settings.data_dir / RESERVE_NAME
    if path.exists() and path.stat().st_size >= RESERVE_BYTES:
        return
    if free_bytes(settings) < 4 * RESERVE_BYTES:
        return
    try:
        with path.open("wb") as handle:
            block = b"\0" * (1024 * 1024)
            for _ in range(RESERVE_BYTES // len(block)):
                handle.write(block)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()


def release_reserve(settings: Settings) -> bool:
    """Give the reserve's space back to the disk; whether there was one."""
    try:
        (settings.data_dir / RESERVE_NAME).unlink()
    except FileNotFoundError:
        return False
    return True
