"""Personal data: the one place for the rules about phone and ID numbers and about pseudonyms.

- ``normalise_phone``: what counts as a phone number a resident gave (the complaint form accepts it,
  the ticket stores it): a mainland mobile, a landline with area code, or a 7–8 digit local number,
  however it is typed (spaces, dashes, dots, parentheses, +86, full-width digits).
- ``pseudonym``: the one keyed hash (HMAC-SHA256) that stands for a person's identifier wherever
  the identifier itself must not be kept (the gateway's senders, the call log, the console's lookups).
- ``mask_phone`` / ``mask_text``: what a masked number looks like.

The one place that decides what a masked number looks like: 139****5678 (mobile), 025****7890
(landline with area code), ****7890 (local number), 320102********1234 (ID card). The call log,
reports and the action server's confirmations all use it. Numbers are recognised as residents type
them: with spaces or dashes between groups (139 1234 5678, 139-1234-5678), with the +86 / 86 prefix
(kept, it says nothing about the person), and in full-width digits (１３９…), which are read as digits.
"""
from __future__ import annotations

import hashlib
import hmac
import re

__all__ = ["PHONE", "mask_phone", "mask_text", "normalise_phone", "pseudonym"]

# Full-width digits and separators (a Chinese IME's default) read as their ASCII forms.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－　", "0123456789+- ")
_SEP = r"[ \-]?"  # one space or dash between digit groups, as people group numbers
_ID_CARD = re.compile(rf"(?<![0-9Xx])(\d{{6}}){_SEP}\d{{4}}{_SEP}\d{{4}}{_SEP}(\d{{3}}[0-9Xx])(?![0-9Xx])")
# A "+" before it is no reason to keep it in clear (tests/test_fuzz.py found +139 1234 5678 left as it was).
_MOBILE = re.compile(rf"(?<![0-9])((?:\+?86{_SEP})?1[3-9]\d){_SEP}\d{{4}}{_SEP}(\d{{4}})(?!\d)")
# Area codes: 010 and 02X have three digits, the others four (0516, 0371).
_LANDLINE = re.compile(rf"(?<!\d)((?:\+?86{_SEP})?0(?:[12]\d|[3-9]\d\d)){_SEP}\d{{3,4}}{_SEP}(\d{{4}})(?!\d)")
# A Nanjing local number without its area code: 8 digits from 2-9 (8456 7890). Not after a letter or
# dash, so that a ticket number (TS-20261122-0001) is left as it is.
_LOCAL = re.compile(r"(?<![0-9A-Za-z\-])[2-9]\d{3}[ \-]?(\d{4})(?![0-9\-])")


# A phone number as digits: mobile, landline with its area code, local number (7 or 8 digits).
_MOBILE_DIGITS = r"1[3-9]\d{9}"
_LANDLINE_DIGITS = r"0\d{9,11}"
_LOCAL_DIGITS = r"[2-9]\d{6,7}"
PHONE = re.compile(f"{_MOBILE_DIGITS}|{_LANDLINE_DIGITS}|{_LOCAL_DIGITS}")
# What people put between digit groups of a number they type or paste.
_GROUPING = re.compile(r"[\s\-－—.．·()（）]")


def normalise_phone(value: str) -> str | None:
    """The phone number in `value` as digits (13912345678, 02584567890, 84567890), or None when it
    holds none. A +86 / 86 country prefix is dropped; full-width digits are read as digits."""
    digits = _GROUPING.sub("", value.translate(_FULL_WIDTH))
    if len(digits) > 11:
        digits = digits.removeprefix("+86").removeprefix("86")
    found = re.search(r"\d+", digits)
    if not found or not PHONE.fullmatch(found.group(0)):
        return None
    return found.group(0)


def mask_phone(phone: str) -> str:
    """13912345678 → 139****5678; 02584567890 → 025****7890; anything else is left as it is."""
    if re.fullmatch(_MOBILE_DIGITS, phone):
        return phone[:3] + "****" + phone[-4:]
    if re.fullmatch(_LANDLINE_DIGITS, phone):
        return phone[:3 if phone[1] in "12" else 4] + "****" + phone[-4:]
    if re.fullmatch(_LOCAL_DIGITS, phone):
        return "****" + phone[-4:]
    return phone


def pseudonym(key: bytes, identifier: str, *, length: int = 16, prefix: str = "") -> str:
    """`prefix` + the first `length` hex digits of HMAC-SHA256(key, identifier): the same person
    always gets the same pseudonym, and nobody without the key can tell whose it is."""
    digest = hmac.new(key, identifier.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return prefix + digest[:length]


def mask_text(text: str) -> str:
    """Every mobile, landline and ID-card number in a text masked."""
    text = text.translate(_FULL_WIDTH)
    text = _ID_CARD.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    text = _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    text = _LANDLINE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    return _LOCAL.sub(lambda m: "****" + m.group(1), text)

