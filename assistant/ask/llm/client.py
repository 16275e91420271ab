"""The LLM client: any OpenAI-compatible endpoint through llama-index's `OpenAILike`.

Quirks of llama-index 0.14's `OpenAILike` (llama-index-llms-openai-like 0.8) handled here:
- `stream_chat` returns a generator; the HTTP request is only made when it is first iterated,
  so errors surface inside the loop, not at the call.
- `max_retries` is used twice: by llama-index's tenacity decorator (stop after that many
  *attempts*, waits ≥ 1 s) and by the openai client (that many *retries*). With 1, llama-index
  tries once and the client retries once, so a dead endpoint fails in about a second.
  The decorator cannot retry a stream anyway (it wraps the function that returns the generator).
- Reasoning models served without a reasoning parser put `<think>…</think>` in the content;
  it is held back from the stream and removed before parsing.

One client is made per process (`make_llm`, called where the process opens its components) and
passed down, so its HTTP connection pool is reused across questions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from llama_index.core.base.llms.types import ChatMessage
from llama_index.llms.openai_like import OpenAILike

from index.settings import Settings

MAX_TOKENS = 1024
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
_BEARER = re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]{6,}")
_ASSIGNED = re.compile(
    r"(?i)\b(token|api[_-]?key|authorization|secret|password)([\"':=\s]+)(?!\*\*\*|bearer\b)[A-Za-z0-9._~+/=-]{6,}"
)
_KEY_SHAPED = re.compile(r"\b(?:sk|pk|rk|ak|key)-[A-Za-z0-9_-]{12,}")
REDACTED = "***"


def make_llm(settings: Settings) -> OpenAILike:
    if not settings.llm_enabled:
        raise ValueError("no LLM endpoint configured (REPLYQA_LLM_BASE_URL, REPLYQA_LLM_MODEL)")
    return OpenAILike(
        model=settings.llm_model or "",
        api_base=settings.llm_base_url,
        api_key=settings.llm_api_key or "none",
        is_chat_model=True,
        is_function_calling_model=False,
        timeout=settings.llm_timeout,
        max_retries=1,
        temperature=0.1,
        max_tokens=MAX_TOKENS,
        context_window=32768,
    )


def strip_think(text: str) -> str:
    return _THINK.sub("", text).strip() if "<think>" in text else text


def stream_reply(llm: OpenAILike, messages: Sequence[ChatMessage]) -> Iterator[str]:
    """The reply's text deltas as they arrive, without a leading `<think>…</think>` block."""
    held = ""
    thinking: bool | None = None  # None: not yet known whether the reply starts with <think>
    for response in llm.stream_chat(messages):
        delta = response.delta or ""
        if not delta:
            continue
        if thinking is False:
            yield delta
            continue
        held += delta
        stripped = held.lstrip()
        if thinking is None:
            if stripped.startswith("<think>"):
                thinking = True
            elif "<think>".startswith(stripped):
                continue
            else:
                thinking = False
                yield held
                continue
        if "</think>" in held:
            thinking = False
            rest = held.split("</think>", 1)[1].lstrip()
            if rest:
                yield rest
    if thinking is None and held:
        yield held


def redact(text: str, secret: str | None = None) -> str:
    """An upstream error body may echo the request's key back (some gateways do, in full):
    the configured key, and anything shaped like a bearer token or an API key, never reach a
    log or a message."""
    if secret and secret != "none" and len(secret) >= 4:
        text = text.replace(secret, REDACTED)
    for pattern in (_BEARER, _ASSIGNED):
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _KEY_SHAPED.sub(REDACTED, text)


def describe_failure(exc: BaseException, llm: OpenAILike | None) -> str:
    """The exception as a log line may show it: its type and its text, redacted."""
    return redact(f"{type(exc).__name__}: {exc}", getattr(llm, "api_key", None))


def failure_reason(exc: Exception) -> str:
    """What went wrong, in the words the note shows to the user."""
    import httpx
    import openai

    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return "请求超时"
    if isinstance(exc, openai.APIConnectionError | httpx.ConnectError):
        return "无法连接"
    if isinstance(exc, httpx.TransportError):
        return "连接中断"
    if isinstance(exc, openai.APIStatusError):
        return f"服务返回错误（HTTP {exc.status_code}）"
    return "返回内容无法解析"


def unreachable(exc: Exception) -> bool:
    """Errors that will happen again right away (so the answer call is not even tried)."""
    import openai

    return isinstance(exc, openai.APIConnectionError | openai.AuthenticationError | openai.NotFoundError)
