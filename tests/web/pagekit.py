"""What the page's tests use besides fixtures: the offline check for a host, a guarded
Chromium page, and the few moves every browser test makes.

A plain module beside the tests (pytest puts this folder on `sys.path` for its conftest and
test modules), because fixtures cannot hand out types and helpers, and importing from a
`conftest` is ambiguous with two of them in the tree.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlparse

from playwright.sync_api import Browser, Locator, Page, Route, expect

T = 15_000
"""ms for every `expect`: 2 cores, other work in parallel."""
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
"""A phone held upright (the width of the common iPhones)."""


def is_local(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]")
    if host in ("", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@dataclass
class Watch:
    """What a page did that it must not: dialogs (page content ran as script), console errors,
    requests beyond 127.0.0.1."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


def open_page(chromium: Browser, url: str, *, viewport: dict[str, int] | None = None) -> tuple[Page, Watch]:
    """The URL in a fresh zh-CN context that may use the clipboard, every request beyond
    127.0.0.1 aborted and recorded; the caller closes `page.context`."""
    watch = Watch()
    phone = viewport is not None and viewport["width"] < 600
    context = chromium.new_context(locale="zh-CN", viewport=viewport or DESKTOP, is_mobile=phone, has_touch=phone,
                                   permissions=["clipboard-read", "clipboard-write"])

    def guard(route: Route) -> None:
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("http://", "https://", "ws://", "wss://")) and not is_local(host):
            watch.outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    page.goto(url)
    return page, watch


def ask(page: Page, question: str) -> Locator:
    """Ask in the chat and wait for the finished (no longer streaming) answer bubble."""
    bots = page.locator("#rq-chat [data-testid='bot']")
    before = bots.count()
    page.locator("#rq-question textarea").fill(question)
    page.locator("#rq-question textarea").press("Enter")
    expect(bots).to_have_count(before + 1, timeout=T)
    last = bots.nth(before)
    expect(last.locator(".rq-answer:not(.rq-streaming)")).to_have_count(1, timeout=T)
    return last


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def in_viewport(locator: Locator) -> bool:
    """Whether the element's box overlaps the visible part of the page (scrolled into view)."""
    return bool(locator.evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight && r.height > 0; }"))


def tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def browse_search(page: Page, text: str) -> Locator:
    """Type into the letter browser's search and wait for the list to follow it."""
    tab(page, "信件浏览")
    page.locator("#rq-b-text textarea, #rq-b-text input").first.fill(text)
    page.wait_for_function("q => [...document.querySelectorAll('#rq-letter-list [data-rq-query]')]"
                           ".some(e => e.getAttribute('data-rq-query') === q)", arg=text, timeout=3 * T)
    # 3 × T: the first search of a page just started waits for the index snapshot being built
    # (85 letters' BM25); on 2 cores shared with other suites that once took over 15 s. How soon
    # a page answers after it starts is measured by `replyqa bench scale`, not here.
    return page.locator("#rq-letter-list")
