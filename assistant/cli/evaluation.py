"""Measuring the assistant: `eval` (answer quality on a question set, optionally against the
llama-index baseline) and `bench` (ingest throughput, ask latency, each command's start-up) —
the commands behind the README's figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.cli.common import REPO, error, settings_of

DEFAULT_BENCH_CORPUS = REPO.parent / "shared" / "corpus" / "letters"
DEFAULT_BENCH_QUESTIONS = REPO / "eval" / "corpus.jsonl"
DEFAULT_SCALE_REAL = (DEFAULT_BENCH_CORPUS, REPO / "samples" / "letters")


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation.dataset import EvalInputError
    from assistant.evaluation.runner import evaluate_command

    try:
        return evaluate_command(
            settings_of(args),
            questions_paths=[Path(q) for q in args.questions],
            split=args.split,
            corpus=Path(args.corpus) if args.corpus else None,
            json_out=Path(args.json) if args.json else None,
            report_out=Path(args.report) if args.report else None,
            baseline=args.baseline,
            mins=args.min,
            maxs=args.max,
        )
    except EvalInputError as exc:
        return error(str(exc))


def _numbers(text: str, kind: type = int) -> list:
    return [kind(part.replace("_", "")) for part in text.split(",") if part.strip()]


def cmd_bench(args: argparse.Namespace) -> int:
    from assistant.evaluation.bench import bench_ask, bench_ingest, ingest_table

    settings = settings_of(args)
    folder = Path(args.corpus) if args.corpus else DEFAULT_BENCH_CORPUS
    if args.what == "scale":
        return _bench_scale(args, settings)
    if not folder.is_dir():
        return error(f"找不到答复文件夹 {folder}（用 --corpus 指定）。")
    if args.what == "load":
        from assistant.evaluation.load import bench_load

        figures = bench_load(settings, corpus=folder, questions=Path(args.questions), users=_numbers(args.users),
                             turns=args.turns, pauses=_numbers(args.pause, float), limit_s=args.limit)
    elif args.what == "recovery":
        from assistant.evaluation.recovery import bench_recovery, recovery_summary

        figures = bench_recovery(settings, corpus=folder, questions=Path(args.questions), trials=max(1, args.rounds),
                                 down_s=args.down)
        print(recovery_summary(figures))
    elif args.what == "ingest":
        figures = bench_ingest(folder, settings, rounds=max(1, args.rounds))
        print(ingest_table(figures))
    elif args.what == "startup":
        from assistant.evaluation.startup import bench_startup, startup_table

        figures = bench_startup(folder, settings, rounds=max(1, args.rounds))
        print(startup_table(figures))
    else:
        questions = Path(args.questions)
        figures = bench_ask(folder, questions, settings)
        print(f"{figures['questions']} 个问题：首个 {figures['first_ms']:.0f} 毫秒；其余中位数 "
              f"{figures['median_ms']:.0f} 毫秒，p95 {figures['p95_ms']:.0f} 毫秒\n机器：{figures['machine']}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


def _bench_scale(args: argparse.Namespace, settings: object) -> int:
    from assistant.evaluation.scale import bench_scale, scale_chart, scale_table

    real = [Path(p) for p in args.real or ([args.corpus] if args.corpus else DEFAULT_SCALE_REAL)]
    missing = [p for p in real if not p.is_dir()]
    if missing:
        return error(f"找不到答复文件夹 {missing[0]}（用 --real 指定真实答复所在的文件夹）。")
    work = Path(args.work) if args.work else None

    def keep(so_far: dict[str, object]) -> None:
        if args.json:
            Path(args.json).write_text(json.dumps(so_far, ensure_ascii=False, indent=2), encoding="utf-8")
        if args.chart:
            scale_chart(so_far, Path(args.chart))

    figures = bench_scale(settings, real=real, questions=Path(args.questions), sizes=_numbers(args.sizes),  # type: ignore[arg-type]
                          ingest_letters=args.ingest_letters, work=work, on_row=keep)
    print(scale_table(figures))
    print(f"机器：{figures['machine']}")
    if args.chart:
        scale_chart(figures, Path(args.chart))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0
