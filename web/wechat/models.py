"""The WeChat gateway's tables: delivered messages (dedup and delivery state) and offered choices."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from database.base import Base


# --- the WeChat gateway (web/wechat) ---------------------------------------------------------------
# Neither table holds an OpenID: senders are the gateway's pseudonyms (wx-…, a keyed hash).


class WechatMessage(Base):
    """A message WeChat delivered, claimed by the first delivery (a unique key: WeChat retries a
    message it got no answer to, possibly to another app process), so the assistant sees it once and
    every retry gets the same answer. Rows are pruned after a day (web/wechat/dedup.py)."""

    __tablename__ = "wechat_message"
    __table_args__ = (Index("ix_wechat_message_received", "received_at"),
                      Index("ix_wechat_message_claims", "state", "heartbeat_at"))

    # msg:<sender>:<MsgId>, or event:<sender>:<CreateTime>: a MsgId is unique per sender only, and
    # one sender's message must never be taken for another's.
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    sender: Mapped[str] = mapped_column(String(40))  # pseudonym
    # answering → answered (passive reply) | async (answer too slow: customer-service API) → sent | failed
    state: Mapped[str] = mapped_column(String(12))
    reply: Mapped[str | None] = mapped_column(Text)  # the answer once known
    received_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # The claim: the gateway (process) answering it, and when that one last said it is alive. A claim
    # not final (answering, async) whose owner stopped beating is taken over (web/wechat/dedup.py).
    owner: Mapped[str | None] = mapped_column(String(80))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)  # UTC
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # claims taken so far
    # What a taker needs to answer (OpenID and message), encrypted (web/wechat/seal.py); cleared once
    # the message is final.
    sealed: Mapped[str | None] = mapped_column(Text)


class WechatChoice(Base):
    """What the assistant's last answer to a WeChat user left pending: the numbered choices (its
    buttons; a bare number sent back picks one) and whether it asked for the resident's own words (a
    complaint's description: the next message is that answer, never divided into requests). The
    next message clears it."""

    __tablename__ = "wechat_choice"

    sender: Mapped[str] = mapped_column(String(40), primary_key=True)  # pseudonym
    choices: Mapped[list] = mapped_column(JSON)  # [{"title": …, "payload": …}], possibly empty
    own_words: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    offered_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
