"""One WeChat message to the assistant and its answer back.

- The OpenID becomes ``wx-`` + HMAC-SHA256(secret key, OpenID) before anything else sees it: Rasa,
  the call log, the gateway's rows and our log know the pseudonym only. The clear OpenID stays in
  memory, in the task of a slow answer, until the customer-service API has delivered it; the row
  keeps it only sealed (seal.py), for a gateway that has to take the message over, until it is final.
- WeChat waits 5 s for an answer, then retries (3 deliveries in all, possibly to another process).
  The first delivery claims the message (a unique row keyed by sender and MsgId, ``store.claim``)
  and asks Rasa; a retry never asks again: it waits for the first one's answer, or says ``success``
  once that went the slow way.
- An answer ready within PASSIVE_DEADLINE is the HTTP reply (passive reply). Otherwise the handler
  says ``success`` and the answer follows through the customer-service API. The row's state decides
  which, by conditional UPDATEs: the answering task moves ``answering → answered``, a handler whose
  time is up moves ``answering → async``; whichever comes second sees it lost and does the other's part.
- Nothing is lost when a process dies while answering. Each claim has an owner (``Gateway.owner``)
  whose heartbeat (every HEARTBEAT s, ``_keep_claims``) says it still works on it. A claim whose
  owner stopped beating for STALE_AFTER s is taken over: by WeChat's next retry of the message (which
  then answers it as a first delivery would), or by the periodic sweep of any gateway (which answers
  it through the customer-service API). A push failing for a passing reason is tried again with
  backoff (api.py), then released to the sweep; a message is given up after MAX_ATTEMPTS claims.
- Stopping (``close``) lets answers in progress finish for ``settings.wechat_drain_timeout`` s, then
  releases what is left to the other gateways' sweep (or this one's after its restart).
- Rasa's buttons become numbered lines (``1. 确认提交``); a bare number sent back (also full-width,
  １) picks that choice and Rasa gets its payload. Any other message clears the choices.
- Human handoff (hotline/handoff.py, docs/wechat.md): when the assistant's answer carries the handoff
  marker, its statement goes through the customer-service API and the passive reply is
  ``transfer_customer_service`` (``Transfer``); the queue entry keeps the OpenID sealed, for the
  agent's answers. While the entry is open the resident's messages are kept from the assistant and
  recorded for the agent, but the crisis detector still reads each one: a crisis raises the entry to
  the top of the queue and the resident gets the crisis reply. WeChat's customer-service session
  events (``kf_create_session``, ``kf_switch_session``, ``kf_close_session``) take, move and close
  the entry; closed, the conversation is the assistant's again.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import socket
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

import aiohttp
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from wechatpy.messages import BaseMessage

from database.work import in_thread, session_factory
from hotline import handoff, privacy
from hotline.calllog import WECHAT_SENDER_PREFIX
from hotline.settings import Settings
from knowledge import queries
from safety import crisis
from safety.replies import checkin_reply, crisis_reply

from web import rasa
from web.metrics import Metrics
from web.wechat import messages, dedup as store
from web.wechat.api import CustomerService, WechatApiError
from web.wechat.seal import Envelope, Sealer

log = logging.getLogger(__name__)

PASSIVE_DEADLINE = 4.5  # seconds from the request's arrival: WeChat gives up after 5
POLL = 0.2  # seconds between two looks of a retry at the first delivery's row
ASK_TIMEOUT = 30.0  # seconds Rasa gets for one message (slow answers go through the API)
# A message the crisis rules flag waits this long for the assistant; then the gateway answers it
# with the crisis reply itself (Rasa down, hung or slow must never leave a person in crisis waiting).
CRISIS_WAIT = 0.8
PRUNE_EVERY = 600.0  # seconds between two prunings of old rows (per process)
HEARTBEAT = 2.0  # seconds between two heartbeats of the claims a gateway is working on
STALE_AFTER = 10.0  # seconds without a heartbeat after which a claim is taken over (clocks may differ a little)
SWEEP_EVERY = 5.0  # seconds between two looks for stale claims
MAX_ATTEMPTS = 4  # claims of one message (the first and the takeovers) before it is given up
# How long a handoff's passive reply (the transfer) waits for its statement to go out through the
# customer-service API first: the statement then reaches the resident before the agents do.
STATEMENT_FIRST = 1.5
KF_EVENTS = ("kf_create_session", "kf_switch_session", "kf_close_session")
GREET = "/greet"  # a new follower: the assistant's greeting (utter_greet says what it can do)
_NUMBER = re.compile(r"\d{1,3}")


def pseudonym(key: bytes, openid: str) -> str:
    """The sender id the assistant knows a WeChat user by."""
    return privacy.pseudonym(key, openid, length=24, prefix=WECHAT_SENDER_PREFIX)


@dataclass(frozen=True)
class Transfer:
    """The passive reply ``transfer_customer_service``: the conversation goes to the account's
    customer-service agents (to ``account`` when one is named)."""

    account: str | None = None


@dataclass(frozen=True)
class Answer:
    """The assistant's answer as one text; ``handoff``: the id of the queue entry it handed over to;
    ``choices`` and ``own_words``: what the resident's next message may pick or must be (dedup.py's
    pending state), written with the answer's own record (one transaction, ``pending``)."""

    text: str
    handoff: int | None = None
    choices: tuple[dict[str, str], ...] = ()
    own_words: bool = False

    def pending(self, session, sender: str) -> None:
        """Record what the answer leaves pending; nothing when it leaves nothing (the claim cleared it)."""
        if self.choices or self.own_words:
            store.offer_choices(session, sender, list(self.choices), own_words=self.own_words)


@dataclass(frozen=True)
class Incoming:
    """What a WeChat message asks of the gateway."""

    kind: str  # ask (text for the assistant), greet, kf (a customer-service session event), unsupported, ignore
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
        if message.event in KF_EVENTS:
            return Incoming("kf", message.event)
        return Incoming("ignore")  # unsubscribe, menu clicks, location reports, template results
    return Incoming("unsupported")  # image, video, location, link, file …


def dedupe_key(message: BaseMessage, sender: str) -> str:
    """The message's row: its sender and MsgId (a MsgId is only unique per sender; keyed by it
    alone, a forged message reusing a resident's MsgId would get that resident's reply), or for
    events (which have none) its sender and CreateTime."""
    if message.type != "event" and message.id:
        return f"msg:{sender}:{message.id}"
    return f"event:{sender}:{message.time}"


def instance_id() -> str:
    """This process among the gateways sharing the store (and not the same after a restart)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


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


def handoff_entry(replies: list[rasa.Reply]) -> int | None:
    """The queue entry of the assistant's handoff marker ({"handoff": true, "entry": id}), if any."""
    for reply in replies:
        custom = reply.custom or {}
        if custom.get("handoff") is True and isinstance(custom.get("entry"), int):
            return custom["entry"]
    return None


def reach_key(entry_id: int) -> str:
    """What a queue entry's sealed OpenID is bound to (seal.py)."""
    return f"handoff:{entry_id}"


def _log_failure(task: asyncio.Task) -> None:
    """A late answer's failure, logged by type (its text may quote the message)."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("wechat: a late answer failed: %s", type(task.exception()).__name__)


class Gateway:
    def __init__(self, settings: Settings, engine: Engine, http: aiohttp.ClientSession,
                 api: CustomerService | None, *, clock: Callable[[], float] = time.monotonic,
                 owner: str | None = None, metrics: Metrics | None = None,
                 placement: rasa.Placement | None = None) -> None:
        self._key = settings.secret_key
        self._rasa = settings.rasa_instances  # one Rasa server or several (web/rasa.py routes)
        self._placement = placement  # the servers share no conversations: moves are told (web/rasa.py)
        self._sessions = session_factory(engine)  # one factory: each message's units of work use it
        self._http = http
        self._api = api
        self._clock = clock
        self._sealer = Sealer(settings.secret_key)
        self._tasks: set[asyncio.Task] = set()
        self._working: dict[str, asyncio.Task] = {}  # key → the task answering it (its claim beats)
        self._keeper: asyncio.Task | None = None
        self._stopping = False
        # The crisis detector, as the NLU pipeline runs it (safety/crisis.py), with its classifier
        # when `make crisis-model` has written it; the replies are domain.yml's own.
        self._classifier = crisis.load_classifier(settings.crisis_model) if settings.crisis_model.is_file() else None
        if self._classifier is None:
            log.warning("crisis classifier %s missing: the gateway reads danger signals only", settings.crisis_model)
        self._replies = {crisis.Tier.HIGH: crisis_reply(), crisis.Tier.POSSIBLE: checkin_reply()}
        self.owner = owner or instance_id()
        self.deadline = PASSIVE_DEADLINE
        self.heartbeat = HEARTBEAT
        self.stale_after = STALE_AFTER
        self.sweep_every = SWEEP_EVERY
        self.drain_timeout = settings.wechat_drain_timeout
        self._kf_account = settings.wechat_kf_account
        self._metrics = metrics or Metrics()  # the app's (web/metrics.py); a gateway alone counts for itself

    def now(self) -> float:
        """The gateway's clock: when a request arrived, for its deadline."""
        return self._clock()

    def _risk(self, kind: str, text: str | None) -> crisis.Tier:
        """The crisis detector's tier of a message: a resident's typed text only (not a chosen button
        nor an event)."""
        if kind != "ask" or not text:
            return crisis.Tier.NONE
        return crisis.assess(text, classifier=self._classifier).tier

    # --- a delivery -------------------------------------------------------------------------------
    def unavailable_reply(self, message: BaseMessage) -> str:
        """What a message gets when it could not be handled at all (the store down: no claim, no queue):
        the crisis reply when the detector flags it, since it needs nothing but this process; else
        the polite "try again"."""
        incoming = classify(message)
        try:
            tier = self._risk(incoming.kind, incoming.text)
        except Exception:  # noqa: BLE001 - whatever failed, the resident still gets an answer
            log.exception("wechat: the crisis detector failed")
            tier = crisis.Tier.NONE
        if tier:
            self._metrics.crisis_answer(tier, "gateway")
            return self._replies[tier].text
        return messages.UNAVAILABLE

    async def handle(self, message: BaseMessage, started: float) -> str | Transfer | None:
        """The passive reply's text for a message (delivered at ``started``, by ``clock``), a
        Transfer, or None: say ``success`` (nothing to say now, or the answer follows through the API)."""
        incoming = classify(message)
        if incoming.kind == "ignore":
            return None
        openid = str(message.source)
        sender = pseudonym(self._key, openid)
        if incoming.kind == "kf":
            await self._kf_event(message, sender)
            return None
        key = dedupe_key(message, sender)
        # A resident's messages only: WeChat wants no event transferred to its agents.
        if incoming.kind == "unsupported":
            held = await self._db(handoff.open_entry, handoff.sender_of(self._key, sender))
            if held is not None:
                return await self._held(key, sender, held, incoming)
            self._metrics.receive("wechat")  # not claimed (answered at once, WeChat does not retry)
            return messages.PLEASE_TYPE
        # One transaction: a person holding the conversation, or the claim of the message.
        held, envelope = await self._claim(key, sender, openid, incoming, held=incoming.kind == "ask")
        if held is not None:
            return await self._held(key, sender, held, incoming)
        if envelope is None:
            log.info("wechat %s: again (WeChat retried), not asked again", key)
            return await self._retry(key, started, Envelope(openid, incoming.kind, incoming.text))
        if incoming.kind == "ask":  # a resident's message (not a follow's greeting), its first delivery
            self._metrics.receive("wechat")
        return await self._answer_within(key, sender, envelope, started)

    async def _answer_within(self, key: str, sender: str, envelope: Envelope,
                             started: float) -> str | Transfer | None:
        """Answer a message this gateway has claimed: the passive reply when it is ready in time."""
        task = self._work(key, self._answer(key, sender, envelope, started))
        # asyncio.wait leaves the task running when time is up (or WeChat hangs up): it is the
        # task's to finish the answer, one way or the other.
        await asyncio.wait({task}, timeout=self._left(started))
        if task.done():
            return task.result()
        return await self._hand_off(key, sender)

    async def _retry(self, key: str, started: float, envelope: Envelope) -> str | None:
        while True:
            row = await self._db(store.get_message, key)
            if row.state == store.ANSWERED:
                return row.reply
            if row.state not in store.OPEN:
                return None  # gone through the customer-service API (or given up)
            if key not in self._working and store.is_stale(row, self._stale_after()):
                # The gateway answering it died: this delivery answers it instead.
                return await self._take_over(key, envelope, started)
            if row.state != store.ANSWERING:
                return None  # going through the customer-service API
            if self._left(started) <= POLL:
                return await self._hand_off(key, row.sender)
            await asyncio.sleep(POLL)

    async def _take_over(self, key: str, envelope: Envelope | None, started: float | None = None) -> str | None:
        """Answer a stale claim: as a first delivery would when a delivery of it is here
        (``started``), else through the customer-service API. None when another gateway came first."""
        row = await self._db(store.take_over, key, self.owner, self._stale_after(),
                             state=store.ASYNC if started is None else None)
        if row is None:
            return None
        # The envelope sealed at the first claim holds the message as Rasa was to get it (a chosen
        # button's payload): it comes first.
        sealed = self._sealer.open(key, row.sealed) if row.sealed else None
        envelope = sealed or envelope
        log.warning("wechat %s from %s: its gateway stopped answering it (attempt %d): taken over",
                    key, row.sender, row.attempts)
        if envelope is None or row.attempts > MAX_ATTEMPTS:
            log.error("wechat %s from %s: given up (%s)", key, row.sender,
                      "nothing to answer it from" if envelope is None else f"{row.attempts - 1} attempts")
            await self._db(store.settle, key, store.FAILED, expect=row.state, owner=self.owner)
            return None
        if row.state == store.ANSWERING and started is not None:
            return await self._answer_within(key, row.sender, envelope, started)
        self._work(key, self._resume(key, row.sender, envelope, row.reply))
        return None

    async def _hand_off(self, key: str, sender: str) -> str | None:
        """Time is up: the answer goes through the API, unless it was given just now."""
        if await self._db(store.settle, key, store.ASYNC):
            log.info("wechat %s from %s: slower than %.1f s, answered through the customer-service API",
                     key, sender, self.deadline)
            return None
        row = await self._db(store.get_message, key)
        return row.reply if row.state == store.ANSWERED else None

    # --- the answer ---------------------------------------------------------------------------
    async def _answer(self, key: str, sender: str, envelope: Envelope,
                      started: float | None = None) -> str | Transfer | None:
        """Ask the assistant; the text when it is the passive reply, None when it went (or goes)
        through the customer-service API; a Transfer when it handed the conversation over."""
        began = self._clock()
        answer = await self._ask(sender, envelope)
        text = answer.text
        if answer.handoff is not None and self._api is not None:
            if answer.choices or answer.own_words:
                await self._db(answer.pending, sender)
            return await self._transfer(key, sender, envelope, answer, started)

        def settle(session) -> bool:
            answer.pending(session, sender)
            return store.settle(session, key, store.ANSWERED, text, owner=self.owner)

        try:
            passive = await self._db(settle)
        except Exception:  # noqa: BLE001 - the store failing now: answer anyway, unrecorded
            log.exception("wechat %s: could not record its answer", key)
            return text
        if passive:
            log.info("wechat %s from %s: answered in %.1f s", key, sender, self._clock() - began)
            self._metrics.answer("passive")
            return text
        await self._push(key, sender, envelope.openid, text)
        return None

    async def _resume(self, key: str, sender: str, envelope: Envelope, reply: str | None) -> None:
        """A message taken over, through the customer-service API: its answer when it was known
        already (its gateway died while pushing it), else the assistant's."""
        if reply is None:
            answer = await self._ask(sender, envelope)
            if answer.choices or answer.own_words:
                await self._db(answer.pending, sender)
            reply = answer.text
        await self._push(key, sender, envelope.openid, reply)

    async def _ask(self, sender: str, envelope: Envelope) -> Answer:
        """The assistant's answer as one text; never raises (a failure is said politely). A message
        the crisis detector flags always gets its crisis reply (the full protocol, or the check-in):
        from the assistant or, when the assistant fails (or, for the full protocol, is slower than
        CRISIS_WAIT), from the gateway itself."""
        tier = self._risk(envelope.kind, envelope.message)
        asking = asyncio.ensure_future(self._ask_assistant(sender, envelope))
        # Not cancelled when time is up: Rasa finishes the turn (its tracker and the call log keep it),
        # only its answer comes too late to be the reply.
        self._tasks.add(asking)
        asking.add_done_callback(self._tasks.discard)
        await asyncio.wait({asking}, timeout=CRISIS_WAIT if tier is crisis.Tier.HIGH else None)
        text, entry, pending = None, None, {}
        if not asking.done():
            log.warning("wechat: the assistant was slower than %.1f s for a crisis of %s", CRISIS_WAIT, sender)
            asking.add_done_callback(_log_failure)
        elif isinstance(asking.exception(), rasa.AssistantUnavailable):
            log.warning("wechat: the assistant did not answer %s: %s", sender, asking.exception())
        elif asking.exception() is not None:
            log.error("wechat: answering %s failed: %s", sender, type(asking.exception()).__name__)
        else:
            answered = asking.result()
            text, entry = answered.text, answered.handoff
            pending = {"choices": answered.choices, "own_words": answered.own_words}
        # The crisis reply the assistant gave, if any (the full protocol first: it is checked first).
        said = next((t for t, r in self._replies.items() if r.text in text), None) if text is not None else None
        said_crisis = said is not None
        # The assistant's own verdict stands when it answered, but for the full protocol: a danger
        # signal the assistant overlooked still puts the protocol first. A check-in is the gateway's
        # only when the assistant could not answer (Rasa runs this detector too, with more to go on).
        # The check-in too when the part of the message that held the risk was not asked (LATER_PART).
        if tier and not said_crisis and (text is None or tier is crisis.Tier.HIGH or rasa.LATER_PART in text):
            log.warning("wechat: crisis reply (%s) given by the gateway to %s", tier.name, sender)
            self._metrics.crisis_answer(tier, "gateway")
            reply = self._replies[tier].text
            return Answer(reply if text is None else f"{reply}\n\n{text}", entry, **pending)
        if said is not None:
            self._metrics.crisis_answer(said, "assistant")
            reply = self._replies[said].text
            if not text.startswith(reply):  # the crisis in a second request (顺便问一下…): its reply first
                rest = text.replace(reply, "", 1).strip("\n")
                text = f"{reply}\n\n{rest}" if rest else reply
        return Answer(messages.UNAVAILABLE if text is None else text, entry, **pending)

    async def _ask_assistant(self, sender: str, envelope: Envelope) -> Answer:
        replies = await rasa.ask(self._http, self._rasa, sender, envelope.message, timeout=ASK_TIMEOUT,
                                 placement=self._placement, whole=envelope.whole)
        text, choices = render(replies)
        entry = handoff_entry(replies)
        if entry is not None:
            # The queue entry (made by the action) learns how to reach the resident: the OpenID, sealed.
            sealed = self._sealer.seal(reach_key(entry), Envelope(envelope.openid, "handoff", ""))
            if not await self._db(handoff.reach_by, entry, handoff.WECHAT, sealed):
                entry = None  # closed or expired meanwhile: nothing to transfer to
        return Answer(text or messages.NO_ANSWER, entry, tuple(choices), rasa.expects_own_words(replies))

    # --- human handoff ------------------------------------------------------------------------------
    async def _transfer(self, key: str, sender: str, envelope: Envelope, answer: Answer,
                        started: float | None) -> Transfer | None:
        """The assistant handed over: its statement through the customer-service API (given up to
        STATEMENT_FIRST s to go out first), and the transfer as the passive reply. When time is up
        the handler has said ``success``: the statement still goes out, and the resident's next
        message (the entry waiting) gets the transfer."""
        self._metrics.answer("transfer")
        pushing = asyncio.ensure_future(self._deliver(envelope.openid, answer.text, sender))
        self._tasks.add(pushing)
        pushing.add_done_callback(self._tasks.discard)
        left = STATEMENT_FIRST if started is None else min(STATEMENT_FIRST, self._left(started) - POLL)
        await asyncio.wait({pushing}, timeout=max(0.0, left))
        if await self._db(store.settle, key, store.ANSWERED, answer.text, owner=self.owner):
            log.info("wechat %s from %s: handed over to a person (queue entry %d)", key, sender, answer.handoff)
            return Transfer(self._kf_account)
        await self._db(store.settle, key, store.SENT, answer.text, expect=store.ASYNC, owner=self.owner)
        return None

    async def _held(self, key: str, sender: str, entry, incoming: Incoming) -> str | Transfer | None:
        """A message while a person holds (or is to hold) the conversation: kept from the assistant and
        recorded for the agent, once (WeChat's retries are deduped by the same claim as answers). The
        crisis detector reads it all the same: a crisis raises the entry and gets the crisis reply.
        Otherwise: the transfer again while it waits (WeChat keeps it in the agents' queue), the
        account's transfer when a WeChat agent holds it, and when a console agent does, a short note
        that the agent has it (never silence; their answer comes through the customer-service API)."""
        text = incoming.text if incoming.kind == "ask" else "[非文字消息]"
        tier = self._risk(incoming.kind, text)

        def work(session) -> None:
            store.claim(session, key, sender, self.owner)
            handoff.resident_said(session, entry, text, crisis=bool(tier))
            store.settle(session, key, store.ANSWERED, "", owner=self.owner)

        first = True
        try:
            await self._db(work)
            self._metrics.receive("wechat")
        except IntegrityError:
            first = False
            log.info("wechat %s: again (WeChat retried) while a person holds the conversation", key)
        if tier:
            log.warning("wechat %s from %s: crisis (%s) while a person holds the conversation (entry %d): "
                        "raised in the queue", key, sender, tier.name, entry.id)
            if first:  # a retry gets the same reply again: counted once
                self._metrics.crisis_answer(tier, "gateway")
            return self._replies[tier].text
        if entry.state == handoff.WAITING:
            return Transfer(self._kf_account)
        if entry.agent and handoff.is_wechat_account(entry.agent):
            return Transfer(entry.agent)
        try:  # read apart: a store without this statement must not lose the message recorded above
            return await self._db(lambda session: queries.statement(session, "human_handoff_held").text)
        except queries.NotFound:
            log.error("wechat: the store has no statement human_handoff_held (hotline ingest): nothing said")
            return None

    async def _kf_event(self, message: BaseMessage, sender: str) -> None:
        """WeChat's customer-service session events: an agent of the account took the conversation,
        passed it to another, or closed it (back to the assistant)."""
        event = message.event
        account = str(getattr(message, "to_account" if event == "kf_switch_session" else "account", "") or "")

        def work(session) -> str:
            entry = handoff.open_entry(session, handoff.sender_of(self._key, sender))
            if entry is None:
                return "no open entry"
            if event == "kf_close_session":
                return "closed" if handoff.close(session, entry.id, f"kf:{account}") else "not open"
            if event == "kf_create_session" and entry.state == handoff.WAITING:
                return "taken" if handoff.take(session, entry.id, account) else "not waiting"
            return "moved" if handoff.switch(session, entry.id, account) else "not taken"

        outcome = await self._db(work)
        log.info("wechat: %s from %s (%s): %s", event, sender, account or "?", outcome)

    async def deliver(self, entry_id: int, reach: str | None, text: str) -> str:
        """An agent's answer or a notice to the resident of a queue entry, through the customer-service
        API with its retry rules: handoff.SENT or handoff.FAILED."""
        envelope = self._sealer.open(reach_key(entry_id), reach) if reach else None
        if envelope is None:
            log.error("wechat: queue entry %d: no way to reach its resident", entry_id)
            return handoff.FAILED
        return await self._deliver(envelope.openid, text, f"entry {entry_id}")

    async def _deliver(self, openid: str, text: str, who: str) -> str:
        if self._api is None:
            log.error("wechat: %s: not delivered: WECHAT_APPID and WECHAT_SECRET are needed", who)
            return handoff.FAILED
        try:
            await self._api.send_text(openid, text)  # tried again with backoff (api.py)
        except WechatApiError as exc:
            log.warning("wechat: %s: customer-service API: %s", who, exc)
            return handoff.FAILED
        return handoff.SENT

    async def _push(self, key: str, sender: str, openid: str, text: str) -> None:
        """Deliver an answer through the customer-service API (the claim must be ``async`` and ours)."""
        if not await self._db(store.keep_reply, key, self.owner, text):
            log.warning("wechat %s from %s: taken over by another gateway meanwhile: not sent from here", key, sender)
            return
        self._metrics.answer("customer_service_api")
        state = store.FAILED
        if self._api is None:
            log.error("wechat %s from %s: answer not delivered: WECHAT_APPID and WECHAT_SECRET are needed "
                      "for answers slower than %.1f s", key, sender, self.deadline)
        else:
            try:
                await self._api.send_text(openid, text)  # tried again with backoff (api.py)
                state = store.SENT
                log.info("wechat %s from %s: answer sent through the customer-service API", key, sender)
            except WechatApiError as exc:
                log.warning("wechat %s from %s: customer-service API: %s", key, sender, exc)
                if exc.passing:
                    # WeChat busy or out of reach for longer than the backoff: the sweep tries again.
                    await self._db(store.release, self.owner, [key])
                    return
        try:
            await self._db(store.settle, key, state, text, expect=store.ASYNC, owner=self.owner)
        except Exception:  # noqa: BLE001 - the answer went out (or not); the row is bookkeeping
            log.exception("wechat %s: could not record its delivery", key)

    # --- claims: heartbeat, sweep, prune -----------------------------------------------------------
    def start(self) -> None:
        """Keep this gateway's claims alive and take over those of gateways that died (a task)."""
        self._keeper = asyncio.create_task(self._keep_claims(), name="wechat claims")

    async def _keep_claims(self) -> None:
        last_sweep = last_prune = float("-inf")
        while True:
            await asyncio.sleep(self.heartbeat)
            now = self._clock()
            try:
                if self._working:
                    await self._db(store.heartbeat, self.owner, list(self._working))
                if self._stopping:
                    continue  # draining: beat for the answers still in progress, take on nothing new
                if now - last_sweep >= self.sweep_every:
                    last_sweep = now
                    await self.sweep()
                if now - last_prune >= PRUNE_EVERY:
                    last_prune = now
                    gone = await self._db(store.prune)
                    if gone:
                        log.info("wechat: %d old deliveries forgotten", gone)
            except Exception as exc:  # noqa: BLE001 - the store out of reach: next time
                log.warning("wechat: keeping the claims failed: %s", type(exc).__name__)

    async def sweep(self) -> None:
        """Take over the stale claims: of gateways that died while answering, or released."""
        for key in await self._db(store.stale, self._stale_after()):
            if key not in self._working:  # else this gateway's own, its heartbeat late
                await self._take_over(key, None)

    def _work(self, key: str, coro) -> asyncio.Task:
        """Run the answer of ``key`` as a task whose claim beats while it runs."""
        task = asyncio.create_task(coro, name=f"wechat {key}")
        self._tasks.add(task)
        self._working[key] = task

        def done(finished: asyncio.Task) -> None:
            self._tasks.discard(finished)
            if self._working.get(key) is finished:
                del self._working[key]
            if not finished.cancelled() and finished.exception() is not None:
                log.error("wechat %s: answering failed: %s", key, type(finished.exception()).__name__)

        task.add_done_callback(done)
        return task

    # --- helpers ------------------------------------------------------------------------------
    def _left(self, started: float) -> float:
        return max(0.0, started + self.deadline - self._clock())

    def _stale_after(self) -> timedelta:
        return timedelta(seconds=self.stale_after)

    async def _claim(self, key: str, sender: str, openid: str, incoming: Incoming, *,
                     held: bool = False) -> tuple[Any, Envelope | None]:
        """(the open handoff entry, None) when ``held`` is asked and a person holds the conversation
        (nothing claimed: the caller records it); else (None, the envelope: the message as Rasa is to get
        it, a chosen button's payload when a number picks one, taken in the same transaction and sealed
        into the claim), or (None, None) for a retry here or in another process, which changes nothing
        (a choice is not taken twice)."""
        def work(session) -> tuple[Any, Envelope | None]:
            if held and (entry := handoff.open_entry(session, handoff.sender_of(self._key, sender))) is not None:
                return entry, None
            message = incoming.text
            number = chosen_number(message) if incoming.kind == "ask" else None
            pending = store.take_choice(session, sender, number)
            if pending.choice is not None:
                message = pending.choice["payload"]
            envelope = Envelope(openid, incoming.kind, message, whole=pending.own_words)
            store.claim(session, key, sender, self.owner, sealed=self._sealer.seal(key, envelope))
            return None, envelope

        try:
            return await self._db(work)
        except IntegrityError:
            return None, None

    async def _db(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``work(session, *args, **kwargs)`` in one transaction, in a worker thread."""
        return await in_thread(self._sessions, work, *args, **kwargs)

    async def close(self) -> None:
        """Let answers in progress finish (up to ``drain_timeout``), then release the claims of those
        still unfinished to the next sweep (another gateway's, or this one's after a restart)."""
        self._stopping = True
        pending: set[asyncio.Task] = set()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self.drain_timeout)
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        unfinished = [key for key, task in self._working.items() if task in pending]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if unfinished:
            try:
                released = await self._db(store.release, self.owner, unfinished)
            except Exception as exc:  # noqa: BLE001 - then their heartbeat's silence releases them
                log.warning("wechat: could not release claims at shutdown: %s", type(exc).__name__)
                released = 0
            log.warning("wechat: %d answers unfinished at shutdown, %d released to the next sweep",
                        len(unfinished), released)
