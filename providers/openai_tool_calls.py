"""One forced tool call to an OpenAI-compatible chat API, the way every LLM provider here makes it.

Why shared: the intent parser and the answer writer need the same wire behaviour: the tool forced,
temperature 0, transient failures (timeouts, connection errors, 429, 5xx) retried by tenacity with
jittered backoff, and errors leaving as domain TransientError (worth a retry later, counted by the
caller's circuit breaker) or PermanentError (the server refused the request).
"""

from __future__ import annotations

from typing import Any

import openai
from openai import AsyncOpenAI
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from domain.errors import PermanentError, TransientError

TRANSIENT = (
    openai.APITimeoutError,
    openai.APIConnectionError,
    openai.RateLimitError,
    openai.InternalServerError,
)


class ToolCaller:
    """Calls `tool` (a JSON-schema function) and returns its arguments as the model wrote them."""

    def __init__(self, client: AsyncOpenAI, model: str, tool: dict[str, Any], attempts: int = 3) -> None:
        self._client = client
        self._model = model
        self._tool = tool
        self._attempts = attempts

    async def complete(self, messages: list[dict[str, Any]]) -> str:
        """The tool call's raw arguments (or the message text, if the model ignored the tool)."""
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(TRANSIENT),
                stop=stop_after_attempt(self._attempts),
                wait=wait_exponential_jitter(multiplier=0.1, max=1.0),
                reraise=True,
            ):
                with attempt:
                    return await self._call(messages)
        except TRANSIENT as exc:
            raise TransientError(f"LLM unreachable: {type(exc).__name__}") from exc
        except openai.APIStatusError as exc:
            raise PermanentError(f"LLM refused the request: HTTP {exc.status_code}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call(self, messages: list[dict[str, Any]]) -> str:
        create: Any = self._client.chat.completions.create  # the SDK's overloads want TypedDicts
        response = await create(
            model=self._model,
            messages=messages,
            tools=[self._tool],
            tool_choice={"type": "function", "function": {"name": self._tool["function"]["name"]}},
            temperature=0,
        )
        message = response.choices[0].message
        if message.tool_calls:
            return str(message.tool_calls[0].function.arguments)
        return message.content or ""

    async def aclose(self) -> None:
        await self._client.close()
