"""Vocabularies as data: every word list in the repository loads, and none names an entry twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.vocab import VocabularyError, alternation, load_vocabulary, vocabulary_files

REPO = Path(__file__).resolve().parents[2]
FILES = [path for package in ("index", "assistant") for path in vocabulary_files(REPO / package)]


def test_the_vocabularies_are_found() -> None:
    names = {path.relative_to(REPO).as_posix() for path in FILES}
    assert {"index/reading/clean.toml", "index/reading/units.toml", "index/tokenizer.toml"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_vocabulary_loads_without_a_duplicate(path: Path) -> None:
    lists = load_vocabulary(path)
    assert lists, f"{path}: no word lists"
    for name, entries in lists.items():
        assert len(set(entries)) == len(entries), f"{path}: {name} has a duplicate"


def test_a_duplicate_entry_is_refused_with_its_file_list_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "words.toml"
    path.write_text('[tail]\nmarkers = ["上一篇", "下一篇", "上一篇"]\n', encoding="utf-8")
    with pytest.raises(VocabularyError, match=r"words\.toml: tail\.markers lists '上一篇' twice"):
        load_vocabulary(path)


@pytest.mark.parametrize(
    "text",
    ['words = ["局", 3]\n', 'words = ["局", ""]\n', 'words = "局"\n', "words = [\n"],
    ids=["not-a-string", "empty", "not-a-list", "broken-toml"],
)
def test_a_file_that_is_not_lists_of_words_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VocabularyError, match=r"bad\.toml"):
        load_vocabulary(path)


def test_lists_keep_file_order_and_nested_tables_get_dotted_names(tmp_path: Path) -> None:
    path = tmp_path / "units.toml"
    path.write_text('top = ["委员会", "委"]\n[a.b]\nc = ["x.y", "z"]\n', encoding="utf-8")
    assert load_vocabulary(path) == {"top": ("委员会", "委"), "a.b.c": ("x.y", "z")}
    assert alternation(("委员会", "委", "x.y")) == r"委员会|委|x\.y"
