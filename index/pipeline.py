"""Letters on disk → the index, without ever losing, duplicating or half-writing a letter.

Each file gets a content version (a hash of its bytes and of how we parse and chunk); a letter
whose version is already committed is skipped, a changed one gets new chunks under its new
version, and only then is its record committed and the old chunks dropped (see
`index.storage.store`). Leftovers of a run that was killed are collected at the start of the next
one. A file whose cleaned text is that of a letter already indexed (from another file that still
exists) or read earlier in the same run is reported as a duplicate and not indexed; nothing
remembers it, so once the first file's letter is removed, the next ingest of the second file
indexes it; a letter whose file is gone is replaced by the file now holding its text
(`index.duplicates` says which letter is the original of a text). Chunks of many letters are
embedded and written together: a window of several hundred chunks is sorted by length before it
is cut into model batches (short with short pads little) and written with one batch of Chroma
calls, which keeps ingest close to the model's own speed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.batch import Prepared, Status, write_batch
from index.chunk import chunk_letter
from index.duplicates import Letter, Originals, legacy_hashes, text_hash
from index.embedding.embedder import Embedder
from index.reading.letter import ReplyLetter, parse_loaded
from index.reading.load import SUPPORTED_SUFFIXES, LoadError, ReadLimits, load_bytes, read_limited
from index.settings import Settings
from index.storage.corrections import Correction, corrected, corrected_version, load_corrections
from index.storage.records import LetterRecord, StoreError
from index.storage.space import check_room, ensure_reserve
from index.storage.store import ChunkStore

PIPELINE_VERSION = "5"
"""Bump when parsing or chunking changes what a letter turns into: every letter is redone."""

STATUS_ZH: dict[Status, str] = {
    "added": "新增", "updated": "更新", "unchanged": "未变", "duplicate": "重复", "failed": "失败", "removed": "移除",
}


@dataclass
class FileResult:
    path: str
    status: Status
    letter_id: str | None = None
    chunks: int = 0
    reason: str = ""


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0
    embedded_chunks: int = 0

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failures(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary_zh(self) -> str:
        parts = [f"{STATUS_ZH[s]} {self.count(s)}" for s in ("added", "updated", "unchanged", "failed")]
        for optional in ("duplicate", "removed"):
            if self.count(optional):
                parts.append(f"{STATUS_ZH[optional]} {self.count(optional)}")
        done = self.count("added") + self.count("updated")
        rate = ""
        if self.seconds > 0 and done:
            rate = f"，{done / self.seconds:.1f} 封/秒，{self.embedded_chunks / self.seconds:.1f} 块/秒"
        return "，".join(parts) + f"（用时 {self.seconds:.1f} 秒{rate}）"


Progress = Callable[[int, int], None]
"""Called with (files handled, chunks embedded so far) as files are skipped, fail or get committed."""
Reading = Callable[[Path, int], None]
"""Called as each file has been read, with the number of chunks it will be embedded as (0 when
it is unchanged or failed): a progress display knows the work ahead before it is done."""


def discover(paths: Sequence[Path]) -> list[Path]:
    """Files named on the command line as they are; folders searched for letters, recursively:
    every suffix some loader reads (old Word, WPS, OFD, scans and photos included), so that a file
    which cannot be read is reported as failed with its reason rather than passed over unseen —
    a FIFO, a device or a dangling link with a letter's name too."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*"))
                if not p.is_dir() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
            )
        else:
            found.append(path)
    seen: set[Path] = set()
    unique = []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def content_version(data: bytes, settings: Settings) -> str:
    recipe = (
        f"{PIPELINE_VERSION}|{settings.chunk_max_chars}|{settings.chunk_overlap_chars}|{settings.embed_simplified}|"
    ).encode()
    return hashlib.sha256(recipe + data).hexdigest()[:16]


@contextlib.contextmanager
def ingest_lock(settings: Settings) -> Iterator[None]:
    """One ingest at a time per data directory: a second one would collect the first one's
    uncommitted chunks as garbage."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with (settings.data_dir / "ingest.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError("另一个导入任务正在进行，请等它结束后再试。") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _IdAllocator:
    """Letter ids are file stems; the same path keeps its id, another file with a taken stem
    gets `stem-2`, `stem-3`, …"""

    def __init__(self, records: Sequence[LetterRecord]) -> None:
        self.by_source = {r.source: r for r in records}
        self.taken = {r.id for r in records}

    def id_for(self, path: Path) -> tuple[str, LetterRecord | None]:
        existing = self.by_source.get(str(path.resolve()))
        if existing is not None:
            return existing.id, existing
        stem, n = path.stem, 2
        candidate = stem
        while candidate in self.taken:
            candidate = f"{stem}-{n}"
            n += 1
        self.taken.add(candidate)
        return candidate, None


def ingest(
    paths: Sequence[Path],
    settings: Settings,
    store: ChunkStore,
    embedder: Embedder,
    *,
    prune: bool = False,
    rebuild: bool = False,
    progress: Progress | None = None,
    on_read: Reading | None = None,
) -> IngestReport:
    start = time.perf_counter()
    report = IngestReport()
    with ingest_lock(settings):
        ensure_reserve(settings)
        if rebuild:
            store.reset()
        store.collect_garbage()
        records = list(store.records().values())
        ids = _IdAllocator(records)
        originals = Originals(records, legacy_hashes(store, records))
        corrections = load_corrections(store)
        pending: list[Prepared] = []
        replaced: list[FileResult] = []  # reported after the files, like a prune

        def tell() -> None:
            if progress:
                progress(len(report.results), report.embedded_chunks)

        embedded_in_flight = 0

        def on_batch(n: int) -> None:
            nonlocal embedded_in_flight
            embedded_in_flight += n
            if progress:
                progress(len(report.results), report.embedded_chunks + embedded_in_flight)

        def flush() -> None:
            nonlocal embedded_in_flight
            if pending:
                check_room(settings, sum(len(item.chunks) for item in pending))
                write_batch(pending, store, embedder, on_batch)
                embedded_in_flight = 0
                for item in pending:
                    report.results.append(
                        FileResult(str(item.path), item.status, item.letter.id, len(item.chunks))
                    )
                    replaced.extend(_replace(item.replaces, item.letter.id, item.path, store))
                report.embedded_chunks += sum(len(item.chunks) for item in pending)
                pending.clear()
                tell()

        for path in discover(paths):
            item = _prepare(path, settings, ids, corrections)
            if isinstance(item, Prepared):
                item = _check_read(item, originals, store)
            elif item.status == "unchanged":
                item = _check_unchanged(item, path, originals, store, replaced)
            if on_read:
                on_read(path, 0 if isinstance(item, FileResult) else len(item.chunks))
            if isinstance(item, FileResult):
                report.results.append(item)
                tell()
                continue
            pending.append(item)
            if sum(len(p.chunks) for p in pending) >= settings.ingest_window_chunks:
                flush()
        flush()
        report.results.extend(replaced)
        if prune:
            report.results.extend(prune_missing(store))
    report.seconds = time.perf_counter() - start
    return report


def _check_read(item: Prepared, originals: Originals, store: ChunkStore) -> Prepared | FileResult:
    """A file read anew: indexed, or a duplicate of the original of its text."""
    digest = text_hash(item.letter.body)
    first = originals.original(digest, item.letter.id)
    if first is None:
        item.replaces = originals.claim(digest, item.letter.id, str(item.path.resolve()))
        return item
    reason = _duplicate_reason(first, item.path)
    if item.status == "updated":  # this file held another letter before: that one is gone from it
        store.remove_letter(item.letter.id)
        reason += f"；此前由该文件导入的答复 {item.letter.id} 已移除"
    return FileResult(str(item.path), "duplicate", first[0], reason=reason)


def _check_unchanged(
    result: FileResult, path: Path, originals: Originals, store: ChunkStore, replaced: list[FileResult]
) -> FileResult:
    """A file whose letter is committed as it is: still a duplicate if another letter is the
    original of its text (two indexed before duplicates were checked, or the original's file
    moved back), and the original of letters with its text whose files are gone."""
    assert result.letter_id is not None
    digest = originals.hash_of(result.letter_id)
    if digest is None:
        return result
    first = originals.original(digest, result.letter_id)
    if first is not None:
        store.remove_letter(result.letter_id)
        reason = f"{_duplicate_reason(first, path)}；此前由该文件导入的答复 {result.letter_id} 已移除"
        return FileResult(str(path), "duplicate", first[0], reason=reason)
    replaced.extend(_replace(originals.claim(digest, result.letter_id, str(path.resolve())), result.letter_id,
                             path, store))
    return result


def _duplicate_reason(first: Letter, path: Path) -> str:
    return f"与 {first[1]} 内容相同（已作为答复 {first[0]} 导入），{path} 未重复导入"


def _replace(orphans: list[Letter], letter_id: str, path: Path, store: ChunkStore) -> list[FileResult]:
    """Remove the letters whose files are gone and whose text `letter_id` (committed) now holds."""
    out = []
    for orphan_id, source in orphans:
        if store.remove_letter(orphan_id):
            out.append(FileResult(source, "removed", orphan_id,
                                  reason=f"源文件已不存在；内容与 {path} 相同，已由答复 {letter_id} 取代"))
    return out


def _prepare(
    path: Path, settings: Settings, ids: _IdAllocator, corrections: dict[str, Correction]
) -> Prepared | FileResult:
    limits = ReadLimits.from_settings(settings)
    try:
        data = read_limited(path, limits)
    except LoadError as exc:
        return FileResult(str(path), "failed", reason=exc.reason)
    letter_id, existing = ids.id_for(path)
    version = corrected_version(content_version(data, settings), corrections.get(letter_id), str(path.resolve()))
    if existing is not None and existing.version == version:
        return FileResult(str(path), "unchanged", letter_id, existing.n_chunks)
    try:
        loaded = load_bytes(data, path, limits)
        letter = corrected(parse_loaded(loaded, source=str(path.resolve()), letter_id=letter_id),
                           corrections.get(letter_id))
    except LoadError as exc:
        return FileResult(str(path), "failed", letter_id, reason=exc.reason)
    except Exception as exc:  # one broken letter never stops the batch
        return FileResult(str(path), "failed", letter_id, reason=f"解析失败（{type(exc).__name__}: {exc}）")
    chunks = chunk_letter(
        letter, version, max_chars=settings.chunk_max_chars, overlap=settings.chunk_overlap_chars
    )
    if not chunks:
        return FileResult(str(path), "failed", letter_id, reason="清理网页内容后没有找到答复正文")
    return Prepared(path, letter, version, chunks, "added" if existing is None else "updated")


def write_letter(
    path: Path, letter: ReplyLetter, version: str, settings: Settings, store: ChunkStore, embedder: Embedder
) -> int:
    """Chunk, embed and commit one letter already read (a staff correction applied to it), as
    `ingest` writes every letter; the caller holds `ingest_lock`. Returns its chunk count."""
    chunks = chunk_letter(letter, version, max_chars=settings.chunk_max_chars, overlap=settings.chunk_overlap_chars)
    write_batch([Prepared(path, letter, version, chunks, "updated")], store, embedder)
    return len(chunks)


def remove(letter_ids: Sequence[str], settings: Settings, store: ChunkStore) -> list[FileResult]:
    results = []
    with ingest_lock(settings):
        for letter_id in letter_ids:
            record = store.records().get(letter_id)
            if store.remove_letter(letter_id):
                results.append(FileResult(record.source if record else letter_id, "removed", letter_id))
            else:
                results.append(FileResult(letter_id, "failed", letter_id, reason="索引中没有这封答复"))
    return results


def prune_missing(store: ChunkStore) -> list[FileResult]:
    """Remove letters whose source file is gone."""
    results = []
    for record in list(store.records().values()):
        if not Path(record.source).exists():
            store.remove_letter(record.id)
            results.append(FileResult(record.source, "removed", record.id, record.n_chunks))
    return results
