"""`bench scale` and `bench load` at a small size: every figure there, of the right kind, from
real `replyqa serve` processes. Shape, not speed: no figure is compared with a time. (`bench
recovery` times the page through `restart_and_time`, which `tests/cli/test_chroma_restart.py`
runs.)"""

from __future__ import annotations

import json
import math
from pathlib import Path

from assistant.cli.parser import build_parser
from assistant.evaluation.load import bench_load, conversations
from assistant.evaluation.scale import STAGES, bench_scale, scale_chart, scale_table
from index.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "letters"
QUESTIONS = ROOT / "eval" / "samples.jsonl"


def test_scale_bench_measures_every_size(tmp_path: Path, models_dir: Path, export_dir: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", models_dir=models_dir, chroma_host=None)
    figures = bench_scale(settings, real=[SAMPLES], questions=QUESTIONS, sizes=(200,), ingest_letters=2,
                          serve_questions=2, work=tmp_path / "work", progress=lambda _: None)
    rows = figures["rows"]
    assert [r["target"] for r in rows] == [200]
    assert rows[0]["chunks"] >= 200 > rows[0]["real_chunks"], "made letters fill the index up to the size"
    for row in rows:
        assert row["real_chunks"] > 0 and row["ingest_chunks"] > 0
        assert row["first_answer_found"], "the page's first answer is an answer"
        assert row["fresh_s"] is not None, "a letter ingested by another process became answerable"
        for key in ("ingest_chunks_per_s", "ingest_vs_empty", "first_answer_s", "serve_rss_mb", "disk_mb",
                    "ask_p50_ms", "ask_p95_ms", "ask_first_ms", "cache_update_s", "empty_chunks_per_s",
                    "ingest_rest_ms_per_chunk", "empty_rest_ms_per_chunk"):
            assert math.isfinite(row[key]) and row[key] > 0, key
        for stage in STAGES:
            assert row[f"{stage}_p95_ms"] >= row[f"{stage}_p50_ms"] >= 0
        assert row["ask_p95_ms"] >= row["ask_p50_ms"]
    table = scale_table(figures)
    assert len(table.splitlines()) == 2 + len(rows)
    chart = tmp_path / "scale.png"
    scale_chart(figures, chart)
    assert chart.read_bytes()[:4] == b"\x89PNG"
    json.dumps(figures)  # what --json writes
    assert not (tmp_path / "work" / "index").exists() or (tmp_path / "work" / "index" / "chroma").is_dir()


def test_load_bench_asks_at_once_and_gets_the_answers_given_alone(
    tmp_path: Path, models_dir: Path, export_dir: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", models_dir=models_dir, chroma_host=None)
    figures = bench_load(settings, corpus=SAMPLES, questions=QUESTIONS, users=(1, 3), turns=3, pauses=(0.0,),
                         limit_s=240, work=tmp_path / "work", progress=lambda _: None)
    assert [r["users"] for r in figures["rounds"]] == [1, 3]
    for r in figures["rounds"]:
        assert r["errors"] == 0 and r["different"] == 0, r
        assert r["questions"] == r["users"] * 3
        assert r["questions_per_s"] > 0 and r["p95_ms"] >= r["p50_ms"] > 0
    assert figures["endpoint"].startswith("/ask")


def test_conversations_end_in_a_follow_up_after_the_questions_it_follows() -> None:
    items = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    plans = conversations(items, users=4, turns=5)
    follow_ups = {i["question"]: i["history"] for i in items if i.get("history")}
    assert len(plans) == 4
    for plan in plans:
        assert len(plan) == 5
        last = plan[-1]
        assert last.question in follow_ups
        assert list(last.history[-len(follow_ups[last.question]):]) == follow_ups[last.question]
        assert all(turn.history == tuple(t.question for t in plan[:n]) for n, turn in enumerate(plan))


def test_the_command_line_knows_the_benches() -> None:
    args = build_parser().parse_args(["bench", "scale", "--sizes", "1000,10_000", "--chart", "x.png"])
    assert args.what == "scale" and args.sizes == "1000,10_000" and args.chart == "x.png"
    args = build_parser().parse_args(["bench", "load", "--users", "1,20", "--pause", "0,5"])
    assert args.what == "load" and args.users == "1,20" and args.pause == "0,5"
    args = build_parser().parse_args(["bench", "recovery", "--rounds", "5", "--down", "20"])
    assert args.what == "recovery" and args.rounds == 5 and args.down == 20.0
