"""The BM25 index's on-disk cache, and bringing an index up to what the store shows now.

The cache holds the index compacted into one segment and the letter versions it covers. Loading
it and comparing those versions with the store's committed ones says exactly which letters to
drop and which to tokenise, so a process started after an ingest of a few letters tokenises a
few letters, not the archive. Keyed by the tokenizer's signature and the BM25 parameters, never
by what is in the store: any cache is a valid starting point.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from index.storage.bm25 import K1, B, BM25Index, Segment, letter_ranges
from index.storage.cachefiles import CacheMiss, load_bundle, pack_strings, save_bundle, unpack_strings
from index.storage.records import LetterRecord, StoredChunk
from index.storage.store import ChunkStore
from index.tokenizer import ChineseTokenizer

log = logging.getLogger(__name__)

CACHE_FORMAT = 2
SAVE_AFTER_LETTERS = 64
"""Letters tokenised since the cache was written before `load_or_build` writes it again (fewer
are cheaper to redo at the next start than a rewrite of the whole cache)."""


def cache_stem(bigrams: bool) -> str:
    return "bm25-bigrams" if bigrams else "bm25-words"


def save(index: BM25Index, cache_dir: Path, stem: str) -> None:
    seg = index.compacted()
    ids_blob, ids_offsets = pack_strings(seg.ids)
    terms_blob, terms_offsets = pack_strings(seg.terms)
    letters = sorted(index.versions)
    letters_blob, letters_offsets = pack_strings(letters)
    versions_blob, versions_offsets = pack_strings(index.versions[i] for i in letters)
    arrays = {
        "indptr": seg.indptr, "rows": seg.rows, "tf": seg.tf, "dl": seg.dl,
        "ids_blob": ids_blob, "ids_offsets": ids_offsets, "terms_blob": terms_blob, "terms_offsets": terms_offsets,
        "letters_blob": letters_blob, "letters_offsets": letters_offsets,
        "versions_blob": versions_blob, "versions_offsets": versions_offsets,
    }
    meta = {"format": CACHE_FORMAT, **_key(index.tokenizer, index.k1, index.b), "fingerprint": index.fingerprint,
            "n_docs": len(seg.ids), "n_terms": len(seg.terms)}
    save_bundle(cache_dir, stem, arrays, meta)
    index.saved_at = index.tokenized_letters


def load(cache_dir: Path, stem: str, tokenizer: ChineseTokenizer, *, k1: float = K1, b: float = B) -> BM25Index:
    """Raises `CacheMiss` unless the cache is intact and made with this tokenizer and parameters."""
    arrays, sidecar = load_bundle(cache_dir, stem, {"format": CACHE_FORMAT, **_key(tokenizer, k1, b)}, mmap=True)
    try:
        ids = unpack_strings(arrays["ids_blob"], arrays["ids_offsets"])
        terms = unpack_strings(arrays["terms_blob"], arrays["terms_offsets"])
        letters = unpack_strings(arrays["letters_blob"], arrays["letters_offsets"])
        versions = unpack_strings(arrays["versions_blob"], arrays["versions_offsets"])
        indptr, rows, tf, dl = arrays["indptr"], arrays["rows"], arrays["tf"], arrays["dl"]
        if len(indptr) != len(terms) + 1 or len(dl) != len(ids) or len(rows) != len(tf) or int(indptr[-1]) != len(rows):
            raise CacheMiss("inconsistent shapes")
        # Memory-mapped: a question reads the postings of its own terms only.
        segment = Segment(ids=ids, terms=terms, indptr=np.asarray(indptr), rows=rows, tf=tf, dl=np.asarray(dl),
                          letter_rows=letter_ranges(ids))
    except CacheMiss:
        raise
    except Exception as exc:
        raise CacheMiss(f"unreadable ({type(exc).__name__}: {exc})") from exc
    return BM25Index([segment], tokenizer, versions=dict(zip(letters, versions, strict=True)),
                     fingerprint=str(sidecar.get("fingerprint", "")), k1=k1, b=b, loaded_from_cache=True)


def _key(tokenizer: ChineseTokenizer, k1: float, b: float) -> dict[str, object]:
    return {"tokenizer": tokenizer.signature, "k1": k1, "b": b}


def chunks_of(store: ChunkStore, records: Sequence[LetterRecord]) -> list[StoredChunk]:
    """The committed chunks of these letters, read by id (their ids follow from the records)."""
    ids = [chunk_id for record in records for chunk_id in record.chunk_ids()]
    found: list[StoredChunk] = []
    step = max(1, store.max_batch_size)
    for lo in range(0, len(ids), step):
        found.extend(store.chunks_by_id(ids[lo : lo + step]).values())
    return found


def update(
    index: BM25Index, store: ChunkStore, records: Mapping[str, LetterRecord] | None = None
) -> BM25Index:
    """`index` brought up to the store's committed catalog (or `records`, a copy of it taken
    earlier): dropped letters' rows dead, new and changed letters tokenised, everything else
    untouched."""
    records = store.records() if records is None else records
    fingerprint = store.fingerprint()
    removed = [i for i, v in index.versions.items() if i not in records or records[i].version != v]
    added = [r for i, r in records.items() if index.versions.get(i) != r.version]
    if not removed and not added:
        index.fingerprint = fingerprint
        return index
    chunks = chunks_of(store, added)
    titles = {r.id: r.title for r in added}
    return index.apply(chunks, removed=removed, titles=titles, fingerprint=fingerprint)


def load_or_build(
    store: ChunkStore,
    cache_dir: Path,
    *,
    bigrams: bool,
    tokenizer: ChineseTokenizer | None = None,
    records: Mapping[str, LetterRecord] | None = None,
) -> BM25Index:
    """The BM25 index of what the store shows now: the cache (if any) with the letters changed
    since applied, written back when that took long enough to be worth it.

    Uses the store's catalog: call `store.poll()` or `store.refresh()` first when another
    process may have written. A cache dir that cannot be written only costs time next time.
    """
    if tokenizer is None:
        tokenizer = ChineseTokenizer(bigrams=bigrams, cache_dir=cache_dir)
    elif tokenizer.bigrams != bigrams:
        raise ValueError("tokenizer.bigrams does not match bigrams")
    stem = cache_stem(bigrams)
    started = time.perf_counter()
    try:
        base = load(cache_dir, stem, tokenizer)
    except CacheMiss as miss:
        log.info("BM25 cache %s/%s: %s; building", cache_dir, stem, miss)
        base = BM25Index([], tokenizer)
    index = update(base, store, records)
    if index.tokenized_letters - index.saved_at >= SAVE_AFTER_LETTERS or not base.loaded_from_cache:
        save_quietly(index, cache_dir, stem)
    log.info("BM25 index: %d chunks, %d letters tokenised, %.2f s", len(index), index.tokenized_letters,
             time.perf_counter() - started)
    return index


def save_quietly(index: BM25Index, cache_dir: Path, stem: str) -> bool:
    try:
        save(index, cache_dir, stem)
        return True
    except OSError as exc:
        log.warning("BM25 cache not written to %s: %s", cache_dir, exc)
        return False
