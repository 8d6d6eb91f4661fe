"""Human handoff (issue 18): the queue of conversations handed to an agent, and the assistant's
answers in the call log.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

- ``handoff``: one row per conversation handed to a person (hotline/handoff.py), with the indexes
  of the queue (state, crisis, created_at), of a sender's open entry and of the report's period;
- ``handoff_message``: what was said while a person held it (masked);
- ``call_turn.answer``: the assistant's answer to each turn (masked), for the agent's transcript.

Only additions: processes of the previous release keep working on the store while it is upgraded.
Each is made only when missing, as 0001 and 0002 do.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
CREATES = ("handoff", "handoff_message")  # tests/database/test_migrations.py


def _tables() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def upgrade() -> None:
    tables = _tables()
    if "handoff" not in tables:
        op.create_table(
            "handoff",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("sender", sa.String(length=16), nullable=False),
            sa.Column("channel", sa.String(length=10), nullable=False),
            sa.Column("state", sa.String(length=10), nullable=False),
            sa.Column("crisis", sa.Boolean(), nullable=False),
            sa.Column("reach", sa.Text(), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("last_message_at", sa.DateTime(), nullable=False),
            sa.Column("crisis_at", sa.DateTime(), nullable=True),
            sa.Column("taken_at", sa.DateTime(), nullable=True),
            sa.Column("first_answer_at", sa.DateTime(), nullable=True),
            sa.Column("closed_at", sa.DateTime(), nullable=True),
            sa.Column("agent", sa.String(length=100), nullable=True),
            sa.Column("closed_by", sa.String(length=110), nullable=True),
            sa.Column("ticket", sa.String(length=20), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_handoff_queue", "handoff", ["state", "crisis", "created_at"])
        op.create_index("ix_handoff_sender", "handoff", ["sender", "state"])
        op.create_index("ix_handoff_created", "handoff", ["created_at"])
    if "handoff_message" not in tables:
        op.create_table(
            "handoff_message",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("handoff_id", sa.Integer(), nullable=False),
            sa.Column("at", sa.DateTime(), nullable=False),
            sa.Column("author", sa.String(length=10), nullable=False),
            sa.Column("agent", sa.String(length=100), nullable=True),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("crisis", sa.Boolean(), nullable=False),
            sa.Column("delivery", sa.String(length=10), nullable=True),
            sa.ForeignKeyConstraint(["handoff_id"], ["handoff.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_handoff_message_handoff_id", "handoff_message", ["handoff_id"])
    if "answer" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("call_turn")}:
        op.add_column("call_turn", sa.Column("answer", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_turn") as batch:
        batch.drop_column("answer")
    op.drop_index("ix_handoff_message_handoff_id", table_name="handoff_message")
    op.drop_table("handoff_message")
    for index in ("ix_handoff_created", "ix_handoff_sender", "ix_handoff_queue"):
        op.drop_index(index, table_name="handoff")
    op.drop_table("handoff")
