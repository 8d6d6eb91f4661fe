"""Tickets: complaints the assistant takes (自接工单) and 12345 work orders agents register.

Every function takes the session first and works inside the caller's transaction
(``with Session(engine) as s, s.begin(): open_ticket(s, ...)``).

Numbers are TS-YYYYMMDD-NNNN: the Nanjing (UTC+8) date of the opening and a per-day sequence
from 0001, drawn from a counter row per day. The counter is written before it is read, so its row
lock (PostgreSQL) or the database write lock (SQLite) makes concurrent openings wait for each other
instead of drawing the same number; the wait ends with the other transaction, so a caller should
keep the transaction that opens a ticket short.

Statuses: open → in_progress → closed; in_progress → open (handed back) and closed → in_progress
(reopened). Every change, the opening included, is kept in ``TicketChange`` with who made it.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from hotline.clock import local_date, utc
from hotline.models import Ticket, TicketChange, TicketCounter
from hotline.privacy import mask_text, normalise_phone
from hotline.taxonomy import WORK_ORDER_KINDS
from knowledge.queries import NotFound

SELF_TAKEN = "自接工单"  # a complaint the assistant took
KINDS = (SELF_TAKEN, *(k for k in WORK_ORDER_KINDS if k != SELF_TAKEN))  # the bulletin's work orders
FORWARDED_KINDS = tuple(k for k in KINDS if k != SELF_TAKEN)  # from 12345, registered by an agent
STATUSES = ("open", "in_progress", "closed")
TRANSITIONS = {
    "open": {"in_progress"},
    "in_progress": {"closed", "open"},
    "closed": {"in_progress"},
}
ASSISTANT = "assistant"  # the actor of tickets the assistant opened
MAX_TEXT = 2000



class TicketNotFound(NotFound):
    """No ticket has that number."""


class TicketError(ValueError):
    """A ticket cannot be opened or changed as asked."""


class InvalidTransition(TicketError):
    """The status change is not one of the allowed transitions."""


def open_ticket(session: Session, *, kind: str = SELF_TAKEN, hospital: str, description: str,
                occurred: str, phone: str | None, sender: str | None,
                now: datetime | None = None, actor: str = ASSISTANT,
                idempotency_key: str | None = None) -> Ticket:
    """Open a ticket and return it (flushed: its number is set).

    `phone` is kept in clear on the ticket only; None, empty, or words without digits (不留: the
    resident declined) store None; anything else must be a mainland mobile or landline number
    (spaces, dashes, +86 allowed). `sender` is the call log's pseudonym (hotline.calllog.pseudonym).

    `idempotency_key` (at most 64 characters: a hash of what made the ticket, e.g. the conversation
    and its confirming turn): when a ticket was already opened with that key, it is returned and
    nothing new is opened. Concurrent replays wait for each other on the day's counter (drawn
    first, see the module docstring), so the second one finds the first one's ticket; across a
    change of day the key's unique index refuses the second (IntegrityError: the caller runs its
    unit of work again, which then finds the ticket).
    """
    if kind not in KINDS:
        raise TicketError(f"unknown ticket kind {kind!r}: one of {', '.join(KINDS)}")
    # Kept masked (hotline/privacy.py): the phone field is the one place a number stays in clear.
    hospital, description, occurred = (_text(mask_text(str(hospital or "")), "hospital", 100),
                                       _text(mask_text(str(description or "")), "description"),
                                       _text(mask_text(str(occurred or "")), "occurred", 100))
    phone = _phone(phone)
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 64:
        raise TicketError("an idempotency key is 1 to 64 characters")
    at = utc(now)
    day = local_date(at)
    number = _next_number(session, day)  # last of the checks: only a valid ticket draws a number
    if idempotency_key is not None:
        existing = session.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key)
                                  .execution_options(populate_existing=True))
        if existing is not None:
            _give_back(session, day, number)
            return existing
    ticket = Ticket(number=number, kind=kind, status="open", hospital=hospital, description=description,
                    occurred=occurred, phone=phone, sender=sender, created_at=at, updated_at=at,
                    idempotency_key=idempotency_key)
    ticket.changes.append(TicketChange(at=at, actor=actor, from_status=None, to_status="open"))
    session.add(ticket)
    session.flush()
    return ticket


def register_work_order(session: Session, *, kind: str, hospital: str, description: str, occurred: str,
                        phone: str | None, actor: str, now: datetime | None = None) -> Ticket:
    """An agent registers a work order forwarded by the city or province 12345 hotline."""
    if kind not in FORWARDED_KINDS:
        raise TicketError(f"a registered work order is {' or '.join(FORWARDED_KINDS)}, not {kind!r}")
    return open_ticket(session, kind=kind, hospital=hospital, description=description, occurred=occurred,
                       phone=phone, sender=None, now=now, actor=_text(actor, "actor", 100))


def get_ticket(session: Session, number: str) -> Ticket:
    found = session.scalar(
        select(Ticket).where(Ticket.number == number.strip().upper()).options(selectinload(Ticket.changes))
    )
    if found is None:
        raise TicketNotFound(f"no ticket numbered {number!r}")
    return found


def list_tickets(session: Session, *, status: str | None = None, kind: str | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 sender: str | None = None) -> list[Ticket]:
    """Tickets by creation time, oldest first; `since` inclusive, `until` exclusive (naive = UTC)."""
    if status is not None and status not in STATUSES:
        raise TicketError(f"unknown status {status!r}: one of {', '.join(STATUSES)}")
    if kind is not None and kind not in KINDS:
        raise TicketError(f"unknown ticket kind {kind!r}: one of {', '.join(KINDS)}")
    query = select(Ticket).order_by(Ticket.created_at, Ticket.id)
    if status:
        query = query.where(Ticket.status == status)
    if kind:
        query = query.where(Ticket.kind == kind)
    if since is not None:
        query = query.where(Ticket.created_at >= utc(since))
    if until is not None:
        query = query.where(Ticket.created_at < utc(until))
    if sender is not None:
        query = query.where(Ticket.sender == sender)
    return list(session.scalars(query))


def change_status(session: Session, number: str, to_status: str, *, actor: str, note: str | None = None,
                  now: datetime | None = None) -> Ticket:
    """Move a ticket to `to_status` (an allowed transition) and record who did it and why."""
    if to_status not in STATUSES:
        raise TicketError(f"unknown status {to_status!r}: one of {', '.join(STATUSES)}")
    # Written before it is read (a no-op update): two agents changing the same ticket at once are
    # serialised (row lock on PostgreSQL, write lock on SQLite) and the second one's transition is
    # checked against the first one's result.
    number = number.strip().upper()
    table = Ticket.__table__
    session.execute(update(table).where(table.c.number == number).values(updated_at=table.c.updated_at))
    ticket = session.scalar(
        select(Ticket).where(Ticket.number == number).execution_options(populate_existing=True)
    )
    if ticket is None:
        raise TicketNotFound(f"no ticket numbered {number!r}")
    if to_status not in TRANSITIONS[ticket.status]:
        raise InvalidTransition(f"{ticket.number} is {ticket.status}: it cannot become {to_status} "
                                f"(allowed: {', '.join(sorted(TRANSITIONS[ticket.status]))})")
    at = utc(now)
    ticket.changes.append(TicketChange(at=at, actor=_text(actor, "actor", 100), from_status=ticket.status,
                                       to_status=to_status, note=_optional(note)))
    ticket.status = to_status
    ticket.updated_at = at
    session.flush()
    return ticket


def _next_number(session: Session, day: date) -> str:
    key = day.strftime("%Y%m%d")
    counter = TicketCounter.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the store runs on these two
        raise TicketError(f"ticket numbering is not implemented for {dialect}")
    # Write first: the insert (or the update) takes the lock before anything is read.
    session.execute(insert(counter).values(day=key, last=0).on_conflict_do_nothing(index_elements=["day"]))
    last = session.execute(
        update(counter).where(counter.c.day == key).values(last=counter.c.last + 1).returning(counter.c.last)
    ).scalar_one()
    return f"TS-{key}-{last:04d}"


def _give_back(session: Session, day: date, number: str) -> None:
    """Undo the draw of ``number``: the counter's lock is still this transaction's, nobody drew since."""
    counter = TicketCounter.__table__
    session.execute(update(counter).where(counter.c.day == day.strftime("%Y%m%d"),
                                          counter.c.last == int(number[-4:])).values(last=counter.c.last - 1))


def _text(value: str, name: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise TicketError(f"a ticket needs its {name}")
    return text[:limit]


def _optional(value: str | None) -> str | None:
    text = " ".join(str(value or "").split())
    return text[:MAX_TEXT] or None


def _phone(value: str | None) -> str | None:
    if value is None or not re.search(r"\d", value):
        return None  # none given, or declined in words (不留)
    digits = normalise_phone(value)
    if digits is None:
        raise TicketError("the phone is not a mainland mobile or landline number")  # no digits echoed
    return digits
