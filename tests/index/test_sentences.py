"""The sentences the index embeds are the very units an answer weighs and quotes."""

from __future__ import annotations

from pathlib import Path

from index.reading.letter import letter_id_for, parse_file
from index.sentences import answer_units, is_unit, letter_sentences

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "letters"


def test_every_unit_is_trimmed_text_of_the_letter_and_long_enough() -> None:
    for path in sorted(SAMPLES.iterdir())[:6]:
        letter = parse_file(path, letter_id_for(path))
        spans = letter_sentences(letter)
        assert spans, path.name
        assert spans == sorted(set(spans))
        for a, b in spans:
            unit = letter.text[a:b]
            assert unit == unit.strip() and is_unit(unit) and "\n" not in unit


def test_the_reply_formula_and_the_answer_after_it_are_units_apart() -> None:
    text = "您提出的建议收悉，现答复如下：该路段已列入今年计划，年底前完工。"
    units = [text[a:b] for a, b in answer_units(text, 0, len(text))]
    assert units[-1] == "该路段已列入今年计划，年底前完工。"
    assert all("收悉" not in u and "如下" not in u for u in units[-1:])
    assert "".join(units) == text


def test_each_section_is_cut_as_an_answer_reads_it() -> None:
    """An answer reads a passage widened to its section: the units of every section are stored,
    even where a section starts inside a line."""
    path = next(p for p in sorted(SAMPLES.iterdir()) if p.suffix == ".txt")
    letter = parse_file(path, letter_id_for(path))
    stored = set(letter_sentences(letter))
    for section in letter.sections:
        for a, b in answer_units(letter.text, section.start, section.end):
            if is_unit(letter.text[a:b]):
                assert (a, b) in stored
