"""One WeChat message to the assistant and its answer back.

- The OpenID becomes ``wx-`` + HMAC-SHA256(secret key, OpenID) before anything else sees it: Rasa,
  the call log, the gateway's rows and our log know the pseudonym only. The clear OpenID stays in
  memory, in the task of a slow answer, until the customer-service API has delivered it.
- WeChat waits 5 s for an answer, then retries (3 deliveries in all, possibly to another process).
  The first delivery claims the message (a unique row, ``store.claim``) and asks Rasa; a retry never
  asks again: it waits for the first one's answer, or says ``success`` once that went the slow way.
- An answer ready within PASSIVE_DEADLINE is the HTTP reply (passive reply). Otherwise the handler
  says ``success`` and the answer follows through the customer-service API. The row's state decides
  which, by conditional UPDATEs: the answering task moves ``answering → answered``, a handler whose
  time is up moves ``answering → async``; whichever comes second sees it lost and does the other's part.
- Rasa's buttons become numbered lines (``1. 确认提交``); a bare number sent back (also full-width,
  １) picks that choice and Rasa gets its payload. Any other message clears the choices.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

import aiohttp
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from wechatpy.messages import BaseMessage

from database.work import in_thread
from hotline import privacy
from hotline.settings import Settings
from safety import crisis
from safety.replies import checkin_reply, crisis_reply

from web import rasa
from web.wechat import messages, dedup as store
from web.wechat.api import CustomerService, WechatApiError

log = logging.getLogger(__name__)

PASSIVE_DEADLINE = 4.5  # seconds from the request's arrival: WeChat gives up after 5
POLL = 0.2  # seconds between two looks of a retry at the first delivery's row
ASK_TIMEOUT = 30.0  # seconds Rasa gets for one message (slow answers go through the API)
# A message the crisis rules flag waits this long for the assistant; then the gateway answers it
# with the crisis reply itself (Rasa down, hung or slow must never leave a person in crisis waiting).
CRISIS_WAIT = 0.8
PRUNE_EVERY = 600.0  # seconds between two prunings of old rows (per process)
STOP_TIMEOUT = 15.0  # seconds slow answers still being worked on get when the app stops
GREET = "/greet"  # a new follower: the assistant's greeting (utter_greet says what it can do)
_NUMBER = re.compile(r"\d{1,3}")


def pseudonym(key: bytes, openid: str) -> str:
    """The sender id the assistant knows a WeChat user by."""
    return privacy.pseudonym(key, openid, length=24, prefix="wx-")


@dataclass(frozen=True)
class Incoming:
    """What a WeChat message asks of the gateway."""

    kind: str  # ask (text for the assistant), greet, unsupported (please type), ignore
    text: str = ""


def classify(message: BaseMessage) -> Incoming:
    if message.type == "text":
        text = str(message.content or "").strip()
        return Incoming("ask", text) if text else Incoming("unsupported")
    if message.type == "voice":
        # WeChat's speech recognition (when the account has it on) is taken as typed text.
        text = str(message.recognition or "").strip()
        return Incoming("ask", text) if text else Incoming("unsupported")
    if message.type == "event":
        if message.event in ("subscribe", "subscribe_scan"):
            return Incoming("greet", GREET)
        return Incoming("ignore")  # unsubscribe, menu clicks, location reports, template results
    return Incoming("unsupported")  # image, video, location, link, file …


def dedupe_key(message: BaseMessage, sender: str) -> str:
    if message.type != "event" and message.id:
        return str(message.id)
    return f"event:{sender}:{message.time}"


def chosen_number(text: str) -> int | None:
    """The number of a bare number reply (１ and ① count as 1), else None."""
    folded = unicodedata.normalize("NFKC", text).strip()
    return int(folded) if _NUMBER.fullmatch(folded) else None


def render(replies: list[rasa.Reply]) -> tuple[str, list[dict[str, str]]]:
    """The assistant's replies as one text, the buttons as numbered lines; and those choices."""
    lines = [r.text for r in replies if r.text]
    choices = [{"title": b.title or b.payload, "payload": b.payload or b.title}
               for r in replies for b in r.buttons if b.title or b.payload]
    if choices:
        lines += [messages.choice_line(i, c["title"]) for i, c in enumerate(choices, 1)]
        lines.append(messages.CHOICE_HINT)
    return "\n".join(lines), choices


def _log_failure(task: asyncio.Task) -> None:
    """A late answer's failure, logged by type (its text may quote the message)."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("wechat: a late answer failed: %s", type(task.exception()).__name__)


class Gateway:
    def __init__(self, settings: Settings, engine: Engine, http: aiohttp.ClientSession,
                 api: CustomerService | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._key = settings.secret_key
        self._rasa = settings.rasa_instances  # one Rasa server or several (web/rasa.py routes)
        self._engine = engine
        self._http = http
        self._api = api
        self._clock = clock
        self._tasks: set[asyncio.Task] = set()
        # The crisis detector, as the NLU pipeline runs it (safety/crisis.py), with its classifier
        # when `make crisis-model` has written it; the replies are domain.yml's own.
        self._classifier = crisis.load_classifier(settings.crisis_model) if settings.crisis_model.is_file() else None
        if self._classifier is None:
            log.warning("crisis classifier %s missing: the gateway reads danger signals only", settings.crisis_model)
        self._replies = {crisis.Tier.HIGH: crisis_reply(), crisis.Tier.POSSIBLE: checkin_reply()}
        self._last_prune = float("-inf")
        self.deadline = PASSIVE_DEADLINE

    def now(self) -> float:
        """The gateway's clock: when a request arrived, for its deadline."""
        return self._clock()

    # --- a delivery -------------------------------------------------------------------------------
    async def handle(self, message: BaseMessage, started: float) -> str | None:
        """The passive reply's text for a message (delivered at ``started``, by ``clock``), or None:
        say ``success`` (nothing to say now, or the answer follows through the API)."""
        incoming = classify(message)
        if incoming.kind == "ignore":
            return None
        if incoming.kind == "unsupported":
            return messages.PLEASE_TYPE
        openid = str(message.source)
        sender = pseudonym(self._key, openid)
        key = dedupe_key(message, sender)
        await self._prune()
        if not await self._claim(key, sender):
            log.info("wechat %s from %s: again (WeChat retried), not asked again", key, sender)
            return await self._retry(key, started)
        task = asyncio.create_task(self._answer(key, sender, openid, incoming), name=f"wechat {key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # asyncio.wait leaves the task running when time is up (or WeChat hangs up): it is the
        # task's to finish the answer, one way or the other.
        await asyncio.wait({task}, timeout=self._left(started))
        if task.done():
            return task.result()
        return await self._hand_off(key, sender)

    async def _retry(self, key: str, started: float) -> str | None:
        while True:
            row = await self._db(store.get_message, key)
            if row.state == store.ANSWERED:
                return row.reply
            if row.state != store.ANSWERING:
                return None  # going (or gone) through the customer-service API
            if self._left(started) <= POLL:
                return await self._hand_off(key, row.sender)
            await asyncio.sleep(POLL)

    async def _hand_off(self, key: str, sender: str) -> str | None:
        """Time is up: the answer goes through the API, unless it was given just now."""
        if await self._db(store.settle, key, store.ASYNC):
            log.info("wechat %s from %s: slower than %.1f s, answered through the customer-service API",
                     key, sender, self.deadline)
            return None
        row = await self._db(store.get_message, key)
        return row.reply if row.state == store.ANSWERED else None

    # --- the answer ---------------------------------------------------------------------------
    async def _answer(self, key: str, sender: str, openid: str, incoming: Incoming) -> str | None:
        """Ask the assistant; the text when it is the passive reply, None when it went (or goes)
        through the customer-service API."""
        began = self._clock()
        text = await self._ask(sender, incoming)
        try:
            passive = await self._db(store.settle, key, store.ANSWERED, text)
        except Exception:  # noqa: BLE001 - the store failing now: answer anyway, unrecorded
            log.exception("wechat %s: could not record its answer", key)
            return text
        if passive:
            log.info("wechat %s from %s: answered in %.1f s", key, sender, self._clock() - began)
            return text
        await self._deliver(key, sender, openid, text)
        return None

    async def _ask(self, sender: str, incoming: Incoming) -> str:
        """The assistant's answer as one text; never raises (a failure is said politely). A message
        the crisis detector flags always gets its crisis reply (the full protocol, or the check-in):
        from the assistant or, when the assistant fails (or, for the full protocol, is slower than
        CRISIS_WAIT), from the gateway itself."""
        tier = crisis.Tier.NONE
        if incoming.kind == "ask":
            tier = crisis.assess(incoming.text, classifier=self._classifier).tier
        asking = asyncio.ensure_future(self._ask_assistant(sender, incoming))
        # Not cancelled when time is up: Rasa finishes the turn (its tracker and the call log keep it),
        # only its answer comes too late to be the reply.
        self._tasks.add(asking)
        asking.add_done_callback(self._tasks.discard)
        await asyncio.wait({asking}, timeout=CRISIS_WAIT if tier is crisis.Tier.HIGH else None)
        text = None
        if not asking.done():
            log.warning("wechat: the assistant was slower than %.1f s for a crisis of %s", CRISIS_WAIT, sender)
            asking.add_done_callback(_log_failure)
        elif isinstance(asking.exception(), rasa.AssistantUnavailable):
            log.warning("wechat: the assistant did not answer %s: %s", sender, asking.exception())
        elif asking.exception() is not None:
            log.error("wechat: answering %s failed: %s", sender, type(asking.exception()).__name__)
        else:
            text = asking.result()
        said_crisis = text is not None and any(r.text in text for r in self._replies.values())
        # The assistant's own verdict stands when it answered, but for the full protocol: a danger
        # signal the assistant overlooked still puts the protocol first. A check-in is the gateway's
        # only when the assistant could not answer (Rasa runs this detector too, with more to go on).
        if tier and not said_crisis and (text is None or tier is crisis.Tier.HIGH):
            log.warning("wechat: crisis reply (%s) given by the gateway to %s", tier.name, sender)
            reply = self._replies[tier].text
            return reply if text is None else f"{reply}\n\n{text}"
        return messages.UNAVAILABLE if text is None else text

    async def _ask_assistant(self, sender: str, incoming: Incoming) -> str:
        message = incoming.text
        number = chosen_number(message) if incoming.kind == "ask" else None
        choice = await self._db(store.take_choice, sender, number)
        if choice is not None:
            message = choice["payload"]
        replies = await rasa.ask(self._http, self._rasa, sender, message, timeout=ASK_TIMEOUT)
        text, choices = render(replies)
        if choices:
            await self._db(store.offer_choices, sender, choices)
        return text or messages.NO_ANSWER

    async def _deliver(self, key: str, sender: str, openid: str, text: str) -> None:
        state = store.FAILED
        if self._api is None:
            log.error("wechat %s from %s: answer not delivered: WECHAT_APPID and WECHAT_SECRET are needed "
                      "for answers slower than %.1f s", key, sender, self.deadline)
        else:
            try:
                await self._api.send_text(openid, text)
                state = store.SENT
                log.info("wechat %s from %s: answer sent through the customer-service API", key, sender)
            except WechatApiError as exc:
                log.warning("wechat %s from %s: customer-service API: %s", key, sender, exc)
        try:
            await self._db(store.settle, key, state, text, expect=store.ASYNC)
        except Exception:  # noqa: BLE001 - the answer went out (or not); the row is bookkeeping
            log.exception("wechat %s: could not record its delivery", key)

    # --- helpers ------------------------------------------------------------------------------
    def _left(self, started: float) -> float:
        return max(0.0, started + self.deadline - self._clock())

    async def _claim(self, key: str, sender: str) -> bool:
        """True for the first delivery of a message, False for a retry (here or in another process)."""
        try:
            await self._db(store.claim, key, sender)
        except IntegrityError:
            return False
        return True

    async def _db(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``work(session, *args, **kwargs)`` in one transaction, in a worker thread."""
        return await in_thread(self._engine, work, *args, **kwargs)

    async def _prune(self) -> None:
        now = self._clock()
        if now - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = now
        try:
            gone = await self._db(store.prune)
        except Exception:  # noqa: BLE001 - pruning again later is fine
            log.exception("wechat: pruning old deliveries failed")
            return
        if gone:
            log.info("wechat: %d old deliveries forgotten", gone)

    async def close(self) -> None:
        """Let slow answers in progress be delivered (up to STOP_TIMEOUT), then cancel the rest."""
        if not self._tasks:
            return
        done, pending = await asyncio.wait(set(self._tasks), timeout=STOP_TIMEOUT)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("wechat: %d answers still in progress at shutdown, dropped", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)
