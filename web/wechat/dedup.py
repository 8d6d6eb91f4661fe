"""The gateway's rows in the store: dedupe of WeChat's deliveries and the pending numbered choices.

Every function takes the session first and works in the caller's transaction. Times are naive UTC.

A message's row is its lock: ``claim`` inserts it (the primary key makes a second delivery, in this
process or another, fail with IntegrityError), and every change of state is a conditional UPDATE
(``settle``), so the answer's task and a handler whose time is up agree on who delivers it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from web.wechat.models import WechatChoice, WechatMessage
from knowledge.queries import NotFound
from hotline.clock import utc

ANSWERING, ANSWERED, ASYNC, SENT, FAILED = "answering", "answered", "async", "sent", "failed"
KEEP_MESSAGES = timedelta(days=1)  # WeChat retries within 15 s; a day leaves room to look into one
CHOICES_TTL = timedelta(hours=1)  # Rasa's session (session_expiration_time) is 60 minutes


class MessageNotFound(NotFound):
    """No delivery with that key is kept."""


def claim(session: Session, key: str, sender: str, now: datetime | None = None) -> WechatMessage:
    """Record the first delivery of a message (state ``answering``). Flushes: IntegrityError means
    another delivery of it came first (the caller's transaction is then unusable)."""
    at = utc(now)
    row = WechatMessage(key=key, sender=sender, state=ANSWERING, received_at=at, updated_at=at)
    session.add(row)
    session.flush()
    return row


def get_message(session: Session, key: str) -> WechatMessage:
    row = session.get(WechatMessage, key, populate_existing=True)
    if row is None:
        raise MessageNotFound(f"no WeChat message {key!r}")
    return row


def settle(session: Session, key: str, state: str, reply: str | None = None, *,
           expect: str = ANSWERING, now: datetime | None = None) -> bool:
    """Move a message from ``expect`` to ``state`` (with its reply); False when it was not in
    ``expect`` any more (someone else moved it first)."""
    values: dict = {"state": state, "updated_at": utc(now)}
    if reply is not None:
        values["reply"] = reply
    done = session.execute(update(WechatMessage)
                           .where(WechatMessage.key == key, WechatMessage.state == expect)
                           .values(**values))
    return done.rowcount == 1


def prune(session: Session, now: datetime | None = None) -> int:
    """Forget deliveries older than KEEP_MESSAGES and choices older than CHOICES_TTL."""
    at = utc(now)
    gone = session.execute(delete(WechatMessage).where(WechatMessage.received_at < at - KEEP_MESSAGES))
    session.execute(delete(WechatChoice).where(WechatChoice.offered_at < at - CHOICES_TTL))
    return gone.rowcount


# --- numbered choices ------------------------------------------------------------------------------

def offer_choices(session: Session, sender: str, choices: list[dict[str, str]],
                  now: datetime | None = None) -> None:
    """Replace the sender's pending choices ([{"title", "payload"}]; none: clear them)."""
    session.execute(delete(WechatChoice).where(WechatChoice.sender == sender))
    if choices:
        session.add(WechatChoice(sender=sender, choices=choices, offered_at=utc(now)))
    session.flush()


def take_choice(session: Session, sender: str, number: int | None,
                now: datetime | None = None) -> dict[str, str] | None:
    """The pending choice ``number`` (1-based) of the sender, if there is one and it is recent.
    The pending choices are cleared in every case: a choice is made once, and any other message
    moves the conversation on."""
    row = session.scalar(select(WechatChoice).where(WechatChoice.sender == sender))
    if row is None:
        return None
    session.delete(row)
    session.flush()
    if number is None or row.offered_at < utc(now) - CHOICES_TTL:
        return None
    if 1 <= number <= len(row.choices):
        return row.choices[number - 1]
    return None
