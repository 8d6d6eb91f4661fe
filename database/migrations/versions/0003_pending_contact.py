"""The complaint form's phone under a one-time reference (issue 16, retention).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

- ``pending_contact``: a phone left in the complaint form until its ticket is opened (or the form is
  cancelled, or it expires), so that Rasa's tracker store never holds it (hotline/contacts.py).

Only an addition: processes of the previous release keep working while the store is upgraded. Made
only when missing, as 0001 does: a store made by ``create_all`` from today's models already has it.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
CREATES = ("pending_contact",)  # tests/database/test_migrations.py: with 0001's TABLES, today's schema


def upgrade() -> None:
    if "pending_contact" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "pending_contact",
        sa.Column("ref", sa.String(length=40), primary_key=True),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_pending_contact_expires", "pending_contact", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_pending_contact_expires", table_name="pending_contact")
    op.drop_table("pending_contact")
