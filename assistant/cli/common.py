"""What every command shares: settings from the global options, the service opened lazily,
and the few ways the command line prints.

Nothing heavy is imported at module level (here or in any command module): torch, chromadb
and gradio load inside the commands that need them, so that `replyqa parse` and
`replyqa --help` start at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from index.settings import Settings

if TYPE_CHECKING:
    from assistant.ask.citation import Citation
    from assistant.catalog import Catalog
    from assistant.service import ReplyQA

REPO = Path(__file__).resolve().parents[2]
"""The checkout: the default benchmark questions live in it, the shared corpus beside it."""


def settings_of(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Path] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    return Settings(**overrides)


def open_app(args: argparse.Namespace) -> ReplyQA:
    from assistant.service import ReplyQA

    return ReplyQA.open(settings_of(args))


def open_catalog(args: argparse.Namespace) -> Catalog:
    """The index without the model, for commands that only list or remove letters."""
    from assistant.catalog import Catalog

    return Catalog.open(settings_of(args))


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def print_references(citations: list[Citation]) -> None:
    """The numbered references under an answer, after a blank line; nothing without citations."""
    from assistant.ask.citation import references_block

    if citations:
        print()
        print("引用：")
        print(references_block(citations))


def error(message: str, code: int = 2) -> int:
    """Say what is wrong on stderr, in the user's words; the command's exit code."""
    print(f"错误：{message}", file=sys.stderr)
    return code
