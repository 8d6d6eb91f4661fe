"""A WeChat user's pending answer remembers a question for the resident's own words (issue 13).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

- ``wechat_choice.own_words``: the assistant's last answer asked for the resident's own words (a
  complaint's description, its time, the contact phone), so the next message is that answer and is
  never divided into two requests (web/rasa.py, web/wechat/dedup.py).

Only an addition with a default: processes of the previous release keep working on the store while
it is upgraded. Made only when missing, as 0001 to 0004 do.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "own_words" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("wechat_choice")}:
        op.add_column("wechat_choice", sa.Column("own_words", sa.Boolean(), nullable=False,
                                                 server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("wechat_choice") as batch:
        batch.drop_column("own_words")
