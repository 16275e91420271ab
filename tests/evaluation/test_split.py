"""The held-out split: whole letters, decided by the split file and a hash, never by answers."""

from __future__ import annotations

from pathlib import Path

from assistant.evaluation.dataset import EvalQuestion, load_questions
from assistant.evaluation.metrics import Gold
from assistant.evaluation.split import Split

ROOT = Path(__file__).resolve().parents[2]


def _q(qid: str, *letters: str) -> EvalQuestion:
    return EvalQuestion(id=qid, question="问", history=(), answerable=bool(letters),
                        gold=tuple(Gold(x, "引文") for x in letters), facts=(), kind=None, line=1)


def test_a_question_is_held_out_with_any_of_its_letters() -> None:
    split = Split("seed", frozenset({"a"}))
    assert split.side(_q("1", "a")) == "test"
    assert split.side(_q("2", "b")) == "train"
    assert split.side(_q("3", "b", "a")) == "test"  # a list reaching into a held-out letter


def test_unanswerable_questions_are_split_by_their_id_alone() -> None:
    split = Split("seed", frozenset())
    sides = {split.side(_q(f"u{i}")) for i in range(50)}
    assert sides == {"train", "test"}
    assert split.side(_q("u7")) == Split("seed", frozenset({"zzz"})).side(_q("u7"))


def test_the_project_split_holds_out_about_a_third_of_the_blind_questions() -> None:
    split = Split.load()
    questions = load_questions(ROOT / "eval" / "staff.jsonl")
    held = len(split.select(questions, "test"))
    assert 0.2 < held / len(questions) < 0.45
