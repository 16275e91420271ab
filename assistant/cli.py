"""`replyqa` — the command line. Thin: every command calls the same service functions as the page.

Heavy imports (torch, chromadb, gradio) happen inside the commands that need them, so that
`replyqa parse` and `replyqa --help` start instantly.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from index.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    return Settings(**overrides)


def _print_json(value: object) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


# --- parse -----------------------------------------------------------------------------------
def cmd_parse(args: argparse.Namespace) -> int:
    from index.letter import letter_json, parse_file
    from index.load import LoadError

    results: list[dict[str, object]] = []
    failed = 0
    for name in args.files:
        path = Path(name)
        try:
            letter = parse_file(path)
        except LoadError as exc:
            failed += 1
            results.append({"source": str(path), "error": exc.reason})
            continue
        except Exception as exc:  # one broken letter never stops the batch
            failed += 1
            results.append({"source": str(path), "error": f"解析失败：{type(exc).__name__}: {exc}"})
            continue
        results.append(letter_json(letter))
    if args.json:
        _print_json(results)
    else:
        for item in results:
            _print_letter_summary(item)
    return 1 if failed and failed == len(results) else 0


def _print_letter_summary(item: dict[str, object]) -> None:
    if "error" in item:
        print(f"✗ {item['source']}：{item['error']}")
        return
    print(f"✓ {item['source']}")
    labels = [("标题", "title"), ("答复单位", "issuer"), ("日期", "date"), ("收件人", "addressee"),
              ("渠道", "channel"), ("会议", "session"), ("编号", "number"), ("类别", "category"),
              ("公开", "disclosure"), ("联系", "contact")]
    for label, key in labels:
        if item.get(key):
            print(f"    {label}：{item[key]}")

    def outline(sections: list[dict[str, object]], depth: int) -> None:
        for sec in sections:
            name = {"preamble": "开头", "body": "正文", "closing": "结尾"}.get(str(sec["kind"]), "")
            label = sec["label"] or name
            print(f"    {'  ' * depth}· {label} {sec['heading']}".rstrip())
            outline(sec["children"], depth + 1)  # type: ignore[arg-type]

    outline(item["sections"], 0)  # type: ignore[arg-type]


# --- entry point -----------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="replyqa", description="政府答复函问答助手：导入答复、提问、查看引用。"
    )
    parser.add_argument("--data-dir", help="索引所在目录（默认 REPLYQA_DATA_DIR）")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="解析答复函并输出其结构（不建索引）")
    p.add_argument("files", nargs="+", help="答复函文件（.txt .html .docx .pdf）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.set_defaults(func=cmd_parse)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
