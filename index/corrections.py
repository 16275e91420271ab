"""Staff corrections of a letter's parsed fields, applied wherever the letter is (re)written.

A correction (`index.storage.corrections`) names the letter's source file and the values staff
gave. The pipeline applies it to the freshly parsed letter before chunking, so a re-ingest —
the file changed, the parser improved, `--rebuild` — keeps it, and the letter's content version
carries it: the same file with the same correction is "unchanged", a new correction is a new
version. Saving or withdrawing a correction rewrites the letter at once (`rewrite_letter`),
through the pipeline's own write path, so the chunks' filter fields (issuer, year), the
citations and the letter list all follow in one commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from index.embedding.embedder import Embedder
from index.pipeline import FileResult, content_version, ingest_lock, write_letter
from index.reading.dates import parse_date
from index.reading.letter import ReplyLetter, parse_loaded
from index.reading.load import LoadError, ReadLimits, load_bytes, read_limited
from index.settings import Settings
from index.storage.corrections import (
    CORRECTABLE,
    applies,
    corrected,
    corrected_version,
    delete_correction,
    get_correction,
    put_correction,
)
from index.storage.records import LetterRecord, StoreError
from index.storage.store import ChunkStore

FIELD_ZH = {"title": "标题", "issuer": "答复单位", "date": "日期"}


def check_values(values: Mapping[str, str | None]) -> dict[str, str]:
    """The values as they will be stored (a date in any form a letter writes it becomes ISO);
    a clear Chinese error for anything that cannot be a field's value."""
    out: dict[str, str] = {}
    for key, raw in values.items():
        if key not in CORRECTABLE:
            raise StoreError(f"不能更正字段 “{key}”，只能更正：{'、'.join(FIELD_ZH.values())}。")
        value = " ".join((raw or "").split())
        if not value:
            continue
        if key == "date":
            iso = parse_date(value)
            if iso is None:
                raise StoreError(f"日期 “{value}” 无法识别，请写成 2023-06-18 或 2023年6月18日。")
            value = iso
        if len(value) > 200:
            raise StoreError(f"{FIELD_ZH[key]}太长（{len(value)} 个字），不超过 200 个字。")
        out[key] = value
    return out


def _parsed(record: LetterRecord, settings: Settings, store: ChunkStore) -> tuple[ReplyLetter, str]:
    """The letter as the parser reads its source now, and the file's content version; when the
    source cannot be read, the stored letter with the fields the parser had given it (an older
    correction taken back out) and its stored version."""
    path = Path(record.source)
    try:
        limits = ReadLimits.from_settings(settings)
        data = read_limited(path, limits)
        loaded = load_bytes(data, path, limits)
        letter = parse_loaded(loaded, source=record.source, letter_id=record.id)
        return letter, content_version(data, settings)
    except (OSError, LoadError):
        stored = ReplyLetter.model_validate({**json.loads(record.payload), "text": record.text or ""})
        old = get_correction(store, record.id)
        if applies(old, stored.source):
            assert old is not None
            stored = stored.model_copy(update={k: v for k, v in old.original.items() if k in old.values})
        # A version of its own: without the file there is no content version to come back to.
        return stored, hashlib.sha256(f"{record.version}|stored".encode()).hexdigest()[:16]


def rewrite_letter(
    letter_id: str, values: Mapping[str, str | None] | None, settings: Settings, store: ChunkStore, embedder: Embedder
) -> FileResult:
    """Save (`values`) or withdraw (None) the letter's correction and rewrite the letter with it."""
    clean = check_values(values) if values is not None else {}
    with ingest_lock(settings):
        record = store.letter(letter_id)
        if record is None:
            return FileResult(letter_id, "failed", letter_id, reason="索引中没有这封答复")
        parsed, base = _parsed(record, settings, store)
        if clean:
            correction = put_correction(
                store, letter_id, record.source, clean, {k: getattr(parsed, k) for k in clean},
            )
        else:
            delete_correction(store, letter_id)
            correction = None
        letter = corrected(parsed, correction)
        version = corrected_version(base, correction, record.source)
        if version == record.version:
            return FileResult(record.source, "unchanged", letter_id, record.n_chunks)
        chunks = write_letter(Path(record.source), letter, version, settings, store, embedder)
        return FileResult(record.source, "updated", letter_id, chunks)
