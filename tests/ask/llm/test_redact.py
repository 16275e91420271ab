"""What `redact` takes out of an upstream error before it is logged or shown: the configured
key wherever it appears, and anything shaped like a bearer token or an API key."""

from __future__ import annotations

import pytest

from assistant.ask.llm.client import describe_failure, redact


@pytest.mark.parametrize("text", [
    "Error code: 401 - {'error': {'message': 'Incorrect API key provided: sk-proj-AbCdEf1234567890XyZ'}}",
    "upstream said: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    '{"api_key": "abcdefghijklmnop"}',
    "token=ghp_0123456789abcdefABCDEF",
])
def test_key_shaped_strings_are_redacted(text: str) -> None:
    out = redact(text)
    assert "***" in out
    for secret in ("sk-proj-AbCdEf1234567890XyZ", "eyJhbGciOiJIUzI1NiJ9", "abcdefghijklmnop", "ghp_0123456789"):
        assert secret not in out


def test_the_configured_key_is_redacted_whatever_its_shape() -> None:
    assert redact("echo: plainkey42 and more", "plainkey42") == "echo: *** and more"
    assert redact("nothing secret here: HTTP 500", "plainkey42") == "nothing secret here: HTTP 500"


def test_describe_failure_names_the_error_and_keeps_the_rest() -> None:
    class FakeLLM:
        api_key = "k-12345678"

    said = describe_failure(RuntimeError("gateway echoed k-12345678 back, status 401"), FakeLLM())  # type: ignore[arg-type]
    assert said == "RuntimeError: gateway echoed *** back, status 401"
