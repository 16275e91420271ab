"""The page's CSS and JavaScript, kept as real files in `static/` so editors, linters and
reviewers see them as CSS and JS rather than as Python strings.

They are read when the page is built (not at import and not cached): building the page is
rare, and a changed file is picked up by the next `build_app` without a restart of Python.
The files ship as package data (`*.css` / `*.js` in pyproject).
"""

from __future__ import annotations

import json
from importlib.resources import files


def read_static(name: str) -> str:
    """One file of `assistant/web/static`, as text."""
    return files("assistant.web").joinpath("static", name).read_text(encoding="utf-8")


def page_css() -> str:
    return read_static("page.css")


def page_js(upload_types: tuple[str, ...] = (".txt", ".html", ".htm", ".docx", ".pdf")) -> str:
    """The page-wide script for `demo.load(js=...)`, with page.css inlined as the `<style>` it
    installs, as the page has always been styled, and the file types the upload picker offers."""
    script = read_static("page.js").replace("__CSS__", json.dumps(page_css()))
    return script.replace("__ACCEPT__", json.dumps(",".join(upload_types)))


def copy_js() -> str:
    return read_static("copy.js")


def scroll_to_mark_js() -> str:
    return read_static("scroll_to_mark.js")


def reader_js() -> str:
    return read_static("reader.js")
