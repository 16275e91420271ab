"""Settings: where things live, and the throwaway index that benchmarks and evaluation use."""

from __future__ import annotations

from pathlib import Path

from index.settings import Settings


def test_a_scratch_index_keeps_the_exported_model_where_it_is(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", chroma_host="127.0.0.1")
    scratch = settings.scratch(tmp_path / "scratch")
    assert scratch.data_dir == tmp_path / "scratch"
    assert scratch.model_store == tmp_path / "data" / "models"
    assert scratch.chroma_host is None, "a throwaway index never writes into the configured server"
    assert settings.data_dir == tmp_path / "data", "the original settings are left as they were"
