"""The complaint form's phone, kept out of the conversation: a one-time reference.

A resident's phone goes into Rasa's tracker store with every slot the form sets, and the tracker
store keeps conversations for a while (docs/privacy.md). So the form does not put the phone in a
slot: it puts it here, under a random reference, and the slot holds the reference and the masked
number. When the confirmed complaint becomes a ticket the phone is read back once and the row is
deleted in the same unit of work; a cancelled form deletes it; a row nobody redeems expires.

The reference is made of letters only: the masker (hotline/privacy.py) never takes any part of it
for a number, and it says nothing about the phone.
"""
from __future__ import annotations

import secrets
import string
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hotline.clock import utc
from hotline.models import PendingContact
from hotline.privacy import normalise_phone

PREFIX = "contact:"
_LETTERS = string.ascii_lowercase
_LENGTH = 26  # 26 letters: 122 bits


def is_reference(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX) and len(value) == len(PREFIX) + _LENGTH


def keep(session: Session, phone: str, *, lifetime: timedelta, now: datetime | None = None) -> str:
    """Keep a phone (any form the masker reads) until it is redeemed or ``lifetime`` has passed;
    its reference. Expired rows are deleted on the way (an index on expires_at makes it cheap)."""
    digits = normalise_phone(phone)
    if digits is None:
        raise ValueError("not a phone number")  # no digits echoed: messages end up in logs
    at = utc(now)
    purge(session, now=at)
    ref = PREFIX + "".join(secrets.choice(_LETTERS) for _ in range(_LENGTH))
    session.add(PendingContact(ref=ref, phone=digits, expires_at=at + lifetime))
    return ref


def redeem(session: Session, ref: str, *, now: datetime | None = None) -> str | None:
    """The phone kept under ``ref``, deleted as it is read; None when it is unknown or expired."""
    if not is_reference(ref):
        return None
    row = session.scalar(select(PendingContact).where(PendingContact.ref == ref).with_for_update())
    if row is None:
        return None
    phone, expired = row.phone, row.expires_at <= utc(now)
    session.delete(row)
    return None if expired else phone


def discard(session: Session, ref: object) -> None:
    """Forget a reference the resident will not use (the form was cancelled)."""
    if is_reference(ref):
        session.execute(delete(PendingContact).where(PendingContact.ref == ref))


def purge(session: Session, *, now: datetime | None = None) -> int:
    """Delete the expired rows; how many."""
    done = session.execute(delete(PendingContact).where(PendingContact.expires_at <= utc(now)))
    return done.rowcount or 0
