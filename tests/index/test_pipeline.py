"""Ingestion against a real Chroma (embedded and `chroma run`) with the real embedding model:
nothing lost, nothing duplicated, nothing half-written — also when the process is killed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.embedding.embedder import Embedder
from index.pipeline import discover, ingest, prune_missing, remove
from index.settings import Settings
from index.storage.store import ChunkStore

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "letters"
CORPUS = ROOT.parent / "shared" / "corpus" / "letters"


def _open(settings: Settings, embedder: Embedder) -> ChunkStore:
    return ChunkStore.open(settings, model_id=embedder.model_id, dimension=embedder.dimension)


def _snapshot(store: ChunkStore) -> dict[str, str]:
    """Visible chunk id → text, plus the raw count of stored chunks (duplicates would show)."""
    store.refresh()
    chunks = {c.id: c.text for c in store.committed_chunks()}
    assert store.count_chunks() == len(chunks), "stored chunks that no letter owns"
    return chunks


@pytest.fixture
def letters_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "letters"
    folder.mkdir()
    for name in ("qh-jt-2023-058.txt", "lj-sl-2022-015.txt", "wx-nync-2023-036.txt", "qh-zj-2022-027.html"):
        shutil.copy(SAMPLES / name, folder / name)
    return folder


def test_ingest_reingest_edit_remove_prune_rebuild(
    store_settings: Settings, embedder: Embedder, letters_dir: Path
) -> None:
    with _open(store_settings, embedder) as store:
        first = ingest([letters_dir], store_settings, store, embedder)
        assert (first.count("added"), first.count("failed")) == (4, 0)
        before = _snapshot(store)
        assert {r.id for r in store.letters()} == {
            "qh-jt-2023-058", "lj-sl-2022-015", "wx-nync-2023-036", "qh-zj-2022-027"
        }

        again = ingest([letters_dir], store_settings, store, embedder)
        assert again.count("unchanged") == 4 and again.embedded_chunks == 0
        assert _snapshot(store) == before

        edited = letters_dir / "lj-sl-2022-015.txt"
        edited.write_text(edited.read_text(encoding="utf-8").replace("北山水厂", "南山水厂"), encoding="utf-8")
        update = ingest([letters_dir], store_settings, store, embedder)
        assert (update.count("updated"), update.count("unchanged")) == (1, 3)
        after = _snapshot(store)
        old = {k: v for k, v in before.items() if k.startswith("lj-sl-2022-015::")}
        new = {k: v for k, v in after.items() if k.startswith("lj-sl-2022-015::")}
        assert not set(old) & set(new), "the edited letter's old chunks are gone"
        assert any("南山水厂" in text for text in new.values())
        assert not any("北山水厂" in text for text in new.values())
        others = {k: v for k, v in before.items() if not k.startswith("lj-sl-2022-015::")}
        assert {k: after[k] for k in others} == others, "other letters untouched"

        removed = remove(["wx-nync-2023-036", "no-such-letter"], store_settings, store)
        assert [r.status for r in removed] == ["removed", "failed"]
        assert not any(k.startswith("wx-nync-2023-036::") for k in _snapshot(store))

        (letters_dir / "qh-zj-2022-027.html").unlink()
        pruned = prune_missing(store)
        assert [r.letter_id for r in pruned] == ["qh-zj-2022-027"]
        remaining = _snapshot(store)
        assert {k.split("::")[0] for k in remaining} == {"qh-jt-2023-058", "lj-sl-2022-015"}

        rebuilt = ingest([letters_dir], store_settings, store, embedder, rebuild=True)
        assert rebuilt.count("added") == 3
        assert {k.split("::")[0] for k in _snapshot(store)} == {
            "qh-jt-2023-058", "lj-sl-2022-015", "wx-nync-2023-036"
        }


def test_a_broken_file_is_reported_and_the_batch_goes_on(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "lj-wj-2024-022.txt", folder)
    shutil.copy(ROOT / "samples" / "broken" / "scanned.pdf", folder)
    (folder / "empty.txt").write_bytes(b"")
    with _open(settings, embedder) as store:
        report = ingest([folder], settings, store, embedder)
        assert report.count("added") == 1
        reasons = {Path(r.path).name: r.reason for r in report.failures}
        assert set(reasons) == {"scanned.pdf", "empty.txt"}
        assert "文字层" in reasons["scanned.pdf"] and "空" in reasons["empty.txt"]
        assert [r.id for r in store.letters()] == ["lj-wj-2024-022"]


def test_same_file_name_in_two_folders_gives_two_letters(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    for sub, other in (("a", "lj-zr-2019-027.txt"), ("b", "lj-sl-2022-015.txt")):
        (tmp_path / sub).mkdir()  # two different letters (the same one twice is a duplicate)
        shutil.copy(SAMPLES / other, tmp_path / sub / "letter.txt")
    with _open(settings, embedder) as store:
        ingest([tmp_path / "a", tmp_path / "b"], settings, store, embedder)
        assert sorted(r.id for r in store.letters()) == ["letter", "letter-2"]
        again = ingest([tmp_path / "b"], settings, store, embedder)
        assert again.count("unchanged") == 1, "the same path keeps its id"


def _ingest_command(data_dir: Path, models_dir: Path) -> tuple[list[str], dict[str, str]]:
    env = {
        **os.environ, "REPLYQA_DATA_DIR": str(data_dir), "REPLYQA_MODELS_DIR": str(models_dir),
        # several commits per run, so that a kill can fall between them as well as inside one
        "REPLYQA_INGEST_WINDOW_CHUNKS": "48",
    }
    return [sys.executable, "-m", "assistant.cli", "ingest", str(CORPUS)], env


def test_killing_ingest_at_any_moment_then_rerunning_gives_a_complete_index(
    tmp_path: Path, embedder: Embedder, models_dir: Path
) -> None:
    clean_dir, crashed_dir = tmp_path / "clean", tmp_path / "crashed"
    command, env = _ingest_command(clean_dir, models_dir)
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=900)

    command, env = _ingest_command(crashed_dir, models_dir)
    kills = 0
    for delay in (None, 1.0):
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        seen = b""
        deadline = time.monotonic() + 600
        # Wait until at least one batch is committed (已完成 moved off 0), then kill.
        while proc.poll() is None and time.monotonic() < deadline:
            seen += os.read(proc.stderr.fileno(), 4096)
            if re.search(r"已完成 [1-9]\d*/", seen.decode("utf-8", "replace")):
                break
        if delay:
            time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 1, "ingest finished before it could be killed"

    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    settings = Settings(data_dir=crashed_dir, models_dir=models_dir)
    with _open(Settings(data_dir=clean_dir, models_dir=models_dir), embedder) as clean, \
            _open(settings, embedder) as crashed:
        expected, got = _snapshot(clean), _snapshot(crashed)
        assert len(clean.letters()) == len(discover([CORPUS])) == 85
        assert got == expected
