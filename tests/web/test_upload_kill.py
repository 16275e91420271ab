"""SIGKILL of a real `replyqa serve` in the middle of an upload's import, driven through the
page's own upload route and event queue (what the browser does: POST the files to
`/gradio_api/upload`, join the import event, read its progress from the event stream).

The kill lands once the page's progress says a first letter is committed and before the last
is. After it: no letter is half-written (each has all its chunks, or is absent), a new `serve`
on the same data dir answers, its 导入答复 tab says the import did not finish and names the
files, 继续导入这些文件 imports them, uploading the same files again changes nothing, and the
index holds exactly the chunks a clean ingest of the same files gives."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.evaluation.served import Served, ask, connect, serving
from assistant.web.pending import interrupted
from index.embedding.embedder import Embedder
from index.pipeline import ingest
from index.settings import Settings
from index.storage.store import ChunkStore
from tests.cli.test_serve_processes import letter

pytestmark = pytest.mark.server
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "letters"
PLACES = ["东湾镇", "西岭乡", "南屏村", "北川镇", "青石乡", "白沙村", "红旗镇", "柳河乡", "石门村", "金山镇",
          "银湖乡", "松林村", "梅岭镇", "桃源乡", "竹溪村", "枫桥镇", "荷塘乡", "杏花村", "云台镇", "雪峰乡"]
EVENT_TIMEOUT_S = 600.0
ROW = re.compile(r'<td data-label="文件">([^<]+)</td><td class="rq-status"[^>]*>([^<]+)<')
"""A file's row in the import's result: (name, 新增/更新/未变/失败)."""


class PageEvents:
    """The page's own routes, as its JavaScript calls them, over plain HTTP."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, trust_env=False, timeout=60)
        config = self.http.get("config").json()
        self.deps = {d["api_name"]: d for d in config["dependencies"] if d.get("api_name")}

    def close(self) -> None:
        self.http.close()

    def upload(self, paths: list[Path]) -> list[dict[str, Any]]:
        files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
        resp = self.http.post("gradio_api/upload", files=files)
        resp.raise_for_status()
        return [{"path": saved, "orig_name": p.name, "meta": {"_type": "gradio.FileData"}}
                for saved, p in zip(resp.json(), paths, strict=True)]

    def run(self, api_name: str, data: list[Any], watch: Callable[[dict[str, Any]], bool] | None = None) -> Any:
        """The event's output data; None when `watch` returned True on a message (reading stops)."""
        dep = self.deps[api_name]
        session = uuid.uuid4().hex
        targets = dep.get("targets") or []
        joined = self.http.post("gradio_api/queue/join", json={
            "data": data, "fn_index": dep["id"], "trigger_id": targets[0][0] if targets else None,
            "session_hash": session, "event_data": None})
        joined.raise_for_status()
        with self.http.stream("GET", "gradio_api/queue/data", params={"session_hash": session},
                              timeout=EVENT_TIMEOUT_S) as resp:
            for line in resp.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if watch is not None and watch(msg):
                    return None
                if msg.get("msg") == "process_completed":
                    assert msg.get("success"), msg
                    return msg["output"]["data"]
        raise AssertionError(f"{api_name}: the event stream ended without a result")


def _letters(folder: Path) -> list[Path]:
    """Twenty short letters first (three chunks each: several commits early on), then the samples."""
    folder.mkdir()
    made = [letter(folder, f"bay-{n:02d}", place, 1000 + 37 * n) for n, place in enumerate(PLACES)]
    copies = [Path(shutil.copy(path, folder)) for path in sorted(SAMPLES.iterdir()) if path.is_file()]
    return made + copies


def _committed(settings: Settings, embedder: Embedder) -> dict[str, str]:
    """Visible chunk id → text; asserts every committed letter has all its chunks."""
    with ChunkStore.open(settings, model_id=embedder.model_id, dimension=embedder.dimension) as store:
        chunks: dict[str, str] = {}
        for record in store.records().values():
            found = store.chunks_by_id(record.chunk_ids())
            assert len(found) == record.n_chunks, f"{record.id}: {len(found)} of {record.n_chunks} chunks"
            chunks.update({cid: c.text for cid, c in found.items()})
        chunks["#stored"] = str(store.count_chunks())
        return chunks


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_mid_import(served: Served, page: PageEvents, files: list[Path]) -> None:
    sent = page.upload(files)
    pids = served.pids()
    done_seen: list[int] = []

    def watch(msg: dict[str, Any]) -> bool:
        assert msg.get("msg") != "process_completed", "the import finished before it could be killed"
        for item in msg.get("progress_data") or []:
            found = re.search(r"已完成 (\d+)/(\d+) 封", str(item.get("desc") or ""))
            if found and 0 < int(found[1]) < int(found[2]):
                done_seen.append(int(found[1]))
                os.kill(served.process.pid, signal.SIGKILL)
                return True
        return False

    assert page.run("do_ingest", [sent], watch) is None
    served.process.wait(timeout=30)
    assert served.process.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 60  # the model's process ends on its own once its pipe is gone
    while any(_alive(p) for p in pids[1:]) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids[1:]:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"process {pid} of the killed serve outlived it by a minute")


def test_sigkill_during_an_upload_leaves_no_half_letter_and_the_files_are_imported_after(
    tmp_path: Path, models_dir: Path, export_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPLYQA_INGEST_WINDOW_CHUNKS", "16")  # many commits, so the kill falls between two
    files = _letters(tmp_path / "letters")
    names = [p.name for p in files]
    settings = Settings(data_dir=tmp_path / "data", models_dir=models_dir)

    with serving(settings, tmp_path / "serve-1.log") as served:
        connect(served)
        page = PageEvents(served.url)
        try:
            _kill_mid_import(served, page, files)
        finally:
            page.close()

    after_kill = _committed(settings, embedder)  # every letter whole, or absent
    letter_ids = {cid.split("::")[0] for cid in after_kill if cid != "#stored"}
    assert 0 < len(letter_ids) < len(files), letter_ids
    uploads = settings.data_dir / "uploads"
    assert sorted(p.name for p in uploads.iterdir() if p.is_file()) == sorted(names), "every upload was kept"
    assert sorted(interrupted(uploads).names) == sorted(names)

    with serving(settings, tmp_path / "serve-2.log") as served:
        client = connect(served)
        listed = {item["id"] for item in client.predict(api_name="/letters")}
        assert listed == letter_ids, "the page lists exactly the letters committed before the kill"
        n = next(n for n, _ in enumerate(PLACES) if f"bay-{n:02d}" in letter_ids)
        answer = ask(client, f"{PLACES[n]}观景栈道总投资多少？")
        assert answer["found"] and f"{1000 + 37 * n}万元" in answer["text"]

        page = PageEvents(served.url)
        try:
            html, button = page.run("upload_notice", [])
            assert html["visible"] and button["visible"] and "上次导入没有完成" in html["value"]
            missing = next(name for name in names if Path(name).stem not in letter_ids)
            assert missing in html["value"]

            [resumed] = page.run("resume_uploads", [])
            statuses = dict(ROW.findall(resumed))
            assert set(statuses) == set(names)
            assert {statuses[f] for f in names if Path(f).stem in letter_ids} == {"未变"}
            assert {statuses[f] for f in names if Path(f).stem not in letter_ids} == {"新增"}
            html, button = page.run("upload_notice", [])
            assert not html["visible"] and not button["visible"]

            [again] = page.run("do_ingest", [page.upload(files)])
            assert f"新增 0，更新 0，未变 {len(files)}，失败 0" in again, again
        finally:
            page.close()
        assert len(client.predict(api_name="/letters")) == len(files)

    clean = tmp_path / "clean"
    clean_settings = Settings(data_dir=clean, models_dir=models_dir)
    with ChunkStore.open(clean_settings, model_id=embedder.model_id, dimension=embedder.dimension) as store:
        assert not ingest([tmp_path / "letters"], clean_settings, store, embedder).failures
    expected, got = _committed(clean_settings, embedder), _committed(settings, embedder)
    assert got == expected, "the same chunks as a clean ingest, no leftovers or duplicates"
