"""`replyqa` — the command line. A skin over the same services the page uses: `parser` says
what can be typed; `indexing` (parse, ingest, letters, remove), `asking` (ask, chat),
`evaluation` (eval, bench) and `serving` (serve) do it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from assistant.cli.parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: the command's exit code; 2 for a failure the user can act on (an
    index that cannot be opened, a missing or mismatched model), 130 when interrupted."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        if not _reportable(exc):
            raise
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


def _reportable(exc: Exception) -> bool:
    """Imported only once something failed: `index.storage` loads chromadb, which `replyqa parse`
    never needs (importing it took 0.6 s of the 0.86 s `replyqa parse` needed before)."""
    from index.embedding.errors import EmbedModelError
    from index.storage.records import StoreError

    return isinstance(exc, StoreError | EmbedModelError)
