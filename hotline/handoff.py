"""Human handoff: the queue of conversations handed to the centre's agents, in the store.

An entry is made when the assistant hands a conversation over (``action_human_handoff``, any
channel but the console's own lookups). It is ``waiting`` until an agent takes it (the console, or a
WeChat customer-service account: ``kf_create_session``), ``taken`` until it is closed (the agent, the
WeChat session's end), and ``expired`` when nobody took it within ``Settings.handoff_wait`` or the
centre's hours ended (``expire_due``, the app's periodic task). Outside the hours the request itself
is recorded expired at once. One open entry (waiting or taken) per sender at most.

Every change of state is a conditional UPDATE on the state it expects: two agents cannot take one
conversation, and a close, a take and an expiry racing each other end with exactly one winner.

Every function takes the session first and works in the caller's transaction; times are naive UTC.
Texts are masked here (hotline/privacy.py) before they are stored. The sender is the call log's
pseudonym (hotline/calllog.py), so an entry's transcript is its sender's turns.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Iterable

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from hotline import taxonomy
from hotline.calllog import CONSOLE_SENDER_PREFIX, REST, WECHAT, pseudonym
from hotline.clock import local, utc
from hotline.models import CallConversation, CallTurn, Handoff, HandoffMessage
from hotline.privacy import mask_text

WAITING, TAKEN, CLOSED, EXPIRED = "waiting", "taken", "closed", "expired"
OPEN = (WAITING, TAKEN)
STATES = (WAITING, TAKEN, CLOSED, EXPIRED)
RESIDENT, AGENT, NOTICE = "resident", "agent", "notice"
SENT, FAILED, STORED = "sent", "failed", "stored"
TIMEOUT, OUTSIDE_HOURS = "timeout", "outside_hours"
# How far before the request the transcript reaches back: Rasa's session (session_expiration_time).
TRANSCRIPT_BEFORE = timedelta(minutes=60)
ANSWER_WINDOW = timedelta(hours=48)  # WeChat's customer-service messages: within 48 h of the user's last
MAX_MESSAGE = 2000  # characters of one message kept (and of an agent's answer)
CLOSED_SHOWN = timedelta(hours=24)  # closed and expired entries the queue page still lists


class HandoffError(ValueError):
    """An entry that does not exist, or a change its state does not allow."""


class NotOpen(HandoffError):
    """The entry is closed or expired (or taken by another agent, for an answer)."""


def sender_of(key: bytes, sender_id: str) -> str:
    """The entry's sender for a Rasa sender id (the call log's pseudonym)."""
    return pseudonym(key, sender_id)


def is_resident(sender_id: str) -> bool:
    """The console's lookups are agents, not residents: they are never queued."""
    return not sender_id.startswith(CONSOLE_SENDER_PREFIX)


def is_wechat_account(agent: str) -> bool:
    """Whether an entry's agent is a WeChat customer-service account (kf2001@gh_…): console agents'
    names have no @ (hotline/agents.py NAME)."""
    return "@" in agent


def within_hours(hours: tuple[time, time], now: datetime | None = None) -> bool:
    """Whether ``now`` (UTC) falls in the opening hours (Nanjing time; an end before the start runs
    past midnight)."""
    start, end = hours
    moment = local(utc(now)).time().replace(tzinfo=None)
    if start < end:
        return start <= moment < end or (end == time.max and moment >= start)
    return moment >= start or moment < end


# --- the request --------------------------------------------------------------------------------------

def request(session: Session, sender: str, *, crisis: bool = False, channel: str = REST,
            open_now: bool = True, now: datetime | None = None) -> Handoff:
    """The sender's open entry (a crisis raises it), or a new one: ``waiting``, or ``expired`` at once
    (``closed_by`` outside_hours) when the centre is closed."""
    at = utc(now)
    entry = open_entry(session, sender)
    if entry is not None:
        if crisis:
            _raise_crisis(session, entry, at)
        return entry
    entry = Handoff(sender=sender, channel=channel, state=WAITING if open_now else EXPIRED, crisis=crisis,
                    created_at=at, last_message_at=at, crisis_at=at if crisis else None)
    if not open_now:
        entry.closed_at, entry.closed_by = at, OUTSIDE_HOURS
    session.add(entry)
    session.flush()
    return entry


# Built once; OPEN as plain comparisons (an IN list is rendered again at every execution).
_OPEN_ENTRY_ID = (select(Handoff.__table__.c.id)
                  .where(Handoff.__table__.c.sender == bindparam("sender"),
                         or_(*(Handoff.__table__.c.state == state for state in OPEN)))
                  .order_by(Handoff.__table__.c.id.desc()).limit(1))


def open_entry(session: Session, sender: str) -> Handoff | None:
    """The sender's waiting or taken entry, if any. Its id first, from the table: the gateway asks this
    of every message, and nearly every time there is none (no entity to load)."""
    entry_id = session.scalar(_OPEN_ENTRY_ID, {"sender": sender})
    return None if entry_id is None else session.get(Handoff, entry_id)


def get(session: Session, entry_id: int) -> Handoff:
    entry = session.get(Handoff, entry_id, populate_existing=True)
    if entry is None:
        raise HandoffError(f"no handoff {entry_id}")
    return entry


def reach_by(session: Session, entry_id: int, channel: str, reach: str | None) -> bool:
    """How the entry's resident is reached (the gateway's sealed OpenID); False once it is over."""
    done = session.execute(update(Handoff).where(Handoff.id == entry_id, Handoff.state.in_(OPEN))
                           .values(channel=channel, reach=reach))
    return done.rowcount == 1


# --- while a person holds it -----------------------------------------------------------------------

def resident_said(session: Session, entry: Handoff, text: str, *, crisis: bool,
                  now: datetime | None = None) -> None:
    """A message of the resident kept from the assistant (the entry is open): recorded masked; a
    crisis raises the entry to the top of the queue and counts the conversation as a crisis."""
    at = utc(now)
    session.add(HandoffMessage(handoff_id=entry.id, at=at, author=RESIDENT, text=_masked(text), crisis=crisis))
    session.execute(update(Handoff).where(Handoff.id == entry.id).values(last_message_at=at))
    if crisis:
        _raise_crisis(session, entry, at)
    session.flush()


def _raise_crisis(session: Session, entry: Handoff, at: datetime) -> None:
    session.execute(update(Handoff).where(Handoff.id == entry.id, Handoff.crisis.is_(False))
                    .values(crisis=True, crisis_at=at))
    # The call log counts the conversation under 心理危机干预 even though the assistant never saw
    # the message: its latest conversation takes the higher category.
    conversation = session.scalar(select(CallConversation).where(CallConversation.sender == entry.sender)
                                  .order_by(CallConversation.number.desc()).limit(1))
    if conversation is not None:
        conversation.category = taxonomy.higher(conversation.category, "心理危机干预")


def take(session: Session, entry_id: int, agent: str, now: datetime | None = None) -> bool:
    """``agent`` takes a waiting entry; False when it is not waiting any more (another took it first,
    it expired or was closed). One conditional UPDATE: of two agents, exactly one wins."""
    at = utc(now)
    done = session.execute(update(Handoff).where(Handoff.id == entry_id, Handoff.state == WAITING)
                           .values(state=TAKEN, agent=agent[:100], taken_at=at))
    return done.rowcount == 1


def switch(session: Session, entry_id: int, agent: str) -> bool:
    """The WeChat session moved to another customer-service account."""
    done = session.execute(update(Handoff).where(Handoff.id == entry_id, Handoff.state == TAKEN)
                           .values(agent=agent[:100]))
    return done.rowcount == 1


def can_answer(entry: Handoff, agent: str, now: datetime | None = None) -> str | None:
    """Why ``agent`` cannot answer the entry now (None: they can)."""
    if entry.state != TAKEN:
        return "not taken" if entry.state == WAITING else "over"
    if entry.agent != agent:
        return "another agent's"
    if entry.channel == WECHAT and utc(now) - entry.last_message_at > ANSWER_WINDOW:
        return "48 hours"
    return None


def answered(session: Session, entry_id: int, agent: str, text: str, delivery: str,
             now: datetime | None = None) -> HandoffMessage:
    """An agent's answer, recorded with how it went (sent, failed, stored); the first one delivered
    sets the time to first answer."""
    at = utc(now)
    message = HandoffMessage(handoff_id=entry_id, at=at, author=AGENT, agent=agent, text=_masked(text),
                             delivery=delivery)
    session.add(message)
    if delivery in (SENT, STORED):
        session.execute(update(Handoff).where(Handoff.id == entry_id, Handoff.first_answer_at.is_(None))
                        .values(first_answer_at=at))
    session.flush()
    return message


def notice(session: Session, entry_id: int, text: str, delivery: str, now: datetime | None = None) -> None:
    """What the system told the resident (the queue's timeout, the centre closed)."""
    session.add(HandoffMessage(handoff_id=entry_id, at=utc(now), author=NOTICE, text=_masked(text),
                               delivery=delivery))
    session.flush()


def close(session: Session, entry_id: int, by: str, now: datetime | None = None) -> bool:
    """Close an open entry (the conversation goes back to the assistant); False when it was not open.
    Forgets how to reach the resident, and keeps the ticket the conversation led to, if any."""
    at = utc(now)
    entry = get(session, entry_id)
    done = session.execute(update(Handoff).where(Handoff.id == entry_id, Handoff.state.in_(OPEN))
                           .values(state=CLOSED, closed_at=at, closed_by=by[:110], reach=None,
                                   ticket=_ticket(session, entry, at)))
    return done.rowcount == 1


def expire_due(session: Session, wait: timedelta, hours: tuple[time, time], now: datetime | None = None,
               limit: int = 50) -> list[Handoff]:
    """Expire the waiting entries nobody took within ``wait``, and all of them once the centre is
    closed; the entries expired here (with their reach, for the notice), oldest first."""
    at = utc(now)
    closed = not within_hours(hours, at)
    query = select(Handoff).where(Handoff.state == WAITING).order_by(Handoff.created_at).limit(limit)
    if not closed:
        query = query.where(Handoff.created_at <= at - wait)
    expired = []
    for entry in list(session.scalars(query)):
        why = OUTSIDE_HOURS if closed else TIMEOUT
        done = session.execute(update(Handoff).where(Handoff.id == entry.id, Handoff.state == WAITING)
                               .values(state=EXPIRED, closed_at=at, closed_by=why))
        if done.rowcount == 1:
            session.refresh(entry)
            expired.append(entry)
    return expired


def forget_reach(session: Session, entry_ids: Iterable[int]) -> None:
    """The resident was told (or could not be): how to reach them is not kept past the entry's end."""
    ids = list(entry_ids)
    if ids:
        session.execute(update(Handoff).where(Handoff.id.in_(ids), Handoff.state.not_in(OPEN))
                        .values(reach=None))


# --- what the console reads -------------------------------------------------------------------------

def queue(session: Session, now: datetime | None = None) -> list[Handoff]:
    """The open entries, crisis first, then the longest waiting; then those closed or expired in the
    last CLOSED_SHOWN, newest first."""
    open_ = list(session.scalars(select(Handoff).where(Handoff.state.in_(OPEN))
                                 .order_by(Handoff.crisis.desc(), Handoff.created_at, Handoff.id)))
    recent = list(session.scalars(select(Handoff).where(Handoff.state.not_in(OPEN),
                                                        Handoff.closed_at >= utc(now) - CLOSED_SHOWN)
                                  .order_by(Handoff.closed_at.desc()).limit(100)))
    return open_ + recent


def open_crises(session: Session) -> int:
    """Crisis conversations waiting or held: the console shows an alert on every page meanwhile."""
    return session.scalar(select(func.count()).select_from(Handoff)
                          .where(Handoff.state.in_(OPEN), Handoff.crisis.is_(True))) or 0


@dataclass(frozen=True)
class Line:
    at: datetime
    who: str  # resident, assistant, agent, notice
    text: str
    intent: str | None = None
    category: str | None = None
    ticket: str | None = None
    agent: str | None = None
    crisis: bool = False
    delivery: str | None = None


def transcript(session: Session, entry: Handoff, now: datetime | None = None) -> list[Line]:
    """What the agent reads: the sender's turns with the assistant (call log: masked, with intent,
    category and ticket) from TRANSCRIPT_BEFORE the request until the entry ended, then what was said
    while a person held it, in time order."""
    until = entry.closed_at or utc(now)
    lines: list[Line] = []
    for turn in session.scalars(select(CallTurn).where(CallTurn.sender == entry.sender,
                                                       CallTurn.time >= entry.created_at - TRANSCRIPT_BEFORE,
                                                       CallTurn.time <= until)
                                .order_by(CallTurn.time, CallTurn.id)):
        lines.append(Line(turn.time, RESIDENT, turn.text, turn.intent, turn.category, turn.ticket,
                          crisis=turn.category == "心理危机干预"))
        if turn.answer:
            lines.append(Line(turn.time, "assistant", turn.answer))
    for message in session.scalars(select(HandoffMessage).where(HandoffMessage.handoff_id == entry.id)
                                   .order_by(HandoffMessage.at, HandoffMessage.id)):
        lines.append(Line(message.at, message.author, message.text, agent=message.agent, crisis=message.crisis,
                          delivery=message.delivery))
    return sorted(lines, key=lambda line: line.at)


def _ticket(session: Session, entry: Handoff, until: datetime) -> str | None:
    return entry.ticket or session.scalar(
        select(CallTurn.ticket).where(CallTurn.sender == entry.sender, CallTurn.ticket.is_not(None),
                                      CallTurn.time >= entry.created_at - TRANSCRIPT_BEFORE,
                                      CallTurn.time <= until)
        .order_by(CallTurn.time.desc()).limit(1))


# --- the report ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stats:
    requests: int  # entries made in the period (outside hours included)
    crisis: int
    taken: int
    answered: int  # with a first human answer delivered (or stored, REST)
    expired: int  # nobody took it in time
    outside_hours: int
    wait_median: float | None  # seconds from the request to the first human answer
    wait_p90: float | None


def stats(session: Session, since: datetime, until: datetime) -> Stats:
    """The handoffs requested in [since, until): counts, and the time to the first human answer."""
    in_period = (Handoff.created_at >= since, Handoff.created_at < until)

    def count(*where) -> int:
        return session.scalar(select(func.count()).select_from(Handoff).where(*in_period, *where)) or 0

    # One pair of times per answered handoff: a period's handoffs are a queue's worth, not a call log's.
    waits = sorted((answer - created).total_seconds() for created, answer in session.execute(
        select(Handoff.created_at, Handoff.first_answer_at).where(*in_period, Handoff.first_answer_at.is_not(None))))
    return Stats(requests=count(), crisis=count(Handoff.crisis.is_(True)),
                 taken=count(Handoff.taken_at.is_not(None)), answered=len(waits),
                 expired=count(Handoff.state == EXPIRED, Handoff.closed_by == TIMEOUT),
                 outside_hours=count(Handoff.state == EXPIRED, Handoff.closed_by == OUTSIDE_HOURS),
                 wait_median=statistics.median(waits) if waits else None,
                 wait_p90=_percentile(waits, 0.9) if waits else None)


def _percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted values: the smallest value at least ``share`` of them reach."""
    rank = max(1, -(-int(share * 1000) * len(values) // 1000))  # ceil(share * n) without float error
    return values[min(rank, len(values)) - 1]


def _masked(text: str) -> str:
    return mask_text(text)[:MAX_MESSAGE]
