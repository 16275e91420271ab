"""Chinese BM25 over the committed chunks, derived from Chroma, kept up to date letter by letter.

Chroma's own keyword search cannot rank Chinese (whitespace tokenizer, English stemmer), so the
lexical half of retrieval lives here. The index is a pure function of the committed chunks and
the tokenizer, held as immutable segments: adding letters adds a segment of just their chunks,
removing or changing one marks its rows dead, and small segments are merged without
re-tokenising anything. Scores use the statistics of all live rows and sum the query's terms in
one fixed order, so an index grown this way ranks exactly as one built from scratch.

Its cache (`index.storage.bm25_cache`) records which letter versions it covers, so that the next
process tokenises only the letters that changed since; it can always be thrown away.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.storage.records import StoredChunk, split_chunk_id
from index.tokenizer import ChineseTokenizer

K1 = 1.5
B = 0.75
"""Okapi defaults. Chunks are already cut to a similar size along sections, so length
normalisation matters little and there is nothing to tune against yet."""
MAX_SEGMENTS = 6
"""More segments than this and the small ones are merged (a query visits every segment)."""


@dataclass(frozen=True)
class Segment:
    """Rows (chunks) of some letters, immutable: a term dictionary and term-major term counts.

    Rows are grouped by letter, so a letter's rows are one range (`letter_rows`).
    """

    ids: list[str]
    terms: list[str]
    indptr: np.ndarray
    """Per term, where its postings start in `rows`/`tf` (int64, len(terms) + 1)."""
    rows: np.ndarray
    tf: np.ndarray
    dl: np.ndarray
    """Each row's length in terms (int64)."""
    letter_rows: dict[str, tuple[int, int]]
    columns: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.columns:
            self.columns.update({term: j for j, term in enumerate(self.terms)})

    @property
    def size(self) -> int:
        return len(self.ids)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        j = self.columns.get(term)
        if j is None:
            return None
        lo, hi = int(self.indptr[j]), int(self.indptr[j + 1])
        return self.rows[lo:hi], self.tf[lo:hi]

    def live_df(self, alive: np.ndarray) -> np.ndarray:
        """Per term, in how many live rows it occurs."""
        if not len(self.terms):
            return np.zeros(0, dtype=np.int64)
        if bool(alive.all()):  # without touching the postings (memory-mapped from the cache)
            return np.diff(np.asarray(self.indptr)).astype(np.int64)
        live = alive[self.rows].astype(np.int64)
        sums = np.add.reduceat(np.concatenate([live, [0]]), self.indptr[:-1]) if len(live) else None
        if sums is None:
            return np.zeros(len(self.terms), dtype=np.int64)
        empty = self.indptr[:-1] == self.indptr[1:]
        sums[empty] = 0
        return sums.astype(np.int64)


def _segment_from_counts(ids: list[str], counts: list[Counter[str]]) -> Segment:
    """A segment from each row's term counts; `ids` grouped by letter."""
    columns: dict[str, int] = {}
    col: list[int] = []
    row: list[int] = []
    val: list[int] = []
    for i, c in enumerate(counts):
        for term, n in c.items():
            col.append(columns.setdefault(term, len(columns)))
            row.append(i)
            val.append(n)
    terms = list(columns)
    return _segment_from_coo(ids, terms, np.asarray(col, dtype=np.int64), np.asarray(row, dtype=np.int64),
                             np.asarray(val, dtype=np.float32))


def _segment_from_coo(ids: list[str], terms: list[str], col: np.ndarray, row: np.ndarray, val: np.ndarray) -> Segment:
    order = np.lexsort((row, col))
    col, row, val = col[order], row[order], val[order]
    indptr = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(np.bincount(col, minlength=len(terms)), out=indptr[1:])
    dl = np.bincount(row, weights=val, minlength=len(ids)).astype(np.int64)
    return Segment(ids=ids, terms=terms, indptr=indptr, rows=row.astype(np.int32), tf=val.astype(np.float32),
                   dl=dl, letter_rows=letter_ranges(ids))


def letter_ranges(ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Each letter's row range, for rows grouped by letter."""
    out: dict[str, tuple[int, int]] = {}
    for i, chunk_id in enumerate(ids):
        letter_id = split_chunk_id(chunk_id)[0]
        lo, _ = out.get(letter_id, (i, i))
        out[letter_id] = (lo, i + 1)
    return out


def tokenize_chunks(
    chunks: Sequence[StoredChunk], tokenizer: ChineseTokenizer, titles: Mapping[str, str]
) -> tuple[list[str], list[Counter[str]]]:
    """Each chunk as indexed: its text plus its letter's title and its section heading, each
    counted once as if prepended (the context `embed_text` gives the dense side: questions
    usually name the letter's topic, which the chunk's own words often do not). Sorted by
    (letter, ordinal) so that each letter's rows are one range."""
    ordered = sorted(chunks, key=lambda c: (c.letter_id, c.ordinal, c.id))
    title_counts: dict[str, Counter[str]] = {}
    ids: list[str] = []
    counts: list[Counter[str]] = []
    for chunk in ordered:
        c = Counter(tokenizer(chunk.text))
        if chunk.section_heading:
            c.update(tokenizer(chunk.section_heading))
        if chunk.letter_id not in title_counts:
            title_counts[chunk.letter_id] = Counter(tokenizer(titles.get(chunk.letter_id, "")))
        c.update(title_counts[chunk.letter_id])
        ids.append(chunk.id)
        counts.append(c)
    return ids, counts


def merge_segments(segments: Sequence[Segment], alive: Sequence[np.ndarray]) -> Segment:
    """The live rows of several segments as one, term counts carried over (no tokenising)."""
    columns: dict[str, int] = {}
    ids: list[str] = []
    cols, rows, vals = [], [], []
    for seg, live in zip(segments, alive, strict=True):
        remap = np.fromiter((columns.setdefault(t, len(columns)) for t in seg.terms), dtype=np.int64,
                            count=len(seg.terms))
        new_row = np.full(seg.size, -1, dtype=np.int64)
        kept = np.flatnonzero(live)
        new_row[kept] = np.arange(len(ids), len(ids) + len(kept))
        ids.extend(seg.ids[i] for i in kept)
        col_of = np.repeat(np.arange(len(seg.terms)), np.diff(seg.indptr))
        keep = live[seg.rows]
        cols.append(remap[col_of[keep]])
        rows.append(new_row[seg.rows[keep]])
        vals.append(seg.tf[keep])
    if not cols:
        return _segment_from_coo([], [], np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    return _segment_from_coo(ids, list(columns), np.concatenate(cols), np.concatenate(rows), np.concatenate(vals))


class BM25Index:
    """Okapi BM25 over live rows of immutable segments; `apply` gives the next version.

    `versions` says which letter versions the index covers (what its cache is checked against).
    """

    def __init__(
        self,
        segments: Sequence[Segment],
        tokenizer: ChineseTokenizer,
        *,
        alive: Sequence[np.ndarray] | None = None,
        versions: Mapping[str, str] | None = None,
        fingerprint: str = "",
        k1: float = K1,
        b: float = B,
        loaded_from_cache: bool = False,
        tokenized_letters: int = 0,
        letter_names: Sequence[str] = (),
        saved_at: int = 0,
    ) -> None:
        self.segments = tuple(segments)
        self.alive = tuple(alive) if alive is not None else tuple(np.ones(s.size, dtype=bool) for s in segments)
        self.letter_names = list(letter_names)
        """Every letter the segments have rows for, each with a fixed code (its position here)
        that stays the same in every later version: what `letter_mask` is indexed by."""
        self.letter_codes = {name: code for code, name in enumerate(self.letter_names)}
        for seg in self.segments:
            for name in seg.letter_rows:
                if name not in self.letter_codes:
                    self.letter_codes[name] = len(self.letter_names)
                    self.letter_names.append(name)
        self.row_codes = tuple(_row_codes(seg, self.letter_codes) for seg in self.segments)
        self._df = tuple(s.live_df(a) for s, a in zip(self.segments, self.alive, strict=True))
        self.n_docs = int(sum(int(a.sum()) for a in self.alive))
        self.total_len = int(sum(int(s.dl[a].sum()) for s, a in zip(self.segments, self.alive, strict=True)))
        self.tokenizer = tokenizer
        self.versions = dict(versions) if versions is not None else _versions_of(self.segments, self.alive)
        self.fingerprint = fingerprint
        self.k1 = k1
        self.b = b
        self.loaded_from_cache = loaded_from_cache
        """Whether it started from the on-disk cache (possibly with changed letters applied)."""
        self.tokenized_letters = tokenized_letters
        """How many letters were tokenised to bring it up to date (all of them when built)."""
        self.saved_at = saved_at
        """`tokenized_letters` when the cache was last written from it (or its ancestors)."""

    # -- building and updating -------------------------------------------------------------

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
        ids, counts = tokenize_chunks(chunks, tokenizer, titles or {})
        segment = _segment_from_counts(ids, counts)
        versions = {c.letter_id: c.version for c in chunks}
        return cls([segment], tokenizer, versions=versions, fingerprint=fingerprint, k1=k1, b=b,
                   tokenized_letters=len(versions))

    def apply(
        self,
        added: Sequence[StoredChunk],
        *,
        removed: Iterable[str] = (),
        titles: Mapping[str, str] | None = None,
        fingerprint: str = "",
    ) -> BM25Index:
        """The index after some letters were removed and others added (a changed letter is
        both): the rest keep their rows and counts untouched."""
        gone = set(removed) | {c.letter_id for c in added}
        alive = []
        for seg, live in zip(self.segments, self.alive, strict=True):
            ranges = [seg.letter_rows[i] for i in gone if i in seg.letter_rows]
            if ranges:
                live = live.copy()
                for lo, hi in ranges:
                    live[lo:hi] = False
            alive.append(live)
        segments = list(self.segments)
        if added:
            ids, counts = tokenize_chunks(added, self.tokenizer, titles or {})
            segments.append(_segment_from_counts(ids, counts))
            alive.append(np.ones(len(ids), dtype=bool))
        versions = {i: v for i, v in self.versions.items() if i not in gone}
        versions.update({c.letter_id: c.version for c in added})
        segments, alive = _merged_if_many(segments, alive)
        return BM25Index(segments, self.tokenizer, alive=alive, versions=versions, fingerprint=fingerprint,
                         k1=self.k1, b=self.b, loaded_from_cache=self.loaded_from_cache,
                         tokenized_letters=self.tokenized_letters + len({c.letter_id for c in added}),
                         letter_names=self.letter_names, saved_at=self.saved_at)

    def compacted(self) -> Segment:
        """All live rows as one segment (what the cache stores)."""
        if len(self.segments) == 1 and bool(self.alive[0].all()):
            return self.segments[0]
        return merge_segments(self.segments, self.alive)

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return self.n_docs

    @property
    def ids(self) -> list[str]:
        """Every live chunk id, sorted."""
        return sorted(i for seg, live in zip(self.segments, self.alive, strict=True)
                      for i, keep in zip(seg.ids, live, strict=True) if keep)

    @property
    def terms(self) -> list[str]:
        """Every term of a live row, sorted."""
        return sorted({t for seg, df in zip(self.segments, self._df, strict=True)
                       for t, n in zip(seg.terms, df, strict=True) if n > 0})

    def df(self, term: str) -> int:
        total = 0
        for seg, df in zip(self.segments, self._df, strict=True):
            j = seg.columns.get(term)
            if j is not None:
                total += int(df[j])
        return total

    def idf(self, term: str) -> float:
        """How rare a term is among the chunks (0 for unseen terms), for weighting a
        question's words when checking that evidence covers them."""
        df = self.df(term)
        if df == 0 or self.n_docs == 0:
            return 0.0
        return float(np.log1p((self.n_docs - df + 0.5) / (df + 0.5)))

    def search(
        self,
        query: str,
        k: int,
        allowed_ids: set[str] | None = None,
        *,
        letters: Collection[str] | None = None,
        letter_mask: np.ndarray | None = None,
    ) -> list[tuple[str, float]]:
        """Top-k (chunk id, score), best first, ties by id; chunks sharing no term with the
        query are left out rather than padded in with a zero score. `allowed_ids` (chunk ids),
        `letters` (letter ids) and `letter_mask` (a bool per letter code, see `letter_names`;
        what a filter over every letter costs least as) narrow what may be returned."""
        if k <= 0 or self.n_docs == 0:
            return []
        weights = {t: self.idf(t) for t in sorted(set(self.tokenizer(query)))}
        weights = {t: w for t, w in weights.items() if w > 0}
        if not weights:
            return []
        avgdl = self.total_len / self.n_docs
        found_scores: list[np.ndarray] = []
        found_ids: list[str] = []
        for seg, live, codes in zip(self.segments, self.alive, self.row_codes, strict=True):
            scores = self._segment_scores(seg, weights, avgdl)
            if scores is None:
                continue
            keep = (scores > 0) & live
            if letters is not None:
                keep &= _letter_mask(seg, letters)
            if letter_mask is not None:
                known = codes < len(letter_mask)
                keep &= known & np.asarray(letter_mask)[np.where(known, codes, 0)]
            hits = np.flatnonzero(keep)
            if allowed_ids is not None:
                hits = np.asarray([i for i in hits if seg.ids[i] in allowed_ids], dtype=np.int64)
            if hits.size:
                found_scores.append(scores[hits])
                found_ids.extend(seg.ids[i] for i in hits)
        if not found_ids:
            return []
        return _top_k(np.concatenate(found_scores), found_ids, k)

    def _segment_scores(self, seg: Segment, weights: Mapping[str, float], avgdl: float) -> np.ndarray | None:
        scores: np.ndarray | None = None
        for term, idf in weights.items():  # sorted: every row sums its terms in one order
            post = seg.postings(term)
            if post is None:
                continue
            rows, tf = post
            if scores is None:
                scores = np.zeros(seg.size, dtype=np.float64)
            f = tf.astype(np.float64)
            norm = self.k1 * (1.0 - self.b + self.b * seg.dl[rows] / avgdl)
            scores[rows] += idf * f * (self.k1 + 1.0) / (f + norm)
        return scores


def _top_k(scores: np.ndarray, ids: list[str], k: int) -> list[tuple[str, float]]:
    if len(ids) > k:
        threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
        pick = np.flatnonzero(scores >= threshold)
    else:
        pick = np.arange(len(ids))
    ranked = sorted(pick.tolist(), key=lambda i: (-float(scores[i]), ids[i]))[:k]
    return [(ids[i], float(scores[i])) for i in ranked]


def _row_codes(seg: Segment, codes: Mapping[str, int]) -> np.ndarray:
    out = np.zeros(seg.size, dtype=np.int32)
    for name, (lo, hi) in seg.letter_rows.items():
        out[lo:hi] = codes[name]
    return out


def _letter_mask(seg: Segment, letters: Collection[str]) -> np.ndarray:
    mask = np.zeros(seg.size, dtype=bool)
    if len(letters) < len(seg.letter_rows):
        for letter_id in letters:
            span = seg.letter_rows.get(letter_id)
            if span is not None:
                mask[span[0]:span[1]] = True
    else:
        for letter_id, (lo, hi) in seg.letter_rows.items():
            if letter_id in letters:
                mask[lo:hi] = True
    return mask


def _merged_if_many(segments: list[Segment], alive: list[np.ndarray]) -> tuple[list[Segment], list[np.ndarray]]:
    """Past `MAX_SEGMENTS`, the small segments (all but the largest) become one; when they
    would outgrow a tenth of the largest, everything becomes one."""
    if len(segments) <= MAX_SEGMENTS:
        return segments, alive
    big = max(range(len(segments)), key=lambda i: segments[i].size)
    rest = [i for i in range(len(segments)) if i != big]
    if sum(segments[i].size for i in rest) * 10 > segments[big].size:
        return [merge_segments(segments, alive)], [np.ones(sum(int(a.sum()) for a in alive), dtype=bool)]
    merged = merge_segments([segments[i] for i in rest], [alive[i] for i in rest])
    return [segments[big], merged], [alive[big], np.ones(merged.size, dtype=bool)]


def _versions_of(segments: Sequence[Segment], alive: Sequence[np.ndarray]) -> dict[str, str]:
    out: dict[str, str] = {}
    for seg, live in zip(segments, alive, strict=True):
        for letter_id, (lo, hi) in seg.letter_rows.items():
            if live[lo:hi].any():
                out[letter_id] = split_chunk_id(seg.ids[lo])[1]
    return out
