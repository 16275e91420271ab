"""A reply letter read the way a member of staff reads it: the `ReplyLetter` model, and the one
place that runs the reading stages in order (load → clean → outline → fields).

Who answered whom, when, about which suggestion, and how the answer is divided: the outline
decides where the preamble and the closing are, and `index.reading.fields` looks for each
field in the part of the letter that holds it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from index.reading.clean import clean_text
from index.reading.fields import (
    Channel,
    extract_addressee,
    extract_category,
    extract_channel,
    extract_contact,
    extract_date,
    extract_disclosure,
    extract_doc_number,
    extract_number,
    extract_session,
    first_paragraph,
    salutation_index,
    with_di,
)
from index.reading.issuer import extract_issuer
from index.reading.load import LoadedText, load_file
from index.reading.outline import Section, build_outline
from index.reading.title import extract_title

PAGE_INFO = "网页信息"
"""How a citation names the page's information lines (`ReplyLetter.page_info_start`)."""


class ReplyLetter(BaseModel):
    id: str
    source: str
    format: str = "txt"
    encoding: str | None = None
    ocr: bool = False
    """The text was recognised from a scan or photo: quotes may differ from the paper."""
    title: str | None = None
    suggestion_title: str | None = None
    """The title of the suggestion or proposal being answered, as quoted in the letter."""
    issuer: str | None = None
    date: str | None = None
    addressee: str | None = None
    channel: Channel = "other"
    session: str | None = None
    number: str | None = None
    category: str | None = None
    disclosure: str | None = None
    contact: str | None = None
    doc_number: str | None = None
    text: str
    sections: list[Section] = Field(default_factory=list)
    page_info_start: int | None = None
    """Where the page's information lines start in `text` (发布机构：…, 文号：…, after the letter
    and a blank line), or None. They are what the page says about the letter, quoted by answers
    about its fields; they are no section, so they are never chunked or retrieved, and the
    parse above saw the letter without them."""

    def on_page(self, start: int) -> bool:
        """Whether a span starting at `start` is among the page's information lines."""
        return self.page_info_start is not None and start >= self.page_info_start

    @property
    def body(self) -> str:
        """The letter's own text, without the page's information lines."""
        return self.text if self.page_info_start is None else self.text[: self.page_info_start].rstrip("\n")

    def all_sections(self) -> list[Section]:
        return [s for top in self.sections for s in top.walk()]

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date else None

    @property
    def display_title(self) -> str:
        """What the letter is called wherever it is shown: its own title, else the title of the
        suggestion it answers, else its id."""
        return self.title or self.suggestion_title or self.id

    def identity_text(self, *, with_date: bool = False) -> str:
        """The words that say which letter this is (title, suggestion, issuer, addressee,
        session, number): a question naming any of them means this letter."""
        parts = [self.title, self.suggestion_title, self.issuer, self.addressee, self.session, self.number]
        if with_date and self.date:
            year, month, day = self.date.split("-")
            parts += [f"{year}年{int(month)}月{int(day)}日", self.date]
        return " ".join(p for p in parts if p)


def letter_id_for(path: Path) -> str:
    return path.stem


def parse_file(path: Path, letter_id: str | None = None) -> ReplyLetter:
    """Load, clean and parse one file. Raises `index.reading.load.LoadError` for unreadable files."""
    path = Path(path)
    loaded = load_file(path)
    return parse_loaded(loaded, source=str(path), letter_id=letter_id or letter_id_for(path))


def parse_loaded(loaded: LoadedText, *, source: str, letter_id: str) -> ReplyLetter:
    cleaned = clean_text(loaded.text, loaded.page_title)
    letter = parse_text(
        cleaned.text, source=source, letter_id=letter_id, fields=cleaned.page_fields,
        breaks=cleaned.breaks,
    )
    letter.format, letter.encoding, letter.ocr = loaded.format, loaded.encoding, loaded.ocr
    if cleaned.page_lines:
        letter.page_info_start = len(letter.text) + 2
        letter.text = letter.text + "\n\n" + "\n".join(cleaned.page_lines)
    return letter


def parse_text(
    text: str,
    *,
    source: str,
    letter_id: str,
    fields: dict[str, str] | None = None,
    breaks: set[int] | None = None,
) -> ReplyLetter:
    """Parse cleaned text (the output of `index.reading.clean.clean_text`)."""
    fields = fields or {}
    lines = text.split("\n")
    salutation = salutation_index(lines)
    first_para = first_paragraph(lines)
    header_end = salutation if salutation is not None else first_para
    header = lines[:header_end]
    sections = build_outline(text, salutation=salutation, header_end=header_end)
    closing = next((s for s in sections if s.kind == "closing"), None)
    closing_from = text.count("\n", 0, closing.start) if closing else len(lines)

    breaks = breaks or set()
    title, suggestion_title = extract_title(header, lines, fields, breaks)
    session, number, _ = extract_session(title, lines)
    addressee = extract_addressee(lines, salutation, title)
    return ReplyLetter(
        id=letter_id,
        source=source,
        title=title,
        suggestion_title=suggestion_title,
        issuer=extract_issuer(title, header, lines, closing_from, fields, breaks),
        date=extract_date(lines, closing_from, fields),
        addressee=addressee,
        channel=extract_channel(session, title, addressee, text),
        session=session,
        number=with_di(number, text) or extract_number(lines, title),
        category=extract_category(lines, closing_from, salutation),
        disclosure=extract_disclosure(lines, fields),
        contact=extract_contact(lines, closing_from),
        doc_number=extract_doc_number(lines, fields, salutation),
        text=text,
        sections=sections,
    )


def section_json(section: Section) -> dict[str, object]:
    return {
        "kind": section.kind,
        "label": section.label,
        "heading": section.heading,
        "path": section.path,
        "start": section.start,
        "end": section.end,
        "children": [section_json(child) for child in section.children],
    }


def letter_json(letter: ReplyLetter) -> dict[str, object]:
    """The `replyqa parse --json` shape of the design: fields, cleaned text, section tree."""
    data = letter.model_dump(exclude={"sections"})
    data["sections"] = [section_json(s) for s in letter.sections]
    return data
