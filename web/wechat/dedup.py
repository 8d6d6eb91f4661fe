"""The gateway's rows in the store: dedupe of WeChat's deliveries, their claims, and the pending
numbered choices.

Every function takes the session first and works in the caller's transaction. Times are naive UTC.

A message's row is its lock: ``claim`` inserts it (the primary key makes a second delivery, in this
process or another, fail with IntegrityError), and every change of state is a conditional UPDATE
(``settle``), so the answer's task and a handler whose time is up agree on who delivers it.

A claim has an owner (the gateway that made it, ``Gateway.owner``) and a heartbeat: while a message
is not final (answering, async) its owner refreshes ``heartbeat_at``. A claim whose owner stopped
beating for ``stale_after`` (the process died while answering), or that its owner released (it
stopped before it could finish), is stale: ``take_over`` gives it to another gateway, once (a
conditional UPDATE again), which answers it from its sealed envelope (seal.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, NamedTuple

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from web.wechat.models import WechatChoice, WechatMessage
from knowledge.queries import NotFound
from hotline.clock import utc

ANSWERING, ANSWERED, ASYNC, SENT, FAILED = "answering", "answered", "async", "sent", "failed"
OPEN = (ANSWERING, ASYNC)  # not final: someone must still answer or deliver it
FINAL = (ANSWERED, SENT, FAILED)
KEEP_MESSAGES = timedelta(days=1)  # WeChat retries within 15 s; a day leaves room to look into one
CHOICES_TTL = timedelta(hours=1)  # Rasa's session (session_expiration_time) is 60 minutes
RELEASED = datetime(1970, 1, 1)  # the heartbeat of a released claim: stale at once
# Statements on the tables, not the ORM entities: every message runs a few of them, and the ORM's
# bulk paths (session synchronisation, entity evaluation) were most of the gateway's CPU time.
_MESSAGES, _CHOICES = WechatMessage.__table__, WechatChoice.__table__
_M, _C = _MESSAGES.c, _CHOICES.c
# The per-message statements, built once (building one costs more than running it); their SET
# clauses come from the parameters given (a b_ name is a condition's, never a column's).
_CLAIM = insert(_MESSAGES)
_SETTLE = update(_MESSAGES).where(_M.key == bindparam("b_key"), _M.state == bindparam("b_expect"))
_SETTLE_OWNED = _SETTLE.where(_M.owner == bindparam("b_owner"))
_TAKE_CHOICE = (delete(_CHOICES).where(_C.sender == bindparam("b_sender"))
                .returning(_C.choices, _C.own_words, _C.offered_at))
_CLEAR_CHOICE = delete(_CHOICES).where(_C.sender == bindparam("b_sender"))
_OFFER_CHOICE = insert(_CHOICES)


class MessageNotFound(NotFound):
    """No delivery with that key is kept."""


def claim(session: Session, key: str, sender: str, owner: str, now: datetime | None = None, *,
          sealed: str | None = None) -> None:
    """Record the first delivery of a message (state ``answering``, claimed by ``owner``; ``sealed``:
    its envelope, as ``seal`` keeps it). One INSERT, no unit of work to flush (every message pays for
    it): IntegrityError means another delivery of it came first (the caller's transaction is then
    unusable)."""
    at = utc(now)
    session.execute(_CLAIM, {"key": key, "sender": sender, "state": ANSWERING, "received_at": at, "updated_at": at,
                             "owner": owner, "heartbeat_at": at, "attempts": 1, "sealed": sealed})


def seal(session: Session, key: str, sealed: str) -> None:
    session.execute(update(_MESSAGES).where(_M.key == key).values(sealed=sealed))


def get_message(session: Session, key: str) -> WechatMessage:
    row = session.get(WechatMessage, key, populate_existing=True)
    if row is None:
        raise MessageNotFound(f"no WeChat message {key!r}")
    return row


def settle(session: Session, key: str, state: str, reply: str | None = None, *,
           expect: str = ANSWERING, owner: str | None = None, now: datetime | None = None) -> bool:
    """Move a message from ``expect`` to ``state`` (with its reply); False when it was not in
    ``expect`` any more (someone else moved it first) or, ``owner`` given, is no longer that one's
    (taken over). A final state forgets the sealed envelope."""
    params: dict = {"state": state, "updated_at": utc(now), "b_key": key, "b_expect": expect}
    if reply is not None:
        params["reply"] = reply
    if state in FINAL:
        params["sealed"] = None
    if owner is not None:
        params["b_owner"] = owner
    return session.execute(_SETTLE if owner is None else _SETTLE_OWNED, params).rowcount == 1


def keep_reply(session: Session, key: str, owner: str, reply: str, now: datetime | None = None) -> bool:
    """The answer of a message going through the customer-service API, recorded before it is pushed
    (a taker then pushes it rather than asking again); False when the claim is not ``owner``'s."""
    done = session.execute(update(_MESSAGES)
                           .where(_M.key == key, _M.state == ASYNC,
                                  _M.owner == owner)
                           .values(reply=reply, updated_at=utc(now)))
    return done.rowcount == 1


def heartbeat(session: Session, owner: str, keys: Iterable[str], now: datetime | None = None) -> int:
    """``owner`` is alive and still working on ``keys``."""
    return _beat(session, owner, keys, utc(now))


def release(session: Session, owner: str, keys: Iterable[str]) -> int:
    """``owner`` gives up ``keys`` (it is stopping, or WeChat's API is failing): stale at once."""
    return _beat(session, owner, keys, RELEASED)


def _beat(session: Session, owner: str, keys: Iterable[str], at: datetime) -> int:
    """Set the heartbeat of ``owner``'s open claims among ``keys``; how many there were."""
    keys = list(keys)
    if not keys:
        return 0
    return session.execute(update(_MESSAGES)
                           .where(_M.owner == owner, _M.key.in_(keys),
                                  _M.state.in_(OPEN))
                           .values(heartbeat_at=at)).rowcount


def _stale(before: datetime):
    # Rows of the previous release have no heartbeat: their last change stands for it.
    return func.coalesce(_M.heartbeat_at, _M.updated_at) < before


def is_stale(row: WechatMessage, stale_after: timedelta, now: datetime | None = None) -> bool:
    return row.state in OPEN and (row.heartbeat_at or row.updated_at) < utc(now) - stale_after


def stale(session: Session, stale_after: timedelta, now: datetime | None = None, limit: int = 20) -> list[str]:
    """Keys of messages not final whose owner stopped beating (oldest first)."""
    query = (select(_M.key)
             .where(_M.state.in_(OPEN), _stale(utc(now) - stale_after))
             .order_by(_M.received_at).limit(limit))
    return list(session.scalars(query))


def take_over(session: Session, key: str, owner: str, stale_after: timedelta, *, state: str | None = None,
              now: datetime | None = None) -> WechatMessage | None:
    """Make ``owner`` the owner of a stale claim (in ``state``, or the state it is in); the row, or
    None when it is not stale any more (its owner beat, it was settled, or another took it first)."""
    at = utc(now)
    values: dict = {"owner": owner, "heartbeat_at": at, "updated_at": at, "attempts": _M.attempts + 1}
    if state is not None:
        values["state"] = state
    done = session.execute(update(_MESSAGES)
                           .where(_M.key == key, _M.state.in_(OPEN),
                                  _stale(at - stale_after))
                           .values(**values))
    return get_message(session, key) if done.rowcount == 1 else None


def prune(session: Session, now: datetime | None = None) -> int:
    """Forget deliveries older than KEEP_MESSAGES and choices older than CHOICES_TTL."""
    at = utc(now)
    gone = session.execute(delete(_MESSAGES).where(_M.received_at < at - KEEP_MESSAGES))
    session.execute(delete(_CHOICES).where(_C.offered_at < at - CHOICES_TTL))
    return gone.rowcount


# --- numbered choices ------------------------------------------------------------------------------

class Pending(NamedTuple):
    """What a message finds pending from the last answer (``take_choice``)."""

    choice: dict[str, str] | None  # the choice its bare number picks
    own_words: bool  # the last answer asked for the resident's own words: this message is the answer


NOTHING_PENDING = Pending(None, False)


def offer_choices(session: Session, sender: str, choices: list[dict[str, str]],
                  now: datetime | None = None, *, own_words: bool = False) -> None:
    """Replace what is pending for the sender: the choices ([{"title", "payload"}]) and whether the
    answer asked for the resident's own words (neither: clear it)."""
    session.execute(_CLEAR_CHOICE, {"b_sender": sender})
    if choices or own_words:
        session.execute(_OFFER_CHOICE, {"sender": sender, "choices": choices, "own_words": own_words,
                                        "offered_at": utc(now)})


def take_choice(session: Session, sender: str, number: int | None,
                now: datetime | None = None) -> Pending:
    """What is pending for the sender, if it is recent: the choice ``number`` (1-based) picks, and
    whether this message answers a question for the resident's own words. Cleared in every case: a
    choice is made once, and any other message moves the conversation on. One DELETE … RETURNING
    (SQLite 3.35+, PostgreSQL): most messages find nothing pending."""
    row = session.execute(_TAKE_CHOICE, {"b_sender": sender}).first()
    if row is None or row.offered_at < utc(now) - CHOICES_TTL:
        return NOTHING_PENDING
    choice = row.choices[number - 1] if number is not None and 1 <= number <= len(row.choices) else None
    return Pending(choice, bool(row.own_words) and choice is None)
