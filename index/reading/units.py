"""The endings of a government unit's name (…局, …委员会, …办公室): one list, in units.toml, for
the three readers that recognise a unit — the cleaner, the field extractors and the outline.
Each puts its own character class in front; the alternation keeps the file's order."""

from __future__ import annotations

from pathlib import Path

from index.vocab import alternation, load_vocabulary

UNITS = load_vocabulary(Path(__file__).with_name("units.toml"))["suffixes"]
UNIT_SUFFIXES = f"(?:{alternation(UNITS)})"
"""A regex group matching one unit ending."""
