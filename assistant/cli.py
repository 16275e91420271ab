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
    from index.reading.letter import letter_json, parse_file
    from index.reading.load import LoadError

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


# --- the index -------------------------------------------------------------------------------
def _open(args: argparse.Namespace):  # -> ReplyQA (imported lazily: torch and chromadb are slow)
    from assistant.service import ReplyQA

    return ReplyQA.open(_settings(args))


def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from index.pipeline import STATUS_ZH, discover

    paths = [Path(p) for p in args.paths]
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        print(f"✗ {p}：文件或文件夹不存在", file=sys.stderr)
    total = len(discover([p for p in paths if p.exists()]))
    app = _open(args)
    try:
        with tqdm(total=total, unit="封", desc="导入", file=sys.stderr, dynamic_ncols=True) as bar:
            started = bar.start_t

            def progress(files: int, chunks: int) -> None:
                bar.update(files - bar.n)
                elapsed = max(bar._time() - started, 1e-6)
                bar.set_postfix_str(f"{files / elapsed:.1f} 封/秒，{chunks / elapsed:.1f} 块/秒")

            report = app.ingest(
                [p for p in paths if p.exists()], prune=args.prune, rebuild=args.rebuild, progress=progress
            )
    finally:
        app.close()
    for result in report.results:
        if result.status == "failed":
            print(f"✗ {result.path}：{result.reason}")
        elif args.verbose or result.status == "removed":
            print(f"{STATUS_ZH[result.status]} {result.path}（{result.letter_id}，{result.chunks} 块）")
    print(report.summary_zh())
    return 1 if (missing or report.failures) and not (report.count("added") + report.count("updated")
                                                       + report.count("unchanged")) else 0


def cmd_letters(args: argparse.Namespace) -> int:
    app = _open(args)
    try:
        records = app.letters()
    finally:
        app.close()
    if args.json:
        _print_json([
            {"id": r.id, "source": r.source, "title": r.title, "issuer": r.issuer or None,
             "date": r.date or None, "channel": r.channel, "chunks": r.n_chunks}
            for r in records
        ])
        return 0
    for r in records:
        print(f"{r.id}\t{r.date or '日期不详'}\t{r.issuer or '单位不详'}\t{r.title}（{r.n_chunks} 块）")
    print(f"共 {len(records)} 封答复。")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    app = _open(args)
    try:
        results = app.remove(args.ids)
    finally:
        app.close()
    for r in results:
        print(f"已移除 {r.letter_id}" if r.status == "removed" else f"✗ {r.letter_id}：{r.reason}")
    return 0 if all(r.status == "removed" for r in results) else 1


# --- ask and eval ----------------------------------------------------------------------------
def _print_answer(answer) -> None:  # assistant.answer.Answer (imported lazily)
    from assistant.citation import references_block

    print(answer.text)
    if answer.citations:
        print()
        print("引用：")
        print(references_block(answer.citations))


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.evaluate import EvalInputError, answer_json, load_batch

    if (args.question is None) == (args.batch is None):
        print("错误：请给出一个问题，或用 --batch 指定问题文件（二者选一）。", file=sys.stderr)
        return 2
    if args.batch and args.history:
        print("错误：--history 只用于单个问题；批量提问时请写在每行的 history 字段里。", file=sys.stderr)
        return 2
    if args.question is not None and not args.question.strip():
        print("错误：问题不能为空。", file=sys.stderr)
        return 2
    try:
        batch = load_batch(Path(args.batch)) if args.batch else None
    except EvalInputError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    app = _open(args)
    try:
        if batch is None:
            answer = app.ask_with_history(args.question, args.history)
            if args.json:
                _print_json(answer_json(answer))
            else:
                _print_answer(answer)
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
                _print_answer(answer)
                print(flush=True)
        return 1 if failed else 0
    finally:
        app.close()


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluate import EvalInputError, evaluate_command

    try:
        return evaluate_command(
            _settings(args),
            questions_path=Path(args.questions),
            corpus=Path(args.corpus) if args.corpus else None,
            json_out=Path(args.json) if args.json else None,
            report_out=Path(args.report) if args.report else None,
            baseline=args.baseline,
            mins=args.min,
            maxs=args.max,
        )
    except EvalInputError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


# --- conversation in the terminal ------------------------------------------------------------
def cmd_chat(args: argparse.Namespace) -> int:
    from assistant.answer import Answer
    from assistant.citation import references_block

    app = _open(args)
    turns = []
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
                if answer.citations:
                    print("\n引用：\n" + references_block(answer.citations))
                turns.append(app.turn_of(answer))
    except KeyboardInterrupt:
        print()
    finally:
        app.close()
    return 0


# --- benchmarks ------------------------------------------------------------------------------
DEFAULT_BENCH_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "letters"


def cmd_bench(args: argparse.Namespace) -> int:
    from assistant.bench import bench_ask, bench_ingest, ingest_table

    settings = _settings(args)
    folder = Path(args.corpus) if args.corpus else DEFAULT_BENCH_CORPUS
    if not folder.is_dir():
        print(f"错误：找不到答复文件夹 {folder}（用 --corpus 指定）。", file=sys.stderr)
        return 2
    if args.what == "ingest":
        figures = bench_ingest(folder, settings, rounds=max(1, args.rounds))
        print(ingest_table(figures))
    else:
        questions = Path(args.questions)
        figures = bench_ask(folder, questions, settings)
        print(f"{figures['questions']} 个问题：首个 {figures['first_ms']:.0f} 毫秒；其余中位数 "
              f"{figures['median_ms']:.0f} 毫秒，p95 {figures['p95_ms']:.0f} 毫秒\n机器：{figures['machine']}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


# --- the page --------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported
    from assistant.auth import AuthConfigError, users_from_settings
    from assistant.ui import serve

    settings = _settings(args)
    host, port = args.host or settings.host, args.port or settings.port
    try:
        users = users_from_settings(settings)
    except AuthConfigError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    app = _open(args)
    try:
        try:
            demo = serve(app, host, port, users=users, prevent_thread_lock=True, quiet=True)
        except OSError as exc:
            print(f"错误：无法在 {host}:{port} 上启动网页（{exc}）。可用 --port 换一个端口。", file=sys.stderr)
            return 2
        shown = f"[{host}]" if ":" in host else host
        print(f"答复问答助手已启动：http://{shown}:{port}/ （按 Ctrl+C 停止）", flush=True)
        if host not in ("127.0.0.1", "localhost", "::1"):
            print("注意：页面对其他机器开放，" + ("已启用登录。" if users else
                  "但未设置登录（REPLYQA_AUTH_USERS 或 REPLYQA_AUTH_FILE），任何能访问本机的人都可使用。"), flush=True)
        demo.block_thread()
    finally:
        app.close()
    return 0


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

    p = sub.add_parser("ingest", help="导入或更新答复函（文件或文件夹）")
    p.add_argument("paths", nargs="+", help="文件或文件夹")
    p.add_argument("--prune", action="store_true", help="移除源文件已不存在的答复")
    p.add_argument("--rebuild", action="store_true", help="清空索引后重新导入")
    p.add_argument("-v", "--verbose", action="store_true", help="逐个列出每个文件的结果")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("letters", help="列出已建索引的答复")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.set_defaults(func=cmd_letters)

    p = sub.add_parser("remove", help="从索引中移除答复")
    p.add_argument("ids", nargs="+", help="答复编号（见 replyqa letters）")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("ask", help="提问，得到带引用的答案")
    p.add_argument("question", nargs="?", help="问题")
    p.add_argument("--history", action="append", default=[], metavar="更早的提问",
                   help="同一对话中更早的提问，按先后顺序，可重复")
    p.add_argument("--batch", metavar="FILE.jsonl", help='批量提问：每行 {"id", "question", "history"}')
    p.add_argument("--json", action="store_true", help="以 JSON 输出（批量时每行一个）")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="在评测集上评测，输出指标、JSON 和报告")
    p.add_argument("--questions", required=True, metavar="F.jsonl", help="评测集（每行一个问题）")
    p.add_argument("--corpus", metavar="DIR", help="先把该文件夹的答复导入临时索引再评测（不动现有索引）")
    p.add_argument("--json", metavar="OUT", help="把完整结果（每题的答案与指标）写成 JSON")
    p.add_argument("--report", metavar="OUT.md", help="写 Markdown 报告，图表 PNG 放在同名位置")
    p.add_argument("--baseline", action="store_true", help="同时评测 llama-index 默认流程，作为对比")
    p.add_argument("--min", action="append", default=[], metavar="指标=数值",
                   help="指标下限，如 hit@3=0.95；可重复；“类型:指标=数值”只看该类型的问题")
    p.add_argument("--max", action="append", default=[], metavar="指标=数值",
                   help="越低越好的指标的上限：false_refusal_rate、latency_p50_ms、latency_p95_ms")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("chat", help="在终端里连续对话（支持追问）")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("bench", help="性能测试：导入吞吐量或提问延迟")
    p.add_argument("what", choices=("ingest", "ask"), help="ingest：导入吞吐量；ask：提问延迟")
    p.add_argument("--corpus", help="答复文件夹（默认 ../shared/corpus/letters）")
    p.add_argument("--questions", default=str(Path(__file__).resolve().parents[1] / "eval" / "corpus.jsonl"),
                   help="bench ask 用的问题文件（JSONL）")
    p.add_argument("--rounds", type=int, default=3, help="bench ingest 三项轮流测几轮（取中位数，默认 3）")
    p.add_argument("--json", help="把结果另存为 JSON")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("serve", help="启动问答网页（默认只在本机 127.0.0.1 上）")
    p.add_argument("--host", help="监听地址（默认 127.0.0.1；0.0.0.0 表示对局域网开放）")
    p.add_argument("--port", type=int, help="端口（默认 7860）")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from index.embedding.errors import EmbedModelError
    from index.storage.records import StoreError

    try:
        return int(args.func(args) or 0)
    except (StoreError, EmbedModelError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
