"""The same letter under two file names is indexed once: the second is reported as a duplicate of
the first (naming both files), and once the first is gone the second takes its place — a rename
followed by `--prune` loses nothing. Real embedded Chroma, real model."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant.service import ReplyQA
from index.embedding.embedder import Embedder
from index.pipeline import content_version, ingest, ingest_lock, write_letter
from index.reading.letter import parse_file, parse_loaded
from index.reading.load import load_file
from index.settings import Settings
from index.storage import catalog_cache
from index.storage.cachefiles import default_cache_dir
from index.storage.store import ChunkStore

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "letters"


def _open(settings: Settings, embedder: Embedder) -> ChunkStore:
    return ChunkStore.open(settings, model_id=embedder.model_id, dimension=embedder.dimension)


def test_same_content_under_two_names_is_indexed_once_and_named_as_a_duplicate(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    folder = tmp_path / "in"
    folder.mkdir()
    first = folder / "a-letter.txt"
    shutil.copy(SAMPLES / "lj-zr-2019-027.txt", first)
    copy = folder / "b-copy of the letter.txt"
    shutil.copy(first, copy)
    text = first.read_text(encoding="utf-8")
    with _open(settings, embedder) as store:
        report = ingest([folder], settings, store, embedder)
        assert (report.count("added"), report.count("duplicate")) == (1, 1)
        dup = next(r for r in report.results if r.status == "duplicate")
        assert dup.path == str(copy) and dup.letter_id == "a-letter"
        assert str(first.resolve()) in dup.reason and str(copy) in dup.reason and "内容相同" in dup.reason
        assert [r.id for r in store.letters()] == ["a-letter"]
        assert "重复 1" in report.summary_zh()

        again = ingest([folder], settings, store, embedder)
        assert (again.count("unchanged"), again.count("duplicate")) == (1, 1), "still once, every run"
        assert store.count_chunks() == store.letters()[0].n_chunks

        # A later file whose content becomes that of another letter no longer holds its old one.
        other = folder / "c-other.txt"
        shutil.copy(SAMPLES / "qh-jt-2023-058.txt", other)
        assert ingest([other], settings, store, embedder).count("added") == 1
        other.write_text(text, encoding="utf-8")
        turned = ingest([other], settings, store, embedder)
        assert [r.status for r in turned.results] == ["duplicate"]
        assert "c-other" in turned.results[0].reason and "已移除" in turned.results[0].reason
        assert [r.id for r in store.letters()] == ["a-letter"]

        # The first file deleted: the same run indexes the copy, and --prune drops the first.
        first.unlink()
        after = ingest([folder], settings, store, embedder, prune=True)
        assert {(Path(r.path).name, r.status) for r in after.results} >= {
            ("b-copy of the letter.txt", "added"), (first.name, "removed")}
        assert after.count("duplicate") == 1, "c-other.txt is now the copy's duplicate"
        assert [r.id for r in store.letters()] == ["b-copy of the letter"]


def test_a_renamed_file_with_prune_keeps_the_letter(tmp_path: Path, embedder: Embedder) -> None:
    """The old file is gone, so its record is no one's original: the renamed file is indexed,
    and `--prune` then removes the old record — never the letter."""
    settings = Settings(data_dir=tmp_path / "data")
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "lj-sl-2022-015.txt", folder / "old-name.txt")
    with _open(settings, embedder) as store:
        ingest([folder], settings, store, embedder)
        (folder / "old-name.txt").rename(folder / "new-name.txt")
        report = ingest([folder], settings, store, embedder, prune=True)
        assert sorted(r.status for r in report.results) == ["added", "removed"]
        assert [r.id for r in store.letters()] == ["new-name"]


def test_a_renamed_file_without_prune_replaces_the_letter_instead_of_adding_a_second(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Without `--prune` the old record used to stay beside the new one: the same letter twice
    in every list. The file now holding its text takes its place, and the report says so."""
    settings = Settings(data_dir=tmp_path / "data")
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "lj-sl-2022-015.txt", folder / "old-name.txt")
    with _open(settings, embedder) as store:
        ingest([folder], settings, store, embedder)
        (folder / "old-name.txt").rename(folder / "new-name.txt")
        report = ingest([folder], settings, store, embedder)
        assert [(Path(r.path).name, r.status) for r in report.results] == [("new-name.txt", "added"),
                                                                           ("old-name.txt", "removed")]
        assert "已由答复 new-name 取代" in report.results[1].reason and "移除 1" in report.summary_zh()
        assert [r.id for r in store.letters()] == ["new-name"]
        assert store.count_chunks() == store.letters()[0].n_chunks


def _as_written_before_the_check(settings: Settings, embedder: Embedder, paths: list[Path]) -> None:
    """Each file indexed as replyqa did before duplicates were checked: its letter written
    whatever the others hold, and no text hash in its record."""
    with _open(settings, embedder) as store, ingest_lock(settings):
        for path in paths:
            letter = parse_loaded(load_file(path), source=str(path.resolve()), letter_id=path.stem)
            write_letter(path, letter, content_version(path.read_bytes(), settings), settings, store, embedder)
        store._letters.update(ids=[p.stem for p in paths], metadatas=[{"text_hash": None}] * len(paths))
    # replyqa then kept no copy of the catalog beside the index either
    (default_cache_dir(settings) / catalog_cache.FILE).unlink()


def _listed(app: ReplyQA, title: str) -> int:
    answer = app.ask("哪些答复提到了农村房地一体确权登记？")
    return sum(c.title == title for c in answer.citations)


def test_duplicates_indexed_before_the_check_are_removed_when_their_files_come_up_again(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    folder = tmp_path / "in"
    folder.mkdir()
    first, copy = folder / "a-letter.txt", folder / "b-copy.txt"
    shutil.copy(SAMPLES / "lj-zr-2019-027.txt", first)
    shutil.copy(first, copy)
    _as_written_before_the_check(settings, embedder, [first, copy])

    app = ReplyQA.open(settings, embedder=embedder)
    try:
        title = app.letters()[0].title
        assert [r.text_hash for r in app.letters()] == ["", ""]
        assert _listed(app, title) == 2, "what staff saw: the same letter twice in a list"

        report = app.ingest([copy, first])  # the copy first: the letter committed first stays
        assert [(Path(r.path).name, r.status) for r in report.results] == [("b-copy.txt", "duplicate"),
                                                                           ("a-letter.txt", "unchanged")]
        reason = report.results[0].reason
        assert str(first.resolve()) in reason and "此前由该文件导入的答复 b-copy 已移除" in reason
        assert [r.id for r in app.letters()] == ["a-letter"]
        assert app.store.count_chunks() == app.letters()[0].n_chunks
        assert _listed(app, title) == 1
        again = app.ingest([folder])
        assert (again.count("unchanged"), again.count("duplicate")) == (1, 1)
    finally:
        app.close()
    with _open(settings, embedder) as store:
        assert [bool(r.text_hash) for r in store.letters()] == [True], "found once: now stored with the record"


def test_the_same_letter_published_on_two_pages_is_one_letter(tmp_path: Path, embedder: Embedder) -> None:
    """The page's information lines are kept after the letter, but what makes two files the same
    letter is the letter's own text: a copy from another site, with another 发布日期 and 浏览次数
    in its table, is still a duplicate."""
    settings = Settings(data_dir=tmp_path / "data")
    folder = tmp_path / "in"
    folder.mkdir()
    page = (SAMPLES / "qh-zj-2022-027.html").read_text(encoding="utf-8")
    (folder / "site-a.html").write_text(page, encoding="utf-8")
    other = page.replace("2022-07-25 09:30", "2022-08-02 15:00")
    (folder / "site-b.html").write_text(other, encoding="utf-8")
    a, b = (parse_file(folder / name) for name in ("site-a.html", "site-b.html"))
    assert a.body == b.body and a.text != b.text
    with _open(settings, embedder) as store:
        report = ingest([folder], settings, store, embedder)
        assert (report.count("added"), report.count("duplicate")) == (1, 1), report.results
