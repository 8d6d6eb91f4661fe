"""The store: a star of dimensions (bulletins, subjects and their aliases) around one fact table.

Subjects use joined-table inheritance: every hospital, district, channel and platform is a
``Subject`` (the one thing a fact and an alias point at), with its own table for what only
that kind has. Kinds without extra columns (city, organisation, hotline) live in ``subject``.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Bulletin(Base):
    __tablename__ = "bulletin"

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(100))
    issue: Mapped[str | None] = mapped_column(String(50))  # 2024年第1期
    serial: Mapped[str | None] = mapped_column(String(50))  # 总第143期
    published: Mapped[date | None] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(10))  # what its statistics cover: 2023, 2019-10
    source: Mapped[str] = mapped_column(String(255), unique=True)  # file name
    checksum: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the bytes
    ingested_at: Mapped[datetime] = mapped_column(DateTime)

    facts: Mapped[list[Fact]] = relationship(back_populates="bulletin", cascade="all, delete-orphan")
    findings: Mapped[list[Finding]] = relationship(
        back_populates="bulletin", cascade="all, delete-orphan"
    )

    @property
    def citation(self) -> str:
        """How an answer names its source: 《南京卫生信息化简报》2024年第1期."""
        title = f"《{self.series}》"
        if self.issue:
            return title + self.issue
        # The issue number is not printed: say which period the issue reports instead.
        return title + f"（{period_label(self.period)}数据，期号未载明）"


class Subject(Base):
    __tablename__ = "subject"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))

    aliases: Mapped[list[Alias]] = relationship(
        back_populates="subject", cascade="all, delete-orphan", order_by="Alias.text"
    )

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "subject"}


class District(Subject):
    __tablename__ = "district"
    id: Mapped[int] = mapped_column(ForeignKey("subject.id"), primary_key=True)
    __mapper_args__ = {"polymorphic_identity": "district"}


class Hospital(Subject):
    __tablename__ = "hospital"
    id: Mapped[int] = mapped_column(ForeignKey("subject.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(20))  # 综合, 中医, 儿童, 口腔, 社区卫生服务中心 …
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))

    district: Mapped[District | None] = relationship(foreign_keys=[district_id])
    __mapper_args__ = {"polymorphic_identity": "hospital", "inherit_condition": id == Subject.id}


class Channel(Subject):
    __tablename__ = "channel"
    id: Mapped[int] = mapped_column(ForeignKey("subject.id"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(20))  # online, phone, hospital
    note: Mapped[str | None] = mapped_column(Text)
    __mapper_args__ = {"polymorphic_identity": "channel"}


class Platform(Subject):
    __tablename__ = "platform"
    id: Mapped[int] = mapped_column(ForeignKey("subject.id"), primary_key=True)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("hospital.id"))

    centre: Mapped[Hospital | None] = relationship(foreign_keys=[centre_id])
    __mapper_args__ = {"polymorphic_identity": "platform", "inherit_condition": id == Subject.id}


class City(Subject):
    __mapper_args__ = {"polymorphic_identity": "city"}


class Organisation(Subject):
    __mapper_args__ = {"polymorphic_identity": "organisation"}


class Hotline(Subject):
    __mapper_args__ = {"polymorphic_identity": "hotline"}


class Alias(Base):
    """Another name for a subject. The same text may name several subjects: it is then ambiguous."""

    __tablename__ = "alias"
    __table_args__ = (UniqueConstraint("subject_id", "text"), Index("ix_alias_text", "text"))

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(20))  # curated, rule, printed (as a bulletin spells it)

    subject: Mapped[Subject] = relationship(back_populates="aliases")


class Fact(Base):
    """One figure of one bulletin, exactly as printed."""

    __tablename__ = "fact"
    __table_args__ = (
        Index("ix_fact_lookup", "subject_id", "measure", "period"),
        Index("ix_fact_bulletin", "bulletin_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletin.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    period: Mapped[str] = mapped_column(String(10))
    scope: Mapped[str] = mapped_column(String(12))  # period: during it; cumulative: as of its end
    measure: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(100))  # as printed: 810万, 672153.37, 6/11
    number: Mapped[Decimal | None] = mapped_column(Numeric(24, 4))  # for sums, sorting, checks
    unit: Mapped[str] = mapped_column(String(20))
    section: Mapped[str] = mapped_column(String(200))  # the table or paragraph heading
    line: Mapped[int] = mapped_column(Integer)
    flag: Mapped[str | None] = mapped_column(String(100))  # suspect: duplicate_row, out_of_scale …

    bulletin: Mapped[Bulletin] = relationship(back_populates="facts")
    subject: Mapped[Subject] = relationship()


class Statement(Base):
    """A curated statement the assistant quotes (safety advice, how a service works), with its source."""

    __tablename__ = "statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(50), unique=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))


class Finding(Base):
    """Something the checks found in a bulletin: kept, never fixed silently."""

    __tablename__ = "finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletin.id", ondelete="CASCADE"))
    severity: Mapped[str] = mapped_column(String(10))  # error, warning, info
    code: Mapped[str] = mapped_column(String(40))
    line: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)

    bulletin: Mapped[Bulletin] = relationship(back_populates="findings")


# --- tickets (complaints taken by the assistant, 12345 work orders registered by agents) ----------
# Times are naive UTC datetimes on both backends; the Nanjing date (UTC+8) is used where a person
# reads a day (ticket numbers, report periods).


class Ticket(Base):
    """A work order: a complaint the assistant took (自接工单) or one forwarded by 12345 (市/省12345工单)."""

    __tablename__ = "ticket"
    __table_args__ = (Index("ix_ticket_created", "created_at"),)

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

    changes: Mapped[list[TicketChange]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketChange.id"
    )

    def __repr__(self) -> str:  # no phone, no description: reprs end up in logs
        return f"<Ticket {self.number} {self.kind} {self.status}>"


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


# --- the call log (fed by Rasa's SQL event broker, knowledge/calllog.py) -----------------------

# Rasa 3.6's SQLEventBroker table, defined exactly as Rasa does (rasa/core/brokers/sql.py), so that
# Rasa and our create_all agree on it whichever runs first, and tests can insert broker rows.
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
    category: Mapped[str | None] = mapped_column(String(20))  # knowledge/taxonomy.py
    entities: Mapped[list] = mapped_column(JSON)  # [{"entity": …, "value": … (masked)}]
    ticket: Mapped[str | None] = mapped_column(String(20))  # the ticket number this turn led to
    loop: Mapped[str | None] = mapped_column(String(64))  # the active form when it came

    conversation: Mapped[CallConversation] = relationship()


class CallLogConsumer(Base):
    """One row: every consumer updates it first, so consumers (app workers, the CLI) take turns."""

    __tablename__ = "call_log_consumer"

    id: Mapped[int] = mapped_column(primary_key=True)
    consumed: Mapped[int] = mapped_column(Integer)  # broker rows consumed so far
    last_run: Mapped[datetime | None] = mapped_column(DateTime)


def period_label(period: str) -> str:
    """2023 -> 2023年, 2019-10 -> 2019年10月."""
    if "-" in period:
        year, month = period.split("-", 1)
        return f"{year}年{int(month)}月"
    return f"{period}年"


# --- the agent console (web/console, knowledge/console.py) -------------------------------------


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


# --- the WeChat gateway (web/wechat) ---------------------------------------------------------------
# Neither table holds an OpenID: senders are the gateway's pseudonyms (wx-…, a keyed hash).


class WechatMessage(Base):
    """A message WeChat delivered, claimed by the first delivery (a unique key: WeChat retries a
    message it got no answer to, possibly to another app process), so the assistant sees it once and
    every retry gets the same answer. Rows are pruned after a day (web/wechat/store.py)."""

    __tablename__ = "wechat_message"
    __table_args__ = (Index("ix_wechat_message_received", "received_at"),)

    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # MsgId, or event:<sender>:<CreateTime>
    sender: Mapped[str] = mapped_column(String(40))  # pseudonym
    # answering → answered (passive reply) | async (answer too slow: customer-service API) → sent | failed
    state: Mapped[str] = mapped_column(String(12))
    reply: Mapped[str | None] = mapped_column(Text)  # the answer once known
    received_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class WechatChoice(Base):
    """The numbered choices (the assistant's buttons) last offered to a WeChat user: a bare number
    sent back picks one; any other message clears them."""

    __tablename__ = "wechat_choice"

    sender: Mapped[str] = mapped_column(String(40), primary_key=True)  # pseudonym
    choices: Mapped[list] = mapped_column(JSON)  # [{"title": …, "payload": …}]
    offered_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
