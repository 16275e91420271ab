"""`replyqa bench scale`: one index grown through the sizes asked for (1 k, 10 k, 100 k, 300 k
chunks by default), measured at each.

The real letters (the shared corpus and our samples) are ingested first, with the real model;
every chunk beyond them comes from letters made from the real ones (`synthetic`: names and
numbers varied, vectors near their source's real ones). At each size, in this order:

- ingest: a fresh batch of made letters through the real pipeline and the real model, chunks/s,
  and the same against the first batch, ingested into an empty index in the same run;
- the derived caches (BM25, word index) brought up to date, as the next process finds them;
- `replyqa serve` started cold (a new process, caches on disk): seconds until it gives its first
  answer through the page's API, then its memory after a round of questions, then how long after
  `replyqa ingest` (another process) commits a new letter the running page answers from it;
- ask latency in process, per stage (query embedding, Chroma, BM25, fusion, answer), the first
  question apart; and the index's size on disk.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.evaluation.bench import machine
from assistant.evaluation.served import ask, cli, connect, serving
from assistant.evaluation.synthetic import fill, made_letters, read_sources
from index.settings import Settings

DEFAULT_SIZES = (1_000, 10_000, 100_000, 300_000)
INGEST_LETTERS = 40
SERVE_QUESTIONS = 20
FRESH_TIMEOUT_S = 120.0
STAGES = ("embed", "chroma", "bm25", "fusion", "answer")

NEW_LETTER = """{place}{bureau}关于县第{number}号建议的答复

　　您提出的《关于在{place}修建{thing}的建议》收悉，现答复如下：
　　{place}{thing}项目已列入今年县级重点工程，总投资{money}万元，计划于{year}年底前建成。
　　感谢您对我县工作的关心和支持。

{place}{bureau}
{year}年5月6日

【示例（虚构）：本答复为性能测试用虚构文本，所涉地名、单位和数据均为虚构】
"""


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def load_questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def bench_scale(
    settings: Settings,
    *,
    real: Sequence[Path],
    questions: Path,
    sizes: Sequence[int] = DEFAULT_SIZES,
    ingest_letters: int = INGEST_LETTERS,
    serve_questions: int = SERVE_QUESTIONS,
    work: Path | None = None,
    progress: Any = print,
    on_row: Any = None,
) -> dict[str, Any]:
    """Every figure of every size; `work` (a temporary folder by default) holds the index and
    is removed afterwards when temporary. `on_row` gets the figures so far after each size: a
    run of hours stopped at its largest size keeps the smaller ones."""
    if work is None:
        with tempfile.TemporaryDirectory(prefix="replyqa-scale-") as tmp:
            return bench_scale(settings, real=real, questions=questions, sizes=sizes, ingest_letters=ingest_letters,
                               serve_questions=serve_questions, work=Path(tmp), progress=progress, on_row=on_row)
    from index.embedding.split import open_embedder
    from index.pipeline import ingest
    from index.storage.cachefiles import default_cache_dir
    from index.storage.store import ChunkStore
    from index.tokenizer import ChineseTokenizer

    big = settings.scratch(work / "index")
    embedder = open_embedder(big)  # questions as every process asks them: without torch
    tokenizer = ChineseTokenizer(bigrams=big.bm25_bigrams, cache_dir=default_cache_dir(big))
    asked = load_questions(questions)
    sources = read_sources(real, big, embedder, tokenizer)
    progress(f"模板答复 {len(sources)} 封（真实向量）")
    batches = made_letters(sources, work / "ingest-batches", start=9_000_000, seed=99)

    def batch(n: int) -> Path:
        folder = work / f"batch-{time.monotonic_ns()}"
        folder.mkdir()
        for _ in range(n):
            path, _ = next(batches)
            path.rename(folder / path.name)
        return folder

    timed = _Timed(embedder)

    def into_empty(name: str) -> tuple[Any, float]:
        """A batch ingested into a new empty index: the rate to compare a size's with, taken
        right beside it (the model's speed moves with the load on the machine)."""
        empty = settings.scratch(work / name)
        timed.seconds = 0.0
        with ChunkStore.open(empty, model_id=embedder.model_id, dimension=embedder.dimension) as store:
            report = ingest([batch(ingest_letters)], empty, store, timed)
        shutil.rmtree(work / name, ignore_errors=True)
        return report, timed.seconds

    report, _ = into_empty("empty")
    empty_rate = report.embedded_chunks / report.seconds
    progress(f"空索引导入：{report.embedded_chunks} 块，{empty_rate:.1f} 块/秒")

    rows: list[dict[str, Any]] = []
    figures: dict[str, Any] = {"rows": rows, "empty_ingest_chunks_per_s": empty_rate, "questions": len(asked),
                               "machine": machine(), "model": embedder.model_id, "precision": embedder.precision}
    made_start = 0
    store = ChunkStore.open(big, model_id=embedder.model_id, dimension=embedder.dimension)
    try:
        real_report = ingest(list(real), big, store, embedder)
        figures["real_letters"] = real_report.count("added")
        real_chunks = sum(r.n_chunks for r in store.records().values())
        for size in sorted(sizes):
            row: dict[str, Any] = {"target": size}
            batch_chunks = report.embedded_chunks
            started = time.perf_counter()
            filled = fill(store, big, sources, work / "made", until_chunks=max(0, size - batch_chunks),
                          start=made_start)
            made_start += filled.letters + 1
            row["fill_s"] = time.perf_counter() - started
            beside, beside_embed_s = into_empty(f"empty-{size}")
            timed.seconds = 0.0
            measured = ingest([batch(ingest_letters)], big, store, timed)
            filled = fill(store, big, sources, work / "made", until_chunks=size, start=made_start)
            made_start += filled.letters + 1
            row["ingest_chunks"] = measured.embedded_chunks
            row["ingest_chunks_per_s"] = measured.embedded_chunks / measured.seconds
            row["empty_chunks_per_s"] = beside.embedded_chunks / beside.seconds
            row["ingest_vs_empty"] = row["ingest_chunks_per_s"] / row["empty_chunks_per_s"]
            row["ingest_rest_ms_per_chunk"] = (measured.seconds - timed.seconds) * 1000 / measured.embedded_chunks
            row["empty_rest_ms_per_chunk"] = (beside.seconds - beside_embed_s) * 1000 / beside.embedded_chunks
            records = store.records()
            row["letters"] = len(records)
            row["chunks"] = sum(r.n_chunks for r in records.values())
            row["real_chunks"] = real_chunks
            row["cache_update_s"] = _update_caches(big, store, embedder, tokenizer)
            store.close()
            progress(f"{row['chunks']} 块：导入 {row['ingest_chunks_per_s']:.1f} 块/秒（同时测的空索引 "
                     f"{row['empty_chunks_per_s']:.1f} 块/秒；模型以外每块 {row['ingest_rest_ms_per_chunk']:.0f} 毫秒，"
                     f"空索引 {row['empty_rest_ms_per_chunk']:.0f} 毫秒），"
                     f"缓存更新 {row['cache_update_s']:.1f} 秒")
            row.update(_served_figures(big, work, asked, serve_questions, size))
            row.update(_ask_figures(big, embedder, tokenizer, asked))
            row["disk_mb"] = disk_mb(work / "index")
            progress(_row_line(row))
            rows.append(row)
            if on_row is not None:
                on_row(figures)
            store = ChunkStore.open(big, model_id=embedder.model_id, dimension=embedder.dimension)
    finally:
        store.close()
    return figures


class _Timed:
    """The embedder, adding up the seconds its documents take: what an ingest spends apart
    from the model (reading, Chroma writes, commits) is what may grow with the index."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.embedder, name)

    def embed_documents(self, texts: list[str], on_batch: Any = None) -> Any:
        started = time.perf_counter()
        try:
            return self.embedder.embed_documents(texts, on_batch=on_batch)
        finally:
            self.seconds += time.perf_counter() - started


def _update_caches(settings: Settings, store: Any, embedder: Any, tokenizer: Any) -> float:
    from assistant.service import ReplyQA

    started = time.perf_counter()
    app = ReplyQA(settings, embedder, store, tokenizer)
    app.library.snapshot()
    app.library.save_if_due()
    app.library.close()
    return time.perf_counter() - started


def _served_figures(settings: Settings, work: Path, asked: Sequence[str], n: int, size: int) -> dict[str, Any]:
    from index.storage.store import ChunkStore

    out: dict[str, Any] = {}
    with serving(settings, work / f"serve-{size}.log") as served:
        client = connect(served)
        first = ask(client, asked[0])
        out["first_answer_s"] = time.monotonic() - served.started
        out["first_answer_found"] = bool(first.get("found"))
        for question in asked[1 : 1 + n]:
            ask(client, question)
        out["serve_rss_mb"], out["serve_peak_mb"] = served.rss_mb()
        # New to the index on every run: with `--work` the index is kept, and a letter an
        # earlier run already added would be "answerable" before this run's ingest.
        salt = size + time.time_ns() // 1_000_000
        place = f"样{salt % 997:03d}湾"
        money = 1000 + salt % 8999
        letter = work / f"fresh-{size}.txt"
        letter.write_text(NEW_LETTER.format(place=place, bureau="交通运输局", number=size % 500 + 1, thing="观景栈道",
                                            money=money, year=2024), encoding="utf-8")
        seen: dict[str, float] = {}

        def watch() -> None:
            deadline = time.monotonic() + FRESH_TIMEOUT_S + 600
            while time.monotonic() < deadline and "at" not in seen:
                answer = ask(client, f"{place}观景栈道总投资多少？")
                if answer.get("found") and f"{money}万元" in str(answer.get("text")):
                    seen["at"] = time.time()
                    return
                time.sleep(0.2)

        poller = threading.Thread(target=watch, daemon=True)
        poller.start()
        result = cli(settings, "ingest", str(letter))
        poller.join(timeout=FRESH_TIMEOUT_S)
        if result.returncode != 0:
            raise RuntimeError(f"replyqa ingest 失败：{result.stderr[-2000:]}")
        model_id, dimension = _meta(settings)
        with ChunkStore.open(settings, model_id=model_id, dimension=dimension) as store:
            committed = store.records()[letter.stem].committed_at
        out["fresh_s"] = seen["at"] - committed if "at" in seen else None
    return out


def _meta(settings: Settings) -> tuple[str, int]:
    """The model and dimension the index was built with, from its collection (no model load)."""
    from index.storage.chroma import close_client, connect

    client = connect(settings)
    try:
        meta = client.get_collection(f"{settings.collection}-chunks").metadata or {}
        return str(meta["embed_model"]), int(meta["dimension"])
    finally:
        close_client(client)


def _ask_figures(settings: Settings, embedder: Any, tokenizer: Any, asked: Sequence[str]) -> dict[str, Any]:
    """Latency of every question in this process, by stage; the rewrite, analysis and answer
    steps after retrieval count as `answer`."""
    from assistant.ask import pipeline
    from assistant.service import ReplyQA
    from index.storage.store import ChunkStore

    store = ChunkStore.open(settings, model_id=embedder.model_id, dimension=embedder.dimension)
    app = ReplyQA(settings, embedder, store, tokenizer)
    totals: list[float] = []
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    try:
        for question in asked:
            started = time.perf_counter()
            examined = app.examine(question)
            pipeline.extractive_answer(app.asking, question, examined)
            total = (time.perf_counter() - started) * 1000
            totals.append(total)
            timings = examined.retrieval.timings
            for stage in STAGES[:-1]:
                stages[stage].append(timings.get(stage, 0.0))
            stages["answer"].append(total - sum(timings.values()))
    finally:
        app.close()
        store.close()
    rest = totals[1:]
    out: dict[str, Any] = {"ask_first_ms": totals[0], "ask_p50_ms": statistics.median(rest),
                           "ask_p95_ms": percentile(rest, 0.95)}
    for stage, values in stages.items():
        out[f"{stage}_p50_ms"] = statistics.median(values[1:])
        out[f"{stage}_p95_ms"] = percentile(values[1:], 0.95)
    return out


def _row_line(row: dict[str, Any]) -> str:
    fresh = f"{row['fresh_s']:.1f} 秒" if row.get("fresh_s") is not None else "未出现"
    return (f"{row['chunks']} 块 / {row['letters']} 封：提问中位数 {row['ask_p50_ms']:.0f} 毫秒，p95 "
            f"{row['ask_p95_ms']:.0f} 毫秒；冷启动到首个回答 {row['first_answer_s']:.1f} 秒；serve 内存 "
            f"{row['serve_rss_mb']:.0f} MB；新答复 {fresh} 后可答；磁盘 {row['disk_mb']:.0f} MB")


def scale_table(figures: dict[str, Any]) -> str:
    head = ("| chunks | letters | ask p50 | ask p95 | embed | Chroma | BM25 | fusion | answer | first answer | "
            "serve RSS | new letter answerable | ingest chunks/s (vs empty) | ingest besides the model, ms/chunk "
            "(empty) | disk |")
    lines = [head, "|" + "---:|" * 15]
    for r in figures["rows"]:
        fresh = f"{r['fresh_s']:.1f} s" if r.get("fresh_s") is not None else "—"
        stages = " | ".join(f"{r[f'{s}_p50_ms']:.0f} / {r[f'{s}_p95_ms']:.0f}" for s in STAGES)
        lines.append(
            f"| {r['chunks']:,} | {r['letters']:,} | {r['ask_p50_ms']:.0f} ms | {r['ask_p95_ms']:.0f} ms | {stages} | "
            f"{r['first_answer_s']:.1f} s | {r['serve_rss_mb']:.0f} MB | {fresh} | "
            f"{r['ingest_chunks_per_s']:.1f} ({r['ingest_vs_empty']:.2f}×) | "
            f"{r['ingest_rest_ms_per_chunk']:.0f} ({r['empty_rest_ms_per_chunk']:.0f}) | {r['disk_mb']:.0f} MB |"
        )
    return "\n".join(lines)


def scale_chart(figures: dict[str, Any], path: Path) -> None:
    """Log-log: latency per stage and overall against chunks, and start-up, memory, freshness."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = figures["rows"]
    x = [r["chunks"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(x, [r["ask_p50_ms"] for r in rows], "o-", color="black", label="ask p50")
    left.plot(x, [r["ask_p95_ms"] for r in rows], "o--", color="black", label="ask p95")
    for stage in STAGES:
        left.plot(x, [max(r[f"{stage}_p50_ms"], 0.1) for r in rows], ".-", label=f"{stage} p50")
    left.set(xscale="log", yscale="log", xlabel="chunks", ylabel="ms", title="ask latency")
    left.legend(fontsize=7)
    right.plot(x, [r["first_answer_s"] for r in rows], "o-", label="cold start → first answer (s)")
    right.plot(x, [r["serve_rss_mb"] / 1000 for r in rows], "s-", label="serve RSS (GB)")
    right.plot(x, [r["fresh_s"] or float("nan") for r in rows], "^-", label="new letter answerable (s)")
    right.plot(x, [r["disk_mb"] / 1000 for r in rows], "d-", label="disk (GB)")
    right.set(xscale="log", yscale="log", xlabel="chunks", title="start-up, memory, freshness, disk")
    right.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
