"""The hotline's own records: tickets and work orders, the call log, the console's agents, sessions and audit.

All on the one declarative base (database/base.py), so one Alembic history covers the whole store.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database.base import Base


# --- tickets (complaints taken by the assistant, 12345 work orders registered by agents) ----------
# Times are naive UTC datetimes on both backends; the Nanjing date (UTC+8) is used where a person
# reads a day (ticket numbers, report periods).


class Ticket(Base):
    """A work order: a complaint the assistant took (自接工单) or one forwarded by 12345 (市/省12345工单)."""

    __tablename__ = "ticket"
    __table_args__ = (Index("ix_ticket_created", "created_at"),
                      Index("uq_ticket_idempotency_key", "idempotency_key", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # TS-20261122-0001
    kind: Mapped[str] = mapped_column(String(20))  # 自接工单, 市12345工单, 省12345工单
    status: Mapped[str] = mapped_column(String(20))  # open, in_progress, closed
    hospital: Mapped[str] = mapped_column(String(100))  # canonical name, or the resident's words
    description: Mapped[str] = mapped_column(Text)
    occurred: Mapped[str] = mapped_column(String(100))  # when it happened, as told (昨天下午)
    # The only place a phone number is kept in clear: for the handler who calls back. None when the
    # resident declined to leave one. Never logged, never in a report.
    phone: Mapped[str | None] = mapped_column(String(20))
    sender: Mapped[str | None] = mapped_column(String(16))  # pseudonym; None for agents' work orders
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # What made it, when that may come again (a confirmed complaint replayed): one ticket per key
    # (hotline/tickets.py). A keyed hash; None for agents' work orders.
    idempotency_key: Mapped[str | None] = mapped_column(String(64))

    changes: Mapped[list[TicketChange]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketChange.id"
    )

    def __repr__(self) -> str:  # no phone, no description: reprs end up in logs
        return f"<Ticket {self.number} {self.kind} {self.status}>"


class PendingContact(Base):
    """A phone a resident left in the complaint form, until the ticket is opened from it.

    The form's slot (and so Rasa's tracker store) holds only ``ref``, a one-time reference, and the
    masked number: the phone is read back once, when the confirmed complaint becomes a ticket, and
    this row is deleted in the same unit of work (hotline/contacts.py). A row nobody redeems is
    deleted when it expires.
    """

    __tablename__ = "pending_contact"
    __table_args__ = (Index("ix_pending_contact_expires", "expires_at"),)

    ref: Mapped[str] = mapped_column(String(40), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime] = mapped_column(DateTime)

    def __repr__(self) -> str:  # no phone: reprs end up in logs
        return f"<PendingContact until {self.expires_at:%Y-%m-%d %H:%M}>"


class TicketChange(Base):
    """One status change of a ticket (its opening included): who, when, from what to what, why."""

    __tablename__ = "ticket_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))  # an agent, or "assistant"
    from_status: Mapped[str | None] = mapped_column(String(20))  # None when the ticket was opened
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)

    ticket: Mapped[Ticket] = relationship(back_populates="changes")


class TicketCounter(Base):
    """The last ticket number given out on a (Nanjing) day: its row lock serialises numbering."""

    __tablename__ = "ticket_counter"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)  # 20261122
    last: Mapped[int] = mapped_column(Integer)


# --- the call log (fed by Rasa's SQL event broker, hotline/calllog.py) -----------------------

# Rasa 3.6's SQLEventBroker table, defined exactly as Rasa does (rasa/core/brokers/sql.py), so that
# Rasa and our migrations (0001 creates it when missing) agree on it whichever runs first, and tests can
# insert broker rows. Autogenerate ignores it (database/migrate.py RASA_TABLES).
# Rows are deleted once consumed: no clear text stays behind.
events = Table(
    "events",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("data", Text),  # json.dumps of the event dict
)


class CallConversation(Base):
    """One sender's session (between session_started events), and the state the consumer carries
    across batches: the active form and the category of the latest turn."""

    __tablename__ = "call_conversation"
    __table_args__ = (UniqueConstraint("sender", "number"), Index("ix_call_conversation_started", "started"))

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(16))  # pseudonym
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … per sender
    started: Mapped[datetime | None] = mapped_column(DateTime)  # its first user message (UTC)
    category: Mapped[str | None] = mapped_column(String(20))  # highest priority of its turns
    loop: Mapped[str | None] = mapped_column(String(64))  # the active form now
    last_category: Mapped[str | None] = mapped_column(String(20))  # its latest turn's category
    last_turn_id: Mapped[int | None] = mapped_column(Integer)  # where a ticket_number slot goes


class CallTurn(Base):
    """One user message as the call log keeps it: pseudonymous sender, masked text and entities."""

    __tablename__ = "call_turn"
    __table_args__ = (Index("ix_call_turn_time", "time"), Index("ix_call_turn_sender", "sender", "time"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(64), unique=True)  # message_id: redeliveries dedupe
    conversation_id: Mapped[int] = mapped_column(ForeignKey("call_conversation.id"), index=True)
    time: Mapped[datetime] = mapped_column(DateTime)  # UTC
    sender: Mapped[str] = mapped_column(String(16))  # pseudonym
    channel: Mapped[str | None] = mapped_column(String(50))  # Rasa input_channel: rest, wechat …
    text: Mapped[str] = mapped_column(Text)  # masked
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    category: Mapped[str | None] = mapped_column(String(20))  # hotline/taxonomy.py
    entities: Mapped[list] = mapped_column(JSON)  # [{"entity": …, "value": … (masked)}]
    ticket: Mapped[str | None] = mapped_column(String(20))  # the ticket number this turn led to
    loop: Mapped[str | None] = mapped_column(String(64))  # the active form when it came
    # What the assistant answered to it (its bot events' texts, masked): the transcript an agent reads
    # when the conversation is handed over (hotline/handoff.py).
    answer: Mapped[str | None] = mapped_column(Text)

    conversation: Mapped[CallConversation] = relationship()


class CallLogCursor(Base):
    """How far the call log has read Rasa's broker rows. One row: every consumer (app workers, the
    CLI) updates it first, so they take turns."""

    __tablename__ = "call_log_consumer"

    id: Mapped[int] = mapped_column(primary_key=True)
    consumed: Mapped[int] = mapped_column(Integer)  # broker rows consumed so far
    last_run: Mapped[datetime | None] = mapped_column(DateTime)


# --- the agent console (web/console, hotline/agents.py) -------------------------------------


class Agent(Base):
    """A hotline agent who may log into the console (`hotline agent add NAME`)."""

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    # scrypt$<n>$<r>$<p>$<salt b64>$<key b64>: the KDF parameters travel with the hash, so that
    # they can be raised later without invalidating older passwords.
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login: Mapped[datetime | None] = mapped_column(DateTime)

    def __repr__(self) -> str:  # no hash in logs
        return f"<Agent {self.name}{'' if self.active else ' (disabled)'}>"


class ConsoleSession(Base):
    """A logged-in browser. Only the SHA-256 of the cookie's token is kept: a copy of the store
    does not let anyone log in."""

    __tablename__ = "console_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))  # the token every form of this session carries
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)

    agent: Mapped[Agent] = relationship()


class LoginFailure(Base):
    """One failed login, by name and by client address (two rows): what throttling counts, in the
    store so that it holds across restarts and across app workers."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120))  # name:<agent name> or addr:<client address>
    at: Mapped[datetime] = mapped_column(DateTime)


class TicketAudit(Base):
    """Who viewed or changed which ticket in the console. Plain columns, no foreign keys: the
    audit outlives whatever it is about."""

    __tablename__ = "ticket_audit"
    __table_args__ = (Index("ix_ticket_audit_ticket", "ticket_number", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    agent: Mapped[str] = mapped_column(String(50))
    ticket_number: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))  # viewed, status, registered
    detail: Mapped[str | None] = mapped_column(String(200))  # open → in_progress


# --- human handoff: the queue of conversations waiting for an agent (hotline/handoff.py) ----------


class Handoff(Base):
    """A conversation handed to a person: waiting → taken → closed, or expired (nobody took it in
    time, or outside the centre's hours). One open entry per sender at most."""

    __tablename__ = "handoff"
    __table_args__ = (Index("ix_handoff_queue", "state", "crisis", "created_at"),
                      Index("ix_handoff_sender", "sender", "state"),
                      Index("ix_handoff_created", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(16))  # the call log's pseudonym
    channel: Mapped[str] = mapped_column(String(10))  # wechat, rest
    state: Mapped[str] = mapped_column(String(10))  # waiting, taken, closed, expired
    crisis: Mapped[bool] = mapped_column(default=False)
    # How an agent's answer reaches the resident: on WeChat the OpenID, sealed as the gateway seals
    # its rows (web/wechat/seal.py); None on REST, and cleared once the entry is closed or expired.
    reach: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    last_message_at: Mapped[datetime] = mapped_column(DateTime)  # the resident's latest (WeChat's 48 h)
    crisis_at: Mapped[datetime | None] = mapped_column(DateTime)  # when a crisis was first seen in it
    taken_at: Mapped[datetime | None] = mapped_column(DateTime)
    first_answer_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    agent: Mapped[str | None] = mapped_column(String(100))  # a console agent, or a WeChat kf account
    # agent:<name>, kf:<account>, timeout, outside_hours
    closed_by: Mapped[str | None] = mapped_column(String(110))
    ticket: Mapped[str | None] = mapped_column(String(20))  # a ticket of the conversation, if any

    def __repr__(self) -> str:  # no reach in logs
        return f"<Handoff {self.id} {self.channel} {self.state}{' crisis' if self.crisis else ''}>"


class HandoffMessage(Base):
    """What was said while a person held (or was to hold) the conversation: the resident's messages
    the gateway kept from the assistant, the agent's answers, the notices sent. Masked text."""

    __tablename__ = "handoff_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoff.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    author: Mapped[str] = mapped_column(String(10))  # resident, agent, notice
    agent: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)  # masked
    crisis: Mapped[bool] = mapped_column(default=False)  # the crisis detector flagged it
    # agent answers and notices: sent (customer-service API), failed, stored (REST: nothing to push to)
    delivery: Mapped[str | None] = mapped_column(String(10))

