"""Commands about letters and the index: `parse` (no index at all), `ingest`, `letters`,
`remove`.

Only `ingest` needs the embedding model. `parse` reads files with `index.reading` only, never
opening the service or Chroma; `letters` and `remove` open the index as a catalogue
(`assistant.catalog`), which reads the model the index was built with from the index itself —
so all three start in about a second.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.cli.common import open_app, open_catalog, print_json
from assistant.cli.progress import IngestMeter
from index.reading.outline import SECTION_NAMES

if TYPE_CHECKING:
    from index.pipeline import FileResult


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
        print_json(results)
    else:
        for item in results:
            print_letter_summary(item)
    return 1 if failed and failed == len(results) else 0


def print_letter_summary(item: dict[str, object]) -> None:
    """One `letter_json` (or its error) as the fields and outline a reader checks first."""
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
            label = sec["label"] or SECTION_NAMES.get(str(sec["kind"]), "")
            print(f"    {'  ' * depth}· {label} {sec['heading']}".rstrip())
            outline(sec["children"], depth + 1)  # type: ignore[arg-type]

    outline(item["sections"], 0)  # type: ignore[arg-type]


INGEST_OK, INGEST_NOTHING, INGEST_PARTIAL = 0, 1, 3
"""`replyqa ingest`'s exit statuses (2 and 130 are `main`'s: the index could not be opened,
interrupted): 0 every file is in the index (added, updated, unchanged, or a duplicate of one
that is); 1 none is (every file failed or is missing); 3 some failed and the rest are in."""


def ingest_status(results: Sequence[FileResult]) -> int:
    """A script must tell partial failure from success without parsing Chinese output."""
    failed = sum(1 for r in results if r.status == "failed")
    if not failed:
        return INGEST_OK
    return INGEST_PARTIAL if any(r.status not in ("failed", "removed") for r in results) else INGEST_NOTHING


def cmd_ingest(args: argparse.Namespace) -> int:
    from index.pipeline import STATUS_ZH, FileResult, discover

    paths = [Path(p) for p in args.paths]
    missing = [FileResult(str(p), "failed", reason="文件或文件夹不存在") for p in paths if not p.exists()]
    if not args.json:
        for r in missing:
            print(f"✗ {r.path}：{r.reason}", file=sys.stderr)
    present = [p for p in paths if p.exists()]
    meter = IngestMeter(len(discover(present)))
    meter.show("正在加载嵌入模型…")
    app = open_app(args)
    try:
        report = app.ingest(present, prune=args.prune, rebuild=args.rebuild, progress=meter.written,
                            on_read=meter.read)
    finally:
        meter.close()
        app.close()
    results = missing + report.results
    status = ingest_status(results)
    if args.json:
        print_json({
            "exit_status": status,
            "summary": {s: sum(1 for r in results if r.status == s) for s in STATUS_ZH},
            "seconds": round(report.seconds, 3),
            "files": [{"path": r.path, "status": r.status, "status_zh": STATUS_ZH[r.status],
                       "letter_id": r.letter_id, "chunks": r.chunks, "reason": r.reason or None} for r in results],
        })
        return status
    for result in report.results:
        if result.status == "failed":
            print(f"✗ {result.path}：{result.reason}")
        elif result.status == "duplicate":
            print(f"重复 {result.path}：{result.reason}")
        elif args.verbose or result.status == "removed":
            print(f"{STATUS_ZH[result.status]} {result.path}（{result.letter_id}，{result.chunks} 块）")
    print(report.summary_zh())
    return status


def cmd_letters(args: argparse.Namespace) -> int:
    catalog = open_catalog(args)
    try:
        records = catalog.letters()
    finally:
        catalog.close()
    if args.json:
        print_json([
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
    catalog = open_catalog(args)
    try:
        results = catalog.remove(args.ids)
    finally:
        catalog.close()
    for r in results:
        print(f"已移除 {r.letter_id}" if r.status == "removed" else f"✗ {r.letter_id}：{r.reason}")
    return 0 if all(r.status == "removed" for r in results) else 1
