"""The committed catalog as this machine last saw it, kept beside the keyword caches, so that
opening a large index does not read every record from Chroma (3.1 s at 25 k letters / 100 k
chunks, against 0.4 s for this file).

Only a starting point: the store then asks Chroma what was committed since the newest record
in it and how many records there are (`StoreConnection.poll`), and reads everything again when
those disagree. A file that is damaged (checksum), of another format, or of another collection
or model is not used. Derived and safe to delete.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from index.storage.cachefiles import atomic_write

log = logging.getLogger(__name__)

FORMAT = 1
FILE = "catalog.json"


def load(cache_dir: Path, key: Mapping[str, Any]) -> dict[str, dict[str, Any]] | None:
    """Letter id → record metadata as saved, or None when there is no usable file."""
    try:
        raw = (Path(cache_dir) / FILE).read_bytes()
        head, _, body = raw.partition(b"\n")
        header = json.loads(head)
        if (not isinstance(header, dict) or header.get("format") != FORMAT or header.get("key") != dict(key)
                or header.get("sha256") != hashlib.sha256(body).hexdigest()):
            return None
        metas = json.loads(body)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return metas if isinstance(metas, dict) else None


def save(cache_dir: Path, key: Mapping[str, Any], metas: Mapping[str, Mapping[str, Any]]) -> None:
    """Written whole or not at all; a failure (a full disk, a read-only folder) only costs the
    next opening a full read."""
    body = json.dumps(metas, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    header = json.dumps({"format": FORMAT, "key": dict(key), "sha256": hashlib.sha256(body).hexdigest()})
    try:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        atomic_write(Path(cache_dir) / FILE, header.encode("utf-8") + b"\n" + body)
    except OSError as exc:
        log.warning("the catalog cache was not saved: %s", exc)
