"""Cache bundles read memory-mapped: the same arrays, handed out as plain ndarrays over the
mapped pages (an np.memmap runs Python code on every slice, which the page paid per question)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.storage.cachefiles import load_bundle, save_bundle


def test_a_mapped_bundle_gives_plain_arrays_over_the_file(tmp_path: Path) -> None:
    codes = np.arange(1000, dtype=np.int32)
    save_bundle(tmp_path, "words", {"codes": codes}, {"format": 1})
    mapped, _ = load_bundle(tmp_path, "words", {"format": 1}, mmap=True)
    loaded, _ = load_bundle(tmp_path, "words", {"format": 1})
    assert type(mapped["codes"]) is np.ndarray and type(mapped["codes"][10:20]) is np.ndarray
    assert not mapped["codes"].flags.owndata and not mapped["codes"].flags.writeable, "still the read-only mapping"
    np.testing.assert_array_equal(mapped["codes"], codes)
    np.testing.assert_array_equal(loaded["codes"], codes)
