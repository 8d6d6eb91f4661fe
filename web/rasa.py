"""The app's one way into the assistant: a message to the Rasa server's REST channel.

The WeChat gateway and the console's lookup box both go through ``ask``, so residents and agents
get the same understanding and the same actions. The Rasa server listens on loopback only; this
app is what faces the internet.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import aiohttp

WEBHOOK = "/webhooks/rest/webhook"


class AssistantUnavailable(RuntimeError):
    """The Rasa server did not answer (down, restarting, or an error status)."""


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message of the assistant: its text, and the buttons offered with it (may be empty)."""

    text: str = ""
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    custom: dict[str, Any] | None = None

    @classmethod
    def from_rest(cls, item: dict[str, Any]) -> "Reply":
        buttons = tuple(Button(str(b.get("title", "")), str(b.get("payload", "")))
                        for b in item.get("buttons") or () if isinstance(b, dict))
        custom = item.get("custom") if isinstance(item.get("custom"), dict) else None
        return cls(text=str(item.get("text") or ""), buttons=buttons, custom=custom)


async def ask(http: aiohttp.ClientSession, rasa_url: str, sender: str, message: str,
              *, timeout: float = 30.0) -> list[Reply]:
    """The assistant's replies to one message of ``sender`` (an id that is never a clear OpenID).

    ``message`` may be a button's payload (``/intent{...}``): Rasa takes it as that intent.
    Raises AssistantUnavailable when the Rasa server cannot be reached or fails; asyncio.TimeoutError
    is turned into it too, so callers have one error to handle.
    """
    try:
        async with http.post(rasa_url + WEBHOOK, json={"sender": sender, "message": message},
                             timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            if resp.status != 200:
                raise AssistantUnavailable(f"Rasa answered HTTP {resp.status}")
            body = await resp.json(content_type=None)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        raise AssistantUnavailable(f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(body, list):
        raise AssistantUnavailable("Rasa answered something that is not a list of messages")
    return [Reply.from_rest(item) for item in body if isinstance(item, dict)]
