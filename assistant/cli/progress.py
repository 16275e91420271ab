"""What `replyqa ingest` shows while it works, from its first second.

The pipeline reads letters one by one, then embeds and commits them a window of several
hundred chunks at a time (which keeps it near the model's own speed), so a bar counting
committed letters would sit at zero for the whole first window and then jump. This one says
what is happening at each moment instead: loading the model, each letter as it is read (with
the count of letters read), then the chunks as they are embedded — the bar's unit, whose total
grows as letters are read — and the letters done so far.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

BAR_FORMAT = "{desc}{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} 块 [已用 {elapsed}{postfix}]"
"""tqdm's own rate and remaining-time fields say `s/it`; ours are written out in `postfix`."""


class IngestMeter:
    """A tqdm line on stderr fed by the pipeline's `on_read` and `progress` callbacks."""

    def __init__(self, letters: int, *, file: TextIO | None = None) -> None:
        self.letters = letters
        self.read_count = 0
        self.written_count = 0
        self.chunks = 0
        self.bar = tqdm(total=0, unit="块", file=file or sys.stderr, dynamic_ncols=True, bar_format=BAR_FORMAT,
                        mininterval=0.2)
        self.now = ""
        self.shown_at = 0.0
        self.embed_started: float | None = None
        self.last_read = time.monotonic()

    def _describe(self, *, force: bool = True) -> None:
        """Redrawn at once, except while letters are read faster than anyone can read them."""
        doing = f"{self.now}｜" if self.now else ""
        self.bar.set_description_str(
            f"导入 {doing}已读 {self.read_count}/{self.letters} 封，已完成 {self.written_count}/{self.letters} 封 ",
            refresh=False,
        )
        now = time.monotonic()
        if force or now - self.shown_at >= 0.1:
            self.shown_at = now
            self.bar.refresh()

    def show(self, what: str) -> None:
        self.now = what
        self._describe()

    def read(self, path: Path, chunks: int) -> None:
        """A letter was read (`chunks` to embed; 0 when unchanged or failed)."""
        self.read_count += 1
        self.chunks += chunks
        self.bar.total = self.chunks
        self.last_read = time.monotonic()
        self.now = f"读取 {path.name}"
        self._describe(force=self.read_count in (1, self.letters))

    def written(self, files: int, chunks: int) -> None:
        """The pipeline's progress: letters done (written, unchanged or failed) and chunks
        embedded so far."""
        self.written_count = files
        self.bar.n = min(chunks, self.bar.total or chunks)
        self.now = "编码与写入" if files < self.letters else ""
        now = time.monotonic()
        if self.embed_started is None:
            self.embed_started = self.last_read  # embedding starts once the window is read
        if chunks and now > self.embed_started:
            rate = chunks / (now - self.embed_started)
            left = max(0, (self.bar.total or 0) - chunks) / rate if rate > 0 else 0
            self.bar.set_postfix_str(f"，{rate:.1f} 块/秒，约剩 {left:.0f} 秒", refresh=False)
        self._describe()

    def close(self) -> None:
        self.now = ""
        self._describe()
        self.bar.close()
