"""Vocabularies as data: word lists kept in TOML files beside the code that reads them.

Each file holds named lists of strings (`[section] key = ["…", …]`, or top-level keys). A
list that names an entry twice is refused with the file, key and entry, so a duplicate is
caught when the file is loaded (and by the test that loads every vocabulary), not years later
when someone wonders why a word seemed to count double. Grammar — number, date, session and
outline patterns — stays in code; only plain word lists live here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path


class VocabularyError(ValueError):
    """A vocabulary file that cannot be used as it is (developer-facing)."""


def load_vocabulary(path: Path) -> dict[str, tuple[str, ...]]:
    """`section.key` (or `key`) → its entries, in file order."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise VocabularyError(f"{path}: {exc}") from exc
    lists: dict[str, tuple[str, ...]] = {}
    _collect(data, "", path, lists)
    return lists


def _collect(table: dict[str, object], prefix: str, path: Path, out: dict[str, tuple[str, ...]]) -> None:
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _collect(value, f"{name}.", path, out)
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise VocabularyError(f"{path}: {name} must be a list of non-empty strings")
        seen: set[str] = set()
        for entry in value:
            if entry in seen:
                raise VocabularyError(f"{path}: {name} lists {entry!r} twice")
            seen.add(entry)
        out[name] = tuple(value)


def vocabulary_files(root: Path) -> list[Path]:
    """Every vocabulary file under a package folder (for the test that loads them all)."""
    return sorted(root.rglob("*.toml"))


def alternation(entries: tuple[str, ...]) -> str:
    """A regex alternation of literal entries, in file order (which decides between two that
    match at the same place: files list 委员会 before 委 where the longer one must win)."""
    return "|".join(re.escape(e) for e in entries)


def table(vocabulary: dict[str, tuple[str, ...]], name: str) -> dict[str, tuple[str, ...]]:
    """The lists under `[name]`, keyed by their own key, in file order."""
    prefix = f"{name}."
    return {key.removeprefix(prefix): entries for key, entries in vocabulary.items() if key.startswith(prefix)}
