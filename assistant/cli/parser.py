"""The `replyqa` argument parser: every command, option and Chinese help text in one place.

Each sub-command's `func` is its `cmd_*` function; importing the command modules is cheap
(their heavy imports are inside the commands), so building the parser loads nothing heavy.
"""

from __future__ import annotations

import argparse

from assistant.cli.asking import cmd_ask, cmd_chat
from assistant.cli.evaluation import DEFAULT_BENCH_QUESTIONS, cmd_bench, cmd_eval
from assistant.cli.indexing import cmd_ingest, cmd_letters, cmd_parse, cmd_remove
from assistant.cli.serving import cmd_serve


def build_parser() -> argparse.ArgumentParser:
    """Longer than a function should be, on purpose: one flat list of the sub-commands in the
    order `replyqa --help` shows them, each with its options, reads best unbroken."""
    parser = argparse.ArgumentParser(
        prog="replyqa", description="政府答复函问答助手：导入答复、提问、查看引用。"
    )
    parser.add_argument("--data-dir", help="索引所在目录（默认 REPLYQA_DATA_DIR）")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="解析答复函并输出其结构（不建索引）")
    p.add_argument("files", nargs="+", help="答复函文件（.txt .html .docx .pdf）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser(
        "ingest", help="导入或更新答复函（文件或文件夹）",
        description="导入或更新答复函（文件或文件夹）。内容与已导入答复相同的文件记为“重复”，不再导入。",
        epilog="退出状态：\n  0    全部文件已在索引中（含未变、重复）\n  1    没有文件导入成功\n"
               "  2    索引无法打开或写入（如磁盘已满、索引服务未启动）\n"
               "  3    部分文件失败，其余已导入\n  130  被中断",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", help="文件或文件夹")
    p.add_argument("--prune", action="store_true", help="移除源文件已不存在的答复")
    p.add_argument("--rebuild", action="store_true", help="清空索引后重新导入")
    p.add_argument("-v", "--verbose", action="store_true", help="逐个列出每个文件的结果")
    p.add_argument("--json", action="store_true",
                   help="以 JSON 输出报告：每个文件的 path、status、letter_id、chunks、reason，以及 exit_status")
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
    p.add_argument("--questions", required=True, nargs="+", metavar="F.jsonl", help="评测集（每行一个问题；可给多个）")
    p.add_argument("--split", choices=("test", "train"),
                   help="只评测留出集（test）或训练集（train）的问题，划分见 eval/split.toml")
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

    p = sub.add_parser("bench", help="性能测试：导入吞吐量、提问延迟、命令启动时间、规模、并发")
    p.add_argument("what", choices=("ingest", "ask", "startup", "scale", "load", "recovery"),
                   help="ingest：导入吞吐量；ask：提问延迟；startup：各命令从启动到结束的用时；scale：不同规模的索引；"
                        "load：多用户同时使用网页；recovery：Chroma 服务器重启后网页多久恢复回答")
    p.add_argument("--corpus", help="答复文件夹（默认 ../shared/corpus/letters）")
    p.add_argument("--questions", default=str(DEFAULT_BENCH_QUESTIONS),
                   help="bench ask / scale / load 用的问题文件（JSONL）")
    p.add_argument("--rounds", type=int, default=3,
                   help="bench ingest / startup 轮流测几轮、recovery 重启几次（取中位数，默认 3）")
    p.add_argument("--sizes", default="1000,10000,100000,300000", help="bench scale 的索引规模（分块数，逗号分隔）")
    p.add_argument("--real", nargs="+", metavar="DIR",
                   help="bench scale 的真实答复文件夹（默认共享语料和示例答复）；其余分块由它们变化而来")
    p.add_argument("--ingest-letters", type=int, default=40, help="bench scale 每个规模测导入速度用的答复数")
    p.add_argument("--work", help="bench scale 放索引的文件夹（默认临时文件夹，结束后删除）")
    p.add_argument("--chart", metavar="OUT.png", help="bench scale 的双对数图")
    p.add_argument("--users", default="1,5,10,20", help="bench load 同时使用的用户数（逗号分隔，逐一测）")
    p.add_argument("--turns", type=int, default=5, help="bench load 每个用户一轮对话的提问数")
    p.add_argument("--pause", default="0", help="bench load 每个用户两次提问的间隔秒数（逗号分隔，逐一测；0 为不停顿）")
    p.add_argument("--limit", type=float, default=300.0, help="bench load 每轮的时间上限（秒）")
    p.add_argument("--down", type=float, default=0.0, help="bench recovery 每次停掉 Chroma 服务器多少秒（默认 0）")
    p.add_argument("--json", help="把结果另存为 JSON")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("serve", help="启动问答网页（默认只在本机 127.0.0.1 上）")
    p.add_argument("--host", help="监听地址（默认 127.0.0.1；0.0.0.0 表示对局域网开放）")
    p.add_argument("--port", type=int, help="端口（默认 7860）")
    p.set_defaults(func=cmd_serve)
    return parser

