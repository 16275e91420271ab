"""Asking from the command line: `ask` (one question, a follow-up, or a batch file) and `chat`
(a conversation in the terminal). Both print the same answer and references the page shows.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.cli.common import error, open_app, print_json, print_references

if TYPE_CHECKING:
    from assistant.ask.answer import Answer
    from assistant.ask.conversation import Turn


def print_answer(answer: Answer) -> None:
    print(answer.text)
    print_references(answer.citations)


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.ask.answer import answer_json
    from assistant.evaluation.dataset import EvalInputError, load_batch

    if (args.question is None) == (args.batch is None):
        return error("请给出一个问题，或用 --batch 指定问题文件（二者选一）。")
    if args.batch and args.history:
        return error("--history 只用于单个问题；批量提问时请写在每行的 history 字段里。")
    if args.question is not None and not args.question.strip():
        return error("问题不能为空。")
    try:
        batch = load_batch(Path(args.batch)) if args.batch else None
    except EvalInputError as exc:
        return error(str(exc))
    app = open_app(args)
    try:
        if batch is None:
            answer = app.ask_with_history(args.question, args.history)
            if args.json:
                print_json(answer_json(answer))
            else:
                print_answer(answer)
            return 0
        failed = 0
        for item in batch:
            try:
                answer = app.ask_with_history(item.question, list(item.history))
            except Exception as exc:  # one bad question never stops the batch
                failed += 1
                if args.json:
                    print(json.dumps({"id": item.id, "error": f"{type(exc).__name__}: {exc}"}, ensure_ascii=False))
                else:
                    print(f"【{item.id}】{item.question}\n✗ 出错：{type(exc).__name__}: {exc}\n")
                continue
            if args.json:
                print(json.dumps({"id": item.id, **answer_json(answer)}, ensure_ascii=False), flush=True)
            else:
                print(f"【{item.id}】{item.question}")
                print_answer(answer)
                print(flush=True)
        return 1 if failed else 0
    finally:
        app.close()


def cmd_chat(args: argparse.Namespace) -> int:
    from assistant.ask.answer import Answer

    app = open_app(args)
    turns: list[Turn] = []
    print("答复问答助手（输入问题后回车；“/新对话”重新开始，“/退出”或 Ctrl+D 结束）")
    try:
        while True:
            try:
                question = input("\n问：").strip()
            except EOFError:
                print()
                break
            if not question:
                continue
            if question in ("/退出", "/exit", "/quit"):
                break
            if question in ("/新对话", "/new"):
                turns.clear()
                print("已开始新对话。")
                continue
            print("答：", end="", flush=True)
            answer = None
            for piece in app.stream(question, turns):
                if isinstance(piece, Answer):
                    answer = piece
                else:
                    print(piece, end="", flush=True)
            print()
            if answer is not None:
                print_references(answer.citations)
                turns.append(app.turn_of(answer))
    except KeyboardInterrupt:
        print()
    finally:
        app.close()
    return 0
