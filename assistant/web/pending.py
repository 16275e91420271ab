"""Uploads whose import may not have finished: what the page says after `replyqa serve` was
killed (SIGKILL, a power cut, the OOM killer) in the middle of an import.

Uploads are saved into `<data dir>/uploads` before they are ingested. The index itself needs
nothing for such a kill (a letter is committed whole or not at all, and leftovers are collected
by the next ingest), but the person who uploaded would never learn which of their files did not
make it: the page that was showing the progress is gone. So while an import runs it keeps a
small journal of its files, `uploads/.pending/<id>.json`, locked with `flock` by the process
doing the import and removed when the import ends, whatever its outcome. A journal found
unlocked belongs to a process that died: its files are offered on the 导入答复 tab to be imported
again (re-importing a file already in the index reports it 未变, so nothing is doubled), and a
later import that includes all of a journal's files settles that journal too.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PENDING_DIR = ".pending"


@dataclass(frozen=True)
class Interrupted:
    """Files of imports that did not finish (their names in the upload folder), and the
    journals that said so."""

    names: list[str] = field(default_factory=list)
    journals: list[Path] = field(default_factory=list)


@contextlib.contextmanager
def importing(upload_dir: Path, names: Iterable[str]) -> Iterator[None]:
    """Keep a locked journal of these uploads for as long as the block runs."""
    folder = upload_dir / PENDING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    key = uuid.uuid4().hex
    tmp, path = folder / f".{key}.tmp", folder / f"{key}.json"
    with tmp.open("w", encoding="utf-8") as handle:
        # Locked before it can be seen under its own name: a reader never takes a journal that
        # is being written for one whose writer died.
        fcntl.flock(handle, fcntl.LOCK_EX)
        json.dump({"files": list(names)}, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
        os.replace(tmp, path)
        try:
            yield
        finally:
            path.unlink(missing_ok=True)


def interrupted(upload_dir: Path) -> Interrupted:
    """The uploads of every import whose process died before it ended (still in the folder)."""
    names: dict[str, None] = {}
    journals = []
    for path in sorted((upload_dir / PENDING_DIR).glob("*.json")):
        try:
            handle = path.open(encoding="utf-8")
        except OSError:  # settled meanwhile
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # an import running now, in this process or another
                continue
            if os.fstat(handle.fileno()).st_nlink == 0:  # it ended (and removed its journal) as we opened it
                continue
            try:
                files = [str(n) for n in json.load(handle)["files"]]
            except (ValueError, KeyError, TypeError):
                files = []
        journals.append(path)
        names.update((n, None) for n in files if (upload_dir / n).is_file())
    return Interrupted(list(names), journals)


def settle(upload_dir: Path, imported: Iterable[str], *, found: Interrupted | None = None) -> None:
    """Drop the journals of dead imports whose files have all been imported again since."""
    done = set(imported)
    found = found or interrupted(upload_dir)
    for path in found.journals:
        try:
            files = json.loads(path.read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError):
            files = []
        if {n for n in files if (upload_dir / str(n)).is_file()} <= done:  # a deleted upload is no one's to import
            path.unlink(missing_ok=True)
