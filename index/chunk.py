"""Chunks follow the letter's own sections, so every chunk can be cited as "that letter, that section"."""

from __future__ import annotations

from pydantic import BaseModel


class Chunk(BaseModel):
    """A piece of one section of one letter.

    `text` is exactly `cleaned[start:end]` of the letter and is what gets quoted; `embed_text`
    may carry the title and heading path in front so that short sections still embed with
    their context.
    """

    letter_id: str
    version: str
    """The letter's content version this chunk was cut from (see `index.pipeline`)."""
    ordinal: int
    section_path: list[str]
    """Section labels from the root, e.g. `["三", "（二）"]`; `[]` for preamble/closing text."""
    section_heading: str
    paragraph: int
    start: int
    end: int
    text: str
    embed_text: str

    @property
    def id(self) -> str:
        return f"{self.letter_id}::{self.version}::{self.ordinal:04d}"
