"""Question files: the design's evaluation format (`eval/*.jsonl`) and `replyqa ask --batch`
input, read line by line with a Chinese error that names the file and line of a bad one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import Gold, normalize


class EvalInputError(ValueError):
    """A question file, a corpus folder or a threshold that cannot be used; the message is for users."""


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    history: tuple[str, ...] = ()
    answerable: bool = True
    gold: tuple[Gold, ...] = ()
    facts: tuple[str, ...] = ()
    kind: str | None = None
    line: int = 0


@dataclass(frozen=True)
class BatchQuestion:
    id: str
    question: str
    history: tuple[str, ...] = ()


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; a line that is not a JSON object stops
    everything with a message naming the file and the line."""
    path = Path(path)
    if not path.is_file():
        raise EvalInputError(f"问题文件不存在：{path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EvalInputError(f"{path}：不是 UTF-8 编码的文本（{exc.reason}）") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalInputError(f"{path} 第 {number} 行：不是合法的 JSON（{exc.msg}，第 {exc.colno} 列）") from exc
        if not isinstance(value, dict):
            raise EvalInputError(f"{path} 第 {number} 行：应为一个 JSON 对象（{{...}}），而不是 {type(value).__name__}")
        yield number, value


def _where(path: Path, line: int) -> str:
    return f"{path} 第 {line} 行"


def _text(obj: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise EvalInputError(f"{where}：缺少字段 “{key}”")
        return None
    if not isinstance(value, str) or not value.strip():
        raise EvalInputError(f"{where}：字段 “{key}” 应为非空字符串")
    return value


def _strings(obj: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise EvalInputError(f"{where}：字段 “{key}” 应为字符串列表（可为空 []）")
    return tuple(value)


def _gold(obj: dict[str, Any], where: str) -> tuple[Gold, ...]:
    value = obj.get("gold", [])
    if value is None:
        return ()
    if not isinstance(value, list):
        raise EvalInputError(f"{where}：字段 “gold” 应为列表，每项形如 {{\"letter\": ..., \"quote\": ...}}")
    items = []
    for i, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise EvalInputError(f"{where}：gold 第 {i} 项应为对象 {{\"letter\": ..., \"quote\": ...}}")
        letter = _text(item, "letter", f"{where} gold 第 {i} 项")
        quote = _text(item, "quote", f"{where} gold 第 {i} 项")
        if not normalize(str(quote)):
            raise EvalInputError(f"{where}：gold 第 {i} 项的 quote 去掉空白后为空")
        items.append(Gold(letter=str(letter), quote=str(quote)))
    return tuple(items)


def load_questions(path: Path) -> list[EvalQuestion]:
    """The evaluation set, validated line by line (`docs/design.md`, "Evaluation set format")."""
    path = Path(path)
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    for number, obj in read_jsonl(path):
        where = _where(path, number)
        qid = str(_text(obj, "id", where))
        if qid in seen:
            raise EvalInputError(f"{where}：id “{qid}” 与第 {seen[qid]} 行重复")
        seen[qid] = number
        answerable = obj.get("answerable", True)
        if not isinstance(answerable, bool):
            raise EvalInputError(f"{where}：字段 “answerable” 应为 true 或 false")
        gold = _gold(obj, where)
        facts = _strings(obj, "facts", where)
        if not answerable and (gold or facts):
            raise EvalInputError(f"{where}：不可回答的问题（answerable: false）不应有 gold 或 facts")
        key = "kind" if "kind" in obj else "category"  # the shared corpus's sets call it `category`
        kind = obj.get(key)
        if kind is not None and (not isinstance(kind, str) or not kind.strip()):
            raise EvalInputError(f"{where}：字段 “{key}” 应为非空字符串")
        questions.append(EvalQuestion(
            id=qid, question=str(_text(obj, "question", where)), history=_strings(obj, "history", where),
            answerable=answerable, gold=gold, facts=facts, kind=kind, line=number,
        ))
    if not questions:
        raise EvalInputError(f"{path}：文件中没有问题")
    return questions


def load_batch(path: Path) -> list[BatchQuestion]:
    """`replyqa ask --batch` input: {"id", "question", "history"} per line; a missing id becomes
    the line number, so every output line can still be matched to its input."""
    path = Path(path)
    items: list[BatchQuestion] = []
    for number, obj in read_jsonl(path):
        where = _where(path, number)
        raw_id = obj.get("id", number)
        if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or str(raw_id).strip() == "":
            raise EvalInputError(f"{where}：字段 “id” 应为字符串或整数")
        items.append(BatchQuestion(
            id=str(raw_id), question=str(_text(obj, "question", where)), history=_strings(obj, "history", where)
        ))
    return items
