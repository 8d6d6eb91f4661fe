"""The store as it was before migrations: every table Base.metadata.create_all made.

Revision ID: 0001
Revises:
Create Date: 2026-11-30

Each table (with its indexes) is created only when missing: a store made by create_all that was last
started before some tables existed gets just those (database/migrate.py stamps complete ones 0001
without running this). Rasa's ``events`` table is created in Rasa 3.6's shape (rasa/core/brokers/sql.py)
when missing, as Rasa itself does with checkfirst: whichever comes first, Rasa's SQL broker or this, the
other finds it. Later revisions never touch it (database/migrate.py RASA_TABLES).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# In creation order (foreign keys point backwards). database/migrate.py checks a legacy store for them.
TABLES = (
    "agent",
    "bulletin",
    "call_conversation",
    "call_log_consumer",
    "login_failure",
    "statement",
    "subject",
    "ticket",
    "ticket_audit",
    "ticket_counter",
    "wechat_choice",
    "wechat_message",
    "alias",
    "call_turn",
    "channel",
    "console_session",
    "district",
    "fact",
    "finding",
    "ticket_change",
    "hospital",
    "platform",
)


def _create_table(name: str, *elements, indexes: list[tuple[str, list[str]]] = ()) -> None:
    if sa.inspect(op.get_bind()).has_table(name):
        return
    op.create_table(name, *elements)
    for index, columns in indexes:
        op.create_index(index, name, columns)


def upgrade() -> None:
    _create_table(  # Rasa's, not ours: see above
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    _create_table(
        "agent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    _create_table(
        "bulletin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=100), nullable=False),
        sa.Column("issue", sa.String(length=50), nullable=True),
        sa.Column("serial", sa.String(length=50), nullable=True),
        sa.Column("published", sa.Date(), nullable=True),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("checksum"),
        sa.UniqueConstraint("source"),
    )
    _create_table(
        "call_conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started", sa.DateTime(), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=True),
        sa.Column("loop", sa.String(length=64), nullable=True),
        sa.Column("last_category", sa.String(length=20), nullable=True),
        sa.Column("last_turn_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender", "number"),
        indexes=[("ix_call_conversation_started", ["started"])],
    )
    _create_table(
        "call_log_consumer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consumed", sa.Integer(), nullable=False),
        sa.Column("last_run", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    _create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        indexes=[("ix_login_failure_key", ["key", "at"])],
    )
    _create_table(
        "statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=50), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("topic"),
    )
    _create_table(
        "subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "name"),
    )
    _create_table(
        "ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("hospital", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("occurred", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("sender", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        indexes=[("ix_ticket_created", ["created_at"])],
    )
    _create_table(
        "ticket_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("agent", sa.String(length=50), nullable=False),
        sa.Column("ticket_number", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        indexes=[("ix_ticket_audit_ticket", ["ticket_number", "at"])],
    )
    _create_table(
        "ticket_counter",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    _create_table(
        "wechat_choice",
        sa.Column("sender", sa.String(length=40), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("offered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sender"),
    )
    _create_table(
        "wechat_message",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("sender", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        indexes=[("ix_wechat_message_received", ["received_at"])],
    )
    _create_table(
        "alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_id", "text"),
        indexes=[("ix_alias_text", ["text"])],
    )
    _create_table(
        "call_turn",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=50), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("ticket", sa.String(length=20), nullable=True),
        sa.Column("loop", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["call_conversation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_key"),
        indexes=[("ix_call_turn_conversation_id", ["conversation_id"]), ("ix_call_turn_sender", ["sender", "time"]),
                 ("ix_call_turn_time", ["time"])],
    )
    _create_table(
        "channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _create_table(
        "console_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        indexes=[("ix_console_session_agent_id", ["agent_id"])],
    )
    _create_table(
        "district",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _create_table(
        "fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("measure", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("number", sa.Numeric(precision=24, scale=4), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("section", sa.String(length=200), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("flag", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["bulletin_id"], ["bulletin.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
        indexes=[("ix_fact_bulletin", ["bulletin_id"]), ("ix_fact_lookup", ["subject_id", "measure", "period"])],
    )
    _create_table(
        "finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["bulletin_id"], ["bulletin.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    _create_table(
        "ticket_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        indexes=[("ix_ticket_change_ticket_id", ["ticket_id"])],
    )
    _create_table(
        "hospital",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["district_id"], ["district.id"]),
        sa.ForeignKeyConstraint(["id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _create_table(
        "platform",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["centre_id"], ["hospital.id"]),
        sa.ForeignKeyConstraint(["id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    # Our tables only: `events` is Rasa's (and may hold events not yet consumed).
    for name in reversed(TABLES):
        op.drop_table(name)
