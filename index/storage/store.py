"""Chroma is the single source of truth: chunks and letter records live there, everything else
(BM25, caches) is derived from it and can be rebuilt.

Writes are versioned so that an interrupted ingest never shows a half-indexed letter: chunks of
a new version are written first under ids that carry the version, then one upsert of the
letter record (the commit point) makes that version visible, then the old version's chunks are
dropped. Readers only ever see chunks whose (letter id, version) matches a committed record.
The two sides are `index.storage.writes` and `index.storage.reads`, over the shared state in
`index.storage.connection`.
"""

from __future__ import annotations

from index.storage.reads import StoreReads
from index.storage.writes import StoreWrites


class ChunkStore(StoreWrites, StoreReads):
    """Chunks and letter records in two Chroma collections, with version-aware reads.

    Not safe to share between ingests running at the same time (see `collect_garbage`);
    safe for readers in other threads, which the internal lock serialises with `refresh()`.
    """
