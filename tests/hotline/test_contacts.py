"""The complaint form's phone under a one-time reference (hotline/contacts.py), on both backends."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from hotline import contacts
from hotline.models import PendingContact
from hotline.privacy import mask_text

NOW = datetime(2026, 11, 30, 2, 0)
HOUR = timedelta(hours=1)


def test_a_phone_is_read_back_once_then_gone(session):
    ref = contacts.keep(session, "139 1234 5678", lifetime=2 * HOUR, now=NOW)
    assert contacts.is_reference(ref)
    assert not re.search(r"\d", ref) and mask_text(ref) == ref  # nothing the masker would touch
    assert contacts.redeem(session, ref, now=NOW + HOUR) == "13912345678"
    assert contacts.redeem(session, ref, now=NOW + HOUR) is None
    assert session.scalar(select(PendingContact).where(PendingContact.ref == ref)) is None


def test_an_expired_or_unknown_reference_gives_no_phone(session):
    ref = contacts.keep(session, "025-8456 7890", lifetime=2 * HOUR, now=NOW)
    assert contacts.redeem(session, ref, now=NOW + 3 * HOUR) is None
    assert contacts.redeem(session, "contact:" + "a" * 26, now=NOW) is None
    assert contacts.redeem(session, "不留", now=NOW) is None


def test_keeping_a_phone_deletes_the_expired_ones_and_a_cancelled_form_its_own(session):
    old = contacts.keep(session, "13812345678", lifetime=HOUR, now=NOW)
    cancelled = contacts.keep(session, "13712345678", lifetime=2 * HOUR, now=NOW + 2 * HOUR)
    contacts.discard(session, cancelled)
    kept = contacts.keep(session, "13612345678", lifetime=2 * HOUR, now=NOW + 2 * HOUR)
    refs = set(session.scalars(select(PendingContact.ref)))
    assert old not in refs and cancelled not in refs and kept in refs


def test_what_is_not_a_phone_is_refused_without_echoing_it(session):
    try:
        contacts.keep(session, "我的卡号6222021234567890123", lifetime=HOUR, now=NOW)
    except ValueError as exc:
        assert "6222" not in str(exc)
    else:
        raise AssertionError("a card number kept as a phone")
