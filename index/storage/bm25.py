"""Chinese BM25 over the committed chunks, derived from Chroma and cached on local disk.

Chroma's own keyword search cannot rank Chinese (whitespace tokenizer, English stemmer), so the
lexical half of retrieval lives here. The index is a pure function of the committed chunks and
the tokenizer: its cache is keyed by the store's fingerprint and the tokenizer's signature and
can always be thrown away and rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

from index.settings import Settings
from index.storage.records import StoredChunk
from index.storage.store import ChunkStore
from index.tokenizer import ChineseTokenizer

log = logging.getLogger(__name__)

CACHE_FORMAT = 1

K1 = 1.5
B = 0.75
"""Okapi defaults. Chunks are already cut to a similar size along sections, so length
normalisation matters little and there is nothing to tune against yet."""

class BM25Index:
    """Okapi BM25 over chunks, scored with one sparse column slice per query.

    Each chunk is indexed as its text plus its letter's title and its section heading, each
    counted once as if prepended, the same context `embed_text` gives the dense side:
    questions usually name the letter's topic, which the chunk's own words often do not.
    """

    def __init__(
        self,
        *,
        ids: list[str],
        terms: list[str],
        tf: sparse.csr_matrix,
        tokenizer: ChineseTokenizer,
        fingerprint: str = "",
        k1: float = K1,
        b: float = B,
        loaded_from_cache: bool = False,
    ) -> None:
        if tf.shape != (len(ids), len(terms)):
            raise ValueError(f"tf matrix shape {tf.shape} != ({len(ids)}, {len(terms)})")
        self.ids = ids
        self.terms = terms
        self.tf = tf
        self.tokenizer = tokenizer
        self.fingerprint = fingerprint
        self.k1 = k1
        self.b = b
        self.loaded_from_cache = loaded_from_cache
        self._rows = {chunk_id: i for i, chunk_id in enumerate(ids)}
        self._columns = {term: j for j, term in enumerate(terms)}
        self._weights = _bm25_weights(tf, k1, b)
        self._df: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def idf(self, term: str) -> float:
        """How rare a term is among the chunks (0 for unseen terms), for weighting a
        question's words when checking that evidence covers them."""
        if self._df is None:
            self._df = np.diff(self.tf.tocsc().indptr)
        j = self._columns.get(term)
        n = len(self.ids)
        if j is None or n == 0:
            return 0.0
        df = float(self._df[j])
        return float(np.log1p((n - df + 0.5) / (df + 0.5)))

    @classmethod
    def build(
        cls,
        chunks: Sequence[StoredChunk],
        tokenizer: ChineseTokenizer,
        *,
        titles: Mapping[str, str] | None = None,
        fingerprint: str = "",
        k1: float = K1,
        b: float = B,
    ) -> BM25Index:
        titles = titles or {}
        title_counts: dict[str, Counter[str]] = {}
        columns: dict[str, int] = {}
        indptr = [0]
        indices: list[int] = []
        data: list[int] = []
        for chunk in chunks:
            counts = Counter(tokenizer(chunk.text))
            if chunk.section_heading:
                counts.update(tokenizer(chunk.section_heading))
            if chunk.letter_id not in title_counts:
                title_counts[chunk.letter_id] = Counter(tokenizer(titles.get(chunk.letter_id, "")))
            counts.update(title_counts[chunk.letter_id])
            for term, n in counts.items():
                indices.append(columns.setdefault(term, len(columns)))
                data.append(n)
            indptr.append(len(indices))
        tf = sparse.csr_matrix(
            (
                np.asarray(data, dtype=np.float32),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(chunks), len(columns)),
        )
        return cls(
            ids=[chunk.id for chunk in chunks],
            terms=list(columns),
            tf=tf,
            tokenizer=tokenizer,
            fingerprint=fingerprint,
            k1=k1,
            b=b,
        )

    def search(
        self, query: str, k: int, allowed_ids: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top-k (chunk id, score), best first; chunks sharing no term with the query are
        left out rather than padded in with a zero score."""
        if k <= 0 or not self.ids:
            return []
        columns = sorted({self._columns[t] for t in self.tokenizer(query) if t in self._columns})
        if not columns:
            return []
        scores = np.asarray(self._weights[:, columns].sum(axis=1)).ravel()
        if allowed_ids is not None:
            keep = np.zeros(len(self.ids), dtype=bool)
            rows = (self._rows[i] for i in allowed_ids if i in self._rows)
            keep[np.fromiter(rows, dtype=np.int64)] = True
            scores[~keep] = 0.0
        hits = np.flatnonzero(scores > 0)
        if hits.size > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.lexsort((hits, -scores[hits]))]
        return [(self.ids[i], float(scores[i])) for i in hits]

    # -- cache ---------------------------------------------------------------------------

    def save(self, cache_dir: Path, stem: str) -> None:
        """Write `<stem>.npz` then its `<stem>.json` sidecar, each atomically.

        The sidecar carries the npz's checksum and is written last, so a crash between the two
        writes (or two processes racing) leaves a pair that fails the check and is rebuilt.
        """
        cache_dir.mkdir(parents=True, exist_ok=True)
        ids_blob, ids_offsets = _pack_strings(self.ids)
        terms_blob, terms_offsets = _pack_strings(self.terms)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            indptr=self.tf.indptr.astype(np.int64),
            indices=self.tf.indices.astype(np.int32),
            data=self.tf.data.astype(np.float32),
            ids_blob=ids_blob,
            ids_offsets=ids_offsets,
            terms_blob=terms_blob,
            terms_offsets=terms_offsets,
        )
        payload = buffer.getvalue()
        sidecar = {
            "format": CACHE_FORMAT,
            "fingerprint": self.fingerprint,
            "tokenizer": self.tokenizer.signature,
            "k1": self.k1,
            "b": self.b,
            "n_docs": len(self.ids),
            "n_terms": len(self.terms),
            "sha256": hashlib.sha256(payload).hexdigest(),
        }
        _atomic_write(cache_dir / f"{stem}.npz", payload)
        _atomic_write(cache_dir / f"{stem}.json", json.dumps(sidecar, indent=1).encode())

    @classmethod
    def load(
        cls,
        cache_dir: Path,
        stem: str,
        tokenizer: ChineseTokenizer,
        *,
        fingerprint: str,
        k1: float = K1,
        b: float = B,
    ) -> BM25Index:
        """Raises `CacheMiss` unless the cache is intact and matches all of the arguments."""
        try:
            sidecar = json.loads((cache_dir / f"{stem}.json").read_text("utf-8"))
            wanted = {
                "format": CACHE_FORMAT,
                "fingerprint": fingerprint,
                "tokenizer": tokenizer.signature,
                "k1": k1,
                "b": b,
            }
            stale = [key for key, value in wanted.items() if sidecar.get(key) != value]
            if stale:
                raise CacheMiss(f"stale ({', '.join(stale)})")
            payload = (cache_dir / f"{stem}.npz").read_bytes()
            if hashlib.sha256(payload).hexdigest() != sidecar.get("sha256"):
                raise CacheMiss("checksum mismatch")
            with np.load(io.BytesIO(payload), allow_pickle=False) as arrays:
                ids = _unpack_strings(arrays["ids_blob"], arrays["ids_offsets"])
                terms = _unpack_strings(arrays["terms_blob"], arrays["terms_offsets"])
                tf = sparse.csr_matrix(
                    (arrays["data"], arrays["indices"], arrays["indptr"]),
                    shape=(len(ids), len(terms)),
                )
            tf.check_format(full_check=True)
            return cls(
                ids=ids,
                terms=terms,
                tf=tf,
                tokenizer=tokenizer,
                fingerprint=fingerprint,
                k1=k1,
                b=b,
                loaded_from_cache=True,
            )
        except CacheMiss:
            raise
        except Exception as exc:
            raise CacheMiss(f"unreadable ({type(exc).__name__}: {exc})") from exc


class CacheMiss(Exception):
    """The on-disk BM25 cache is missing, stale or damaged; the caller rebuilds."""


def cache_stem(bigrams: bool) -> str:
    return "bm25-bigrams" if bigrams else "bm25-words"


def default_cache_dir(settings: Settings) -> Path:
    """Local even with a Chroma server, keyed by which server and collection it mirrors."""
    where = f"{settings.chroma_host}-{settings.chroma_port}" if settings.chroma_host else "embedded"
    return settings.data_dir / "bm25" / _safe_name(where) / _safe_name(settings.collection)


def load_or_build(
    store: ChunkStore,
    cache_dir: Path,
    *,
    bigrams: bool,
    tokenizer: ChineseTokenizer | None = None,
) -> BM25Index:
    """The BM25 index of what the store shows now, from cache when it is still valid.

    Uses the store's cached committed set: call `store.refresh()` first when another process
    may have written. A cache dir that cannot be written only costs a rebuild next time.
    """
    if tokenizer is None:
        tokenizer = ChineseTokenizer(bigrams=bigrams, cache_dir=cache_dir)
    elif tokenizer.bigrams != bigrams:
        raise ValueError("tokenizer.bigrams does not match bigrams")
    stem = cache_stem(bigrams)
    fingerprint = store.fingerprint()
    try:
        return BM25Index.load(cache_dir, stem, tokenizer, fingerprint=fingerprint)
    except CacheMiss as miss:
        log.info("BM25 cache %s/%s: %s; rebuilding", cache_dir, stem, miss)
    started = time.perf_counter()
    chunks = store.committed_chunks()
    titles = {record.id: record.title for record in store.letters()}
    index = BM25Index.build(chunks, tokenizer, titles=titles, fingerprint=fingerprint)
    log.info(
        "BM25 index built: %d chunks, %d terms, %.2f s",
        len(index),
        len(index.terms),
        time.perf_counter() - started,
    )
    try:
        index.save(cache_dir, stem)
    except OSError as exc:
        log.warning("BM25 cache not written to %s: %s", cache_dir, exc)
    return index


def _bm25_weights(tf: sparse.csr_matrix, k1: float, b: float) -> sparse.csc_matrix:
    """Per (chunk, term) BM25 contribution, so a query is a column slice and a row sum."""
    n_docs, n_terms = tf.shape
    if n_docs == 0:
        return sparse.csc_matrix((n_docs, n_terms), dtype=np.float32)
    doc_len = np.asarray(tf.sum(axis=1)).ravel()
    avgdl = max(float(doc_len.mean()), 1e-9)
    df = np.bincount(tf.indices, minlength=n_terms)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
    norm = k1 * (1.0 - b + b * doc_len / avgdl)
    rows = np.repeat(np.arange(n_docs), np.diff(tf.indptr))
    values = tf.data * (k1 + 1.0) / (tf.data + norm[rows]) * idf[tf.indices]
    weights = sparse.csr_matrix((values.astype(np.float32), tf.indices, tf.indptr), shape=tf.shape)
    return weights.tocsc()


def _pack_strings(strings: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 blob + offsets: npz without pickle, and without the fixed width of a '<U' array
    (one long junk token from a web page would otherwise widen every entry)."""
    encoded = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def _unpack_strings(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    raw = blob.tobytes()
    return [raw[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(len(offsets) - 1)]


def _atomic_write(path: Path, data: bytes) -> None:
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


def _safe_name(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", value) or "_"
