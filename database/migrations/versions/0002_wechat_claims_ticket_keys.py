"""WeChat claims with an owner and a heartbeat; tickets with an idempotency key (issue 16).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

- ``wechat_message``: ``owner``, ``heartbeat_at``, ``attempts``, ``sealed`` and an index on
  (state, heartbeat_at) for the sweep that takes over claims whose owner died (web/wechat/dedup.py).
- ``ticket``: ``idempotency_key`` with a unique index: one ticket per confirmed complaint, however
  often its confirmation is replayed (hotline/tickets.py).

Only additions, all nullable or defaulted: processes of the previous release keep working on the
store while it is upgraded. Each is made only when missing, as 0001 does: a store made by
``create_all`` from today's models (stamped 0001 by database/migrate.py) already has them.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None



def _wechat_columns() -> list[sa.Column]:
    return [
        sa.Column("owner", sa.String(length=80), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("sealed", sa.Text(), nullable=True),
    ]


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def _indexes(table: str) -> set[str]:
    return {i["name"] for i in sa.inspect(op.get_bind()).get_indexes(table)}


def upgrade() -> None:
    have = _columns("wechat_message")
    for column in _wechat_columns():
        if column.name not in have:
            op.add_column("wechat_message", column)
    if "ix_wechat_message_claims" not in _indexes("wechat_message"):
        op.create_index("ix_wechat_message_claims", "wechat_message", ["state", "heartbeat_at"])
    if "idempotency_key" not in _columns("ticket"):
        op.add_column("ticket", sa.Column("idempotency_key", sa.String(length=64), nullable=True))
    if "uq_ticket_idempotency_key" not in _indexes("ticket"):
        op.create_index("uq_ticket_idempotency_key", "ticket", ["idempotency_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.drop_index("uq_ticket_idempotency_key")
        batch.drop_column("idempotency_key")
    with op.batch_alter_table("wechat_message") as batch:
        batch.drop_index("ix_wechat_message_claims")
        for column in reversed(_wechat_columns()):
            batch.drop_column(column.name)
