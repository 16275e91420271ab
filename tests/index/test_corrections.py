"""Staff corrections of a letter's fields, against a real Chroma (embedded and `chroma run`) with
the real model: kept in Chroma, applied in one commit to the letter, its chunks' filter fields
and its record, kept across re-ingest (also of an edited file, and `--rebuild`), withdrawn on
request, forgotten with the letter — and the catalogue reads that need no model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.catalog import Catalog
from index.corrections import rewrite_letter
from index.embedding.embedder import Embedder
from index.pipeline import ingest
from index.reading.letter import ReplyLetter
from index.settings import Settings
from index.storage.browse import letters_containing, open_existing
from index.storage.corrections import get_correction, load_corrections
from index.storage.records import StoreError
from index.storage.store import ChunkStore

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "letters"
LETTER = "lj-sl-2022-015"


def _open(settings: Settings, embedder: Embedder) -> ChunkStore:
    return ChunkStore.open(settings, model_id=embedder.model_id, dimension=embedder.dimension)


def _letter(store: ChunkStore, letter_id: str) -> ReplyLetter:
    record = store.letter(letter_id)
    assert record is not None
    return ReplyLetter.model_validate({**json.loads(record.payload), "text": record.text or ""})


def _chunk_meta(store: ChunkStore, letter_id: str) -> list[dict[str, object]]:
    store.refresh()
    return [dict(c.meta) for c in store.committed_chunks() if c.letter_id == letter_id]


def test_a_correction_is_kept_across_reingest_edit_and_rebuild(
    store_settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    folder = tmp_path / "letters"
    folder.mkdir()
    for name in (f"{LETTER}.txt", "wx-nync-2023-036.txt"):
        shutil.copy(SAMPLES / name, folder / name)
    with _open(store_settings, embedder) as store:
        read: list[tuple[str, int]] = []
        report = ingest([folder], store_settings, store, embedder, on_read=lambda p, n: read.append((p.name, n)))
        assert sorted(name for name, _ in read) == sorted(p.name for p in folder.iterdir())
        assert sum(n for _, n in read) == report.embedded_chunks > 0, "each letter's chunks are known once read"
        parsed = _letter(store, LETTER)
        assert parsed.issuer == "临江县水利局" and parsed.date == "2022-09-05"

        result = rewrite_letter(LETTER, {"issuer": "临江县水务局", "date": "2022年9月6日", "title": ""},
                                store_settings, store, embedder)
        assert result.status == "updated"
        fixed = _letter(store, LETTER)
        assert (fixed.issuer, fixed.date, fixed.title) == ("临江县水务局", "2022-09-06", parsed.title)
        record = store.letter(LETTER)
        assert record is not None and (record.issuer, record.year) == ("临江县水务局", 2022)
        assert {m["issuer"] for m in _chunk_meta(store, LETTER)} == {"临江县水务局"}, "filters see it too"
        correction = get_correction(store, LETTER)
        assert correction is not None and correction.original == {"issuer": "临江县水利局", "date": "2022-09-05"}
        assert _letter(store, "wx-nync-2023-036").issuer == "温溪县农业农村局", "other letters untouched"

        again = ingest([folder], store_settings, store, embedder)
        assert again.count("unchanged") == 2 and again.embedded_chunks == 0

        edited = folder / f"{LETTER}.txt"
        edited.write_text(edited.read_text(encoding="utf-8") + "\n补充说明：本答复已抄送各乡镇。\n", encoding="utf-8")
        assert ingest([folder], store_settings, store, embedder).count("updated") == 1
        assert _letter(store, LETTER).issuer == "临江县水务局", "a re-ingested file keeps its correction"
        assert "补充说明" in (store.letter(LETTER) or record).text  # type: ignore[operator]

        ingest([folder], store_settings, store, embedder, rebuild=True)
        assert _letter(store, LETTER).issuer == "临江县水务局", "--rebuild keeps corrections"
        assert store.count_chunks() == sum(r.n_chunks for r in store.letters()), "no chunk left behind"

        assert rewrite_letter(LETTER, None, store_settings, store, embedder).status == "updated"
        assert _letter(store, LETTER).issuer == "临江县水利局"
        assert get_correction(store, LETTER) is None
        assert {m["issuer"] for m in _chunk_meta(store, LETTER)} == {"临江县水利局"}


def test_bad_values_are_refused_in_chinese(store_settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    shutil.copy(SAMPLES / f"{LETTER}.txt", tmp_path / f"{LETTER}.txt")
    with _open(store_settings, embedder) as store:
        ingest([tmp_path / f"{LETTER}.txt"], store_settings, store, embedder)
        with pytest.raises(StoreError, match="日期 “去年秋天” 无法识别"):
            rewrite_letter(LETTER, {"date": "去年秋天"}, store_settings, store, embedder)
        with pytest.raises(StoreError, match="不能更正字段"):
            rewrite_letter(LETTER, {"addressee": "某某"}, store_settings, store, embedder)
        assert load_corrections(store) == {}
        missing = rewrite_letter("no-such-letter", {"issuer": "某局"}, store_settings, store, embedder)
        assert missing.status == "failed" and "没有这封答复" in missing.reason


def test_a_correction_follows_its_file_not_its_id(store_settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    """Removing a letter forgets its correction; another file that later takes the same id is read as it is."""
    first, second = tmp_path / "a" / f"{LETTER}.txt", tmp_path / "b" / f"{LETTER}.txt"
    for path in (first, second):
        path.parent.mkdir()
        shutil.copy(SAMPLES / f"{LETTER}.txt", path)
    with _open(store_settings, embedder) as store:
        ingest([first], store_settings, store, embedder)
        rewrite_letter(LETTER, {"issuer": "临江县水务局"}, store_settings, store, embedder)
        catalog = Catalog(store_settings, store)
        assert [r.status for r in catalog.remove([LETTER])] == ["removed"]
        assert get_correction(store, LETTER) is None
        ingest([second], store_settings, store, embedder)
        assert _letter(store, LETTER).issuer == "临江县水利局"


def test_the_catalogue_opens_without_the_model(store_settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    if not store_settings.chroma_host:
        assert open_existing(store_settings) is None
        assert not (store_settings.data_dir / "chroma").exists(), "looking must not create an index"
    shutil.copy(SAMPLES / "dc-gx-2020-dh0271.txt", tmp_path / "dc-gx-2020-dh0271.txt")
    shutil.copy(SAMPLES / f"{LETTER}.txt", tmp_path / f"{LETTER}.txt")
    with _open(store_settings, embedder) as store:
        ingest([tmp_path], store_settings, store, embedder)
        assert letters_containing(store, "5G") == {"dc-gx-2020-dh0271"}
        assert letters_containing(store, "饮水") == {LETTER}
        assert letters_containing(store, "没有这样的词语组合") == set()
        # an ASCII phrase is matched against the text, not the stored fields' JSON keys
        assert letters_containing(store, '"sections"') == set()
    catalog = Catalog.open(store_settings)
    try:
        assert catalog.store is not None and catalog.store.model_id == embedder.model_id
        entries = {e.id: e for e in catalog.entries()}
        assert set(entries) == {"dc-gx-2020-dh0271", LETTER}
        assert entries["dc-gx-2020-dh0271"].number == "第DH0271号"
        assert entries["dc-gx-2020-dh0271"].addressee.endswith("代表")
        assert [r.status for r in catalog.remove(["no-such-letter"])] == ["failed"]
    finally:
        catalog.close()
