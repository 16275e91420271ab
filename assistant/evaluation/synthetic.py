"""Letters made from real ones, for measuring how the index behaves at sizes no real corpus
here reaches: names and numbers varied, everything else (structure, wording, length) as the
real letter has it.

Each made letter is written as a text file and read by the real reading and chunking code. Its
vectors are not computed by the model (hours at 100 k chunks on two cores): each chunk gets its
source chunk's real vector plus a little noise of the model's dimension, so that made letters sit
near the real letters they came from, as real letters on one topic do (cosine ≈ 0.9 to their
source). `bench scale` says which chunks got which kind of vector.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.batch import Prepared, letter_meta, letter_record
from index.chunk import chunk_letter
from index.embedding.embedder import Embedder
from index.pipeline import content_version, discover
from index.reading.letter import parse_loaded
from index.reading.load import load_bytes, load_file
from index.settings import Settings
from index.storage.store import ChunkStore
from index.tokenizer import ChineseTokenizer

NAME_CHARS = "青河临江东川安平永宁清源长乐丰泽云岭白石兴隆嘉禾南屏西塘北岗金沙玉泉松林桂阳龙门柳溪凤鸣"
ADMIN_SUFFIXES = "省市县区镇乡村州旗盟"
NOISE_COSINE = 0.9
"""How close a made chunk's vector is to its source chunk's."""


@dataclass(frozen=True)
class Source:
    """A real letter: its loaded text, the names to vary in it, and its chunks' real vectors."""

    letter_id: str
    text: str
    names: tuple[str, ...]
    vectors: np.ndarray


def read_sources(folders: Sequence[Path], settings: Settings, embedder: Embedder,
                 tokenizer: ChineseTokenizer) -> list[Source]:
    """The real letters of `folders` that parse into chunks, with their chunks embedded by the
    real model (once; every made letter reuses them)."""
    sources: list[Source] = []
    for path in discover(list(folders)):
        try:
            loaded = load_file(path)
            letter = parse_loaded(loaded, source=str(path), letter_id=path.stem)
        except Exception:  # a broken letter is no template
            continue
        version = content_version(path.read_bytes(), settings)
        chunks = chunk_letter(letter, version, max_chars=settings.chunk_max_chars,
                              overlap=settings.chunk_overlap_chars)
        if not chunks:
            continue
        names = sorted({w for w, flag in tokenizer.tag(loaded.text) if flag in ("nr", "ns") and len(w) >= 2},
                       key=len, reverse=True)
        vectors = embedder.embed_documents([c.embed_text for c in chunks])
        sources.append(Source(path.stem, loaded.text, tuple(names), vectors))
    return sources


def vary(source: Source, rng: random.Random) -> str:
    """The source's text with every name and number changed consistently within the letter."""
    text = source.text
    for name in source.names:
        keep = name[-1] if name[-1] in ADMIN_SUFFIXES else ""
        new = "".join(rng.choice(NAME_CHARS) for _ in range(len(name) - len(keep))) + keep
        text = text.replace(name, new)
    shift = rng.randint(-6, 4)

    def number(m: re.Match[str]) -> str:
        digits = m.group(0)
        value = int(digits)
        if len(digits) == 4 and 1990 <= value <= 2030:
            return str(min(2025, max(2005, value + shift)))
        if len(digits) == 1:
            return str(rng.randint(1, 9))
        return str(rng.randint(10 ** (len(digits) - 1), 10 ** len(digits) - 1))

    return re.sub(r"\d+", number, text)


def synthetic_vectors(source: Source, n: int, rng: np.random.Generator) -> np.ndarray:
    """n unit vectors, the i-th near the source's i-th chunk (its last one past the end)."""
    base = source.vectors[np.minimum(np.arange(n), len(source.vectors) - 1)]
    sigma = np.sqrt(1.0 / NOISE_COSINE**2 - 1.0) / np.sqrt(base.shape[1])
    noisy = base + rng.normal(scale=sigma, size=base.shape).astype(np.float32)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


@dataclass
class Filled:
    letters: int = 0
    chunks: int = 0


def made_letters(sources: Sequence[Source], folder: Path, start: int, seed: int) -> Iterator[tuple[Path, Source]]:
    """An endless run of made letters, written into `folder` as `made-NNNNNNN.txt`."""
    rng = random.Random(seed + start)
    folder.mkdir(parents=True, exist_ok=True)
    n = start
    while True:
        source = sources[n % len(sources)]
        path = folder / f"made-{n:07d}.txt"
        path.write_text(vary(source, rng), encoding="utf-8")
        yield path, source
        n += 1


def fill(store: ChunkStore, settings: Settings, sources: Sequence[Source], folder: Path, *,
         until_chunks: int, start: int = 0, seed: int = 12, window: int = 2000) -> Filled:
    """Add made letters until the store holds `until_chunks` visible chunks: read and chunked
    as any letter, written and committed as the pipeline writes them, vectors made from their
    sources'. Returns what was added (`start` numbers the first file)."""
    added = Filled()
    have = sum(r.n_chunks for r in store.records().values())
    rng = np.random.default_rng(seed + start)
    pending: list[tuple[Prepared, np.ndarray]] = []
    made = made_letters(sources, folder, start, seed)
    while have + sum(len(p.chunks) for p, _ in pending) < until_chunks:
        path, source = next(made)
        data = path.read_bytes()
        version = content_version(data, settings)
        letter = parse_loaded(load_bytes(data, path), source=str(path.resolve()), letter_id=path.stem)
        chunks = chunk_letter(letter, version, max_chars=settings.chunk_max_chars,
                              overlap=settings.chunk_overlap_chars)
        if not chunks:
            continue
        pending.append((Prepared(path, letter, version, chunks, "added"), synthetic_vectors(source, len(chunks), rng)))
        if sum(len(p.chunks) for p, _ in pending) >= window:
            have += _write(store, pending, added)
    have += _write(store, pending, added)
    return added


def _write(store: ChunkStore, pending: list[tuple[Prepared, np.ndarray]], added: Filled) -> int:
    if not pending:
        return 0
    chunks = [c for p, _ in pending for c in p.chunks]
    vectors = np.concatenate([v for _, v in pending])
    store.put_chunks(chunks, vectors, meta_by_letter={p.letter.id: letter_meta(p.letter) for p, _ in pending})
    means = [v.mean(axis=0) / (np.linalg.norm(v.mean(axis=0)) or 1.0) for _, v in pending]
    store.commit_letters([letter_record(p) for p, _ in pending], np.stack(means))
    store.finish_letters([(p.letter.id, p.version) for p, _ in pending])
    added.letters += len(pending)
    added.chunks += len(chunks)
    pending.clear()
    return len(chunks)
