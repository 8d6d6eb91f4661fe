"""The app's one way into the assistant: a message to the Rasa server's REST channel.

The WeChat gateway and the console's lookup box both go through ``ask``, so residents and agents
get the same understanding and the same actions. The Rasa server listens on loopback only; this
app is what faces the internet.

Several Rasa servers (HOTLINE_RASA_URLS; ``Settings.rasa_instances``): each conversation (sender)
sticks to one of them, chosen by rendezvous hashing of the sender id (the same in every app process,
and when one server goes, only its conversations move), and moves to the next one in its order when
that server cannot be reached. The next server continues the conversation from the shared tracker
store (PostgreSQL), under the shared lock store (Redis): launcher/endpoints.py. A sender's own server
is always tried first, even one that could not be reached a moment ago: a refused connection costs
nothing on loopback, while a conversation sent elsewhere for a few seconds (the default shape) starts
over twice, on the other server and back on its own (seen under load while a server started).

In the default shape the Rasa servers share nothing: each keeps its conversations in its own memory
(launcher/endpoints.py), so a conversation that moves (its server died, or was restarted and has
forgotten it) starts again from nothing. ``Placement`` remembers, per app process, which server (and
which life of it) last answered each sender; when the next answer of a recent conversation comes from
elsewhere, CONVERSATION_MOVED goes first, so that a resident half-way through a complaint knows why
the assistant asks again. The app probes each server every few seconds (web/app.py), so that a
restart nobody sent a message through is noticed too.

When Rasa answers with no message at all, the resident gets TEMPORARY_FAILURE instead of silence.
That is what Rasa does when a custom action fails (the action server is down, or the store it reads
is): it logs the error, drops the action's events and answers nothing. The message itself is in the
call log (the event broker has it); the same conversation goes on when the action server is back.
(The dialogue model also answers nothing to a few messages it cannot place, e.g. a lone "0": the
same reply fits, it asks for the message again.)
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Sequence

import aiohttp

from hotline.parts import split_requests

log = logging.getLogger(__name__)

WEBHOOK = "/webhooks/rest/webhook"
# What a resident reads when Rasa answered nothing (a failed custom action): it must say the failure
# is temporary and what to do meanwhile. No figure: only the hotline's own number, which is its name.
TEMPORARY_FAILURE = "抱歉，这次没能为您答复。请稍后再发一次，或换个说法；着急的话请拨打12320人工服务。"
# What a resident reads first when the conversation moved to a server that does not know it: the
# conversation was lost, not the message; what to do. No figure.
# A form's question whose answer is the resident's own words (a complaint's description, its time, the
# contact phone) carries this marker (domain.yml: ``custom: {"expects": "own_words"}``, sent by Rasa
# as a message of its own): the next message is that answer and is never divided into requests.
OWN_WORDS = "own_words"
# What a resident reads when a message held a second request but its first one led to such a
# question: the rest is not taken as the answer, and the resident is told to ask it again. No figure.
LATER_PART = "您消息里的另一个问题，请在回答完上面的问题后再发给我一次，我接着为您解答。"
CONVERSATION_MOVED = "抱歉，刚才系统切换了一下，之前的对话内容没有保留。如果您正在办理投诉等事项，请按提示重新说一下。"
# A kept-alive connection can be found closed when it is used again (aiohttp retries only idempotent
# requests by itself; a message is a POST): the same server is asked again on another connection,
# this many times, before it counts as gone. Seen under load with two servers: conversations moved
# (and started over) while both servers were up.
DROPPED_RETRIES = 2
# A conversation is "recent" for this long after its last answer: Rasa's session (domain.yml).
RECENT_FOR = 60 * 60.0
PLACEMENT_MAX_SENDERS = 100_000  # the oldest are forgotten beyond this (memory stays bounded)


class Placement:
    """The servers as this process sees them (one per process, app key RASA_PLACEMENT): which server,
    in which of its lives, last answered each sender (servers that share nothing); a server that
    could not be reached begins a new life when it answers again."""

    def __init__(self, *, recent_for: float = RECENT_FOR, max_senders: int = PLACEMENT_MAX_SENDERS,
                 clock=time.monotonic) -> None:
        self._last: OrderedDict[str, tuple[str, int, float]] = OrderedDict()
        self._life: dict[str, int] = {}
        self._up: dict[str, bool] = {}
        self._recent_for = recent_for
        self._max = max_senders
        self._clock = clock

    def lost(self, url: str) -> bool:
        """The server could not be reached: whatever it held is gone when it answers again. Whether
        it was up until now."""
        was_up = self._up.get(url, True)
        if was_up:
            self._life[url] = self._life.get(url, 0) + 1
        self._up[url] = False
        return was_up

    def reached(self, url: str) -> None:
        self._up[url] = True

    def moved(self, sender: str, url: str) -> bool:
        """Record that ``url`` answered ``sender`` now; whether a recent conversation of the sender
        was answered by another server, or by an earlier life of this one."""
        now = self._clock()
        self.reached(url)
        here = (url, self._life.get(url, 0))
        before = self._last.pop(sender, None)
        self._last[sender] = (*here, now)
        while len(self._last) > self._max:
            self._last.popitem(last=False)
        return before is not None and before[:2] != here and now - before[2] < self._recent_for


async def probe(http: aiohttp.ClientSession, urls: Sequence[str], placement: Placement) -> None:
    """One look at each server (any answer means its process is up): a server that cannot be reached
    (refused, reset) has lost its conversations by the time it answers again. A slow one (busy, not
    gone) is left as it was."""
    async def one(url: str) -> None:
        for _ in range(DROPPED_RETRIES + 1):
            try:
                async with http.get(url + "/", timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    await resp.read()
            except aiohttp.ClientConnectorError:
                break
            except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError):
                continue  # a dropped connection: looked at again (DROPPED_RETRIES)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                return
            placement.reached(url)
            return
        if placement.lost(url):  # said once, not at every look while it is down (or starting)
            log.warning("Rasa server %s could not be reached: its conversations go to another server", url)

    await asyncio.gather(*(one(url) for url in dict.fromkeys(urls)))


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


async def ask(http: aiohttp.ClientSession, rasa_url: str | Sequence[str], sender: str, message: str,
              *, timeout: float = 30.0, placement: Placement | None = None, whole: bool = False) -> list[Reply]:
    """The assistant's replies to one message of ``sender`` (an id that is never a clear OpenID).

    ``rasa_url``: one Rasa server, or several (``settings.rasa_instances``): see the module docstring.
    ``message`` may be a button's payload (``/intent{...}``): Rasa takes it as that intent. A message
    that turns to another request (顺便问一下…, hotline/parts.py) is asked part by part, and the
    replies to all parts are returned in order, unless ``whole`` (the message answers a question that
    wants the resident's own words: ``expects_own_words`` of the previous replies), or until a part's
    replies ask such a question: the rest would be taken as its answer, so LATER_PART asks for it again.
    Raises AssistantUnavailable when no Rasa server can be reached or one fails; asyncio.TimeoutError
    is turned into it too, so callers have one error to handle. An empty answer becomes one
    TEMPORARY_FAILURE reply (marked ``custom={"temporary_failure": True}``). ``placement``: the servers
    share no conversations; a conversation that moved gets CONVERSATION_MOVED first (marked
    ``custom={"conversation_moved": True}``).
    """
    urls = [rasa_url] if isinstance(rasa_url, str) else list(rasa_url)
    if not urls:
        raise ValueError("no Rasa server to ask")
    first, *more = [message] if whole else split_requests(message)
    last = await _ask_part(http, urls, sender, first, timeout, placement)
    replies = list(last)
    for part in more:  # 顺便问一下…: each further request in turn, after the first one's answer
        if expects_own_words(last):
            replies.append(Reply(text=LATER_PART, custom={"later_part": True}))
            break
        try:
            last = await _ask_part(http, urls, sender, part, timeout, placement)
        except AssistantUnavailable:  # the first answer stands; the rest is to be asked again
            replies.append(Reply(text=TEMPORARY_FAILURE, custom={"temporary_failure": True}))
            break
        replies += last
    return replies


def expects_own_words(replies: Sequence[Reply]) -> bool:
    """Whether these replies end on a question whose answer is the resident's own words (OWN_WORDS)."""
    return any((r.custom or {}).get("expects") == OWN_WORDS for r in replies)


async def _ask_part(http: aiohttp.ClientSession, urls: list[str], sender: str, message: str,
                    timeout: float, placement: Placement | None) -> list[Reply]:
    errors = []
    for url in route(urls, sender):
        try:
            replies = await _ask_server(http, url, sender, message, timeout)
        except _Unreachable as exc:
            # Nothing reached this server (or it died while answering): the next one takes over.
            if placement is None or placement.lost(url):
                log.warning("Rasa server %s could not be reached (%s): the message goes to the next one",
                            url, type(exc.__cause__).__name__)
            errors.append(f"{url}: {exc}")
            continue
        if not replies:
            replies = [Reply(text=TEMPORARY_FAILURE, custom={"temporary_failure": True})]
        if placement is not None and placement.moved(sender, url):
            replies = [Reply(text=CONVERSATION_MOVED, custom={"conversation_moved": True}), *replies]
        return replies
    raise AssistantUnavailable("no Rasa server answered (" + "; ".join(errors) + ")")


def route(urls: Sequence[str], sender: str) -> list[str]:
    """The order in which ``sender``'s messages try the servers: rendezvous hashing (the same in
    every process, whatever the order of ``urls``)."""
    def weight(url: str) -> bytes:
        return hashlib.sha256(f"{url}\n{sender}".encode("utf-8", "surrogatepass")).digest()

    return sorted(dict.fromkeys(urls), key=weight, reverse=True)


class _Unreachable(AssistantUnavailable):
    """The server could not be reached, or closed the connection without answering."""


class _Dropped(_Unreachable):
    """The connection was closed without an answer: the server died, or a kept-alive connection
    had been closed meanwhile (the request never reached it)."""


async def _ask_server(http: aiohttp.ClientSession, rasa_url: str, sender: str, message: str,
                      timeout: float) -> list[Reply]:
    """``_ask_one``, asked again on a dropped connection (DROPPED_RETRIES): a server that is gone
    refuses the next connection, and only then is it unreachable."""
    for _ in range(DROPPED_RETRIES):
        try:
            return await _ask_one(http, rasa_url, sender, message, timeout)
        except _Dropped:
            pass
    return await _ask_one(http, rasa_url, sender, message, timeout)


async def _ask_one(http: aiohttp.ClientSession, rasa_url: str, sender: str, message: str,
                   timeout: float) -> list[Reply]:
    try:
        async with http.post(rasa_url + WEBHOOK, json={"sender": sender, "message": message},
                             timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            if resp.status != 200:
                raise AssistantUnavailable(f"Rasa answered HTTP {resp.status}")
            body = await resp.json(content_type=None)
    except aiohttp.ClientConnectorError as exc:
        # Refused: the server is not there (any more). Not a timeout: a server that is slow may
        # still be working on the message, and another would answer it again.
        raise _Unreachable(f"{type(exc).__name__}: {exc}") from exc
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
        raise _Dropped(f"{type(exc).__name__}: {exc}") from exc
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        raise AssistantUnavailable(f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(body, list):
        raise AssistantUnavailable("Rasa answered something that is not a list of messages")
    return [Reply.from_rest(item) for item in body if isinstance(item, dict)]
