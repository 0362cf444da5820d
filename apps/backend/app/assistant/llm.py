"""A minimal client for any OpenAI-compatible chat-completions endpoint.

Failures become LLMError (answered 502) or LLMTimeout (504) with a message
that says what happened, never the API key.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from app.core.config import Settings

log = logging.getLogger(__name__)


class LLMError(Exception):
    """The LLM endpoint failed or answered something unusable."""


class LLMTimeout(LLMError):
    """The LLM endpoint did not answer in time."""


async def complete(
    http: httpx.AsyncClient,
    settings: Settings,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """One chat-completions call; returns the assistant message of the first choice."""
    assert settings.openai_api_key is not None, "callers check settings.assistant_configured"
    body: dict[str, Any] = {"model": settings.openai_model, "messages": messages}
    if tools:
        body["tools"] = tools
    url = f"{settings.openai_base_url}/chat/completions"
    try:
        response = await http.post(
            url,
            json=body,
            headers={"Authorization": f"Bearer {settings.openai_api_key.get_secret_value()}"},
            timeout=settings.chat_timeout_seconds,
        )
    except httpx.TimeoutException:
        raise LLMTimeout(f"the language model at {settings.openai_base_url} did not answer in time") from None
    except httpx.HTTPError as error:
        raise LLMError(f"cannot reach the language model at {settings.openai_base_url}: {error}") from None
    if response.status_code >= 400:
        log.warning("llm error", extra={"status": response.status_code, "body": response.text[:500]})
        raise LLMError(f"the language model answered HTTP {response.status_code}: {_error_message(response)}")
    try:
        message = response.json()["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise LLMError("the language model returned a response without choices[0].message") from None
    if not isinstance(message, dict):
        raise LLMError("the language model returned a malformed message")
    return message


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"][:300]
    except (ValueError, AttributeError):
        pass
    return response.reason_phrase or "no message"
