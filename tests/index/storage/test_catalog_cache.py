"""A store opened again starts from the catalog this machine saved, brought up to date with
what other processes committed and removed meanwhile; a damaged or foreign saved catalog is
not used. Real embedded Chroma and a real Chroma server."""

from __future__ import annotations

import pytest

from index.settings import Settings
from index.storage import catalog_cache
from index.storage.cachefiles import default_cache_dir
from index.storage.connection import StoreConnection
from index.storage.store import ChunkStore
from tests.index.storage.test_store import DIM, MODEL, TEXTS, ingest, visible_ids


def _open(settings: Settings) -> ChunkStore:
    return ChunkStore.open(settings, model_id=MODEL, dimension=DIM)


def _saved_after_three_letters(settings: Settings) -> bytes:
    with _open(settings) as store:
        for letter_id in ("A", "B", "C"):
            ingest(store, letter_id, "v1", TEXTS)
    return (default_cache_dir(settings) / catalog_cache.FILE).read_bytes()


@pytest.mark.parametrize("change", ["added", "removed", "new version", "removed and added"])
def test_what_others_did_since_the_catalog_was_saved_is_seen(store_settings: Settings, change: str) -> None:
    saved = _saved_after_three_letters(store_settings)
    with _open(store_settings) as other:  # another process, or another host on the same server
        if "removed" in change:
            other.remove_letter("B")
        if "added" in change:
            ingest(other, "D", "v1", TEXTS)
        if change == "new version":
            ingest(other, "C", "v2", TEXTS[:2])
        expected, chunks = other.committed_versions(), visible_ids(other)
    (default_cache_dir(store_settings) / catalog_cache.FILE).write_bytes(saved)  # as this machine last saw it
    with _open(store_settings) as store:
        assert store.committed_versions() == expected
        assert visible_ids(store) == chunks


@pytest.mark.parametrize("damage", ["garbage", "truncated", "a byte changed", "another collection"])
def test_a_damaged_or_foreign_saved_catalog_is_not_used(store_settings: Settings, damage: str) -> None:
    _saved_after_three_letters(store_settings)
    path = default_cache_dir(store_settings) / catalog_cache.FILE
    raw = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"\x00\xff" * 50)
    elif damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "a byte changed":
        path.write_bytes(raw.replace(b'"v1"', b'"v9"', 1))
    else:
        path.write_bytes(raw.replace(store_settings.collection.encode(), b"other", 1))
    with _open(store_settings) as store:
        assert store.committed_versions() == {"A": "v1", "B": "v1", "C": "v1"}


def test_opening_with_a_current_saved_catalog_reads_no_record_list(
    store_settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What makes opening a large index quick (measured in `bench scale`)."""
    _saved_after_three_letters(store_settings)

    def refuse(self: StoreConnection) -> None:
        raise AssertionError("every record read again")

    monkeypatch.setattr(StoreConnection, "_read_catalog", refuse)
    with _open(store_settings) as store:
        assert store.committed_versions() == {"A": "v1", "B": "v1", "C": "v1"}
