"""The endings of a government unit's name (…局, …委员会, …办公室): one list, in units.toml, for
the readers that recognise a unit — the cleaner, the field and issuer extractors and the outline
(and the letterhead words after a unit, for the cleaner and the issuer).
Each puts its own character class in front; the alternation keeps the file's order."""

from __future__ import annotations

from pathlib import Path

from index.vocab import alternation, load_vocabulary

_VOCAB = load_vocabulary(Path(__file__).with_name("units.toml"))
UNITS = _VOCAB["suffixes"]
UNIT_SUFFIXES = f"(?:{alternation(UNITS)})"
"""A regex group matching one unit ending."""
LETTERHEAD_WORDS = f"(?:{alternation(_VOCAB['letterhead_words'])})"
"""A regex group matching what follows the unit in a letterhead (`文件`, `函`)."""
