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


CHAT_HELP = """可用命令（带不带斜杠都可以）：
  /help 或 帮助      显示本说明
  /new 或 新对话     清空上下文，开始新的对话
  /quit 或 退出      结束（也可按 Ctrl+D）
其他输入都当作问题；接着上一个问题追问即可，如“那青河市呢？”“下一步怎么安排？”"""

CHAT_COMMANDS = {
    "help": ("/help", "help", "/?", "?", "？", "/帮助", "帮助"),
    "new": ("/new", "/新对话", "新对话", "/重新开始", "重新开始"),
    "quit": ("/quit", "/exit", "quit", "exit", "/退出", "退出", "/结束", "结束"),
}


def chat_command(line: str) -> str | None:
    """`help`, `new` or `quit` when the line is one of the chat's commands, else None (a question).
    Whole-line matches only, so a question that merely contains 帮助 is still a question."""
    word = line.strip().rstrip("。.!！").lower()
    return next((name for name, spellings in CHAT_COMMANDS.items() if word in spellings), None)


def cmd_chat(args: argparse.Namespace) -> int:
    import sys

    from assistant.ask.answer import Answer

    print("正在加载嵌入模型和索引…", file=sys.stderr, flush=True)
    app = open_app(args)
    turns: list[Turn] = []
    print("答复问答助手：输入问题后回车；输入 /help 或“帮助”查看命令，/new 或“新对话”重新开始，"
          "/quit 或“退出”结束。")
    try:
        while True:
            try:
                question = input("\n问：").strip()
            except EOFError:
                print()
                break
            if not question:
                continue
            command = chat_command(question)
            if command == "quit":
                break
            if command == "help":
                print(CHAT_HELP)
                continue
            if command == "new":
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
