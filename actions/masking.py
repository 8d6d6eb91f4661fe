"""Masking personal numbers before they reach anything a person other than the ticket's handler reads."""
from __future__ import annotations

import re

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?\d{3,4}(\d{4})(?!\d)")
_ID_CARD = re.compile(r"(?<![\dXx])(\d{6})\d{8}(\d{3}[\dXx])(?![\dXx])")


def mask_phone(phone: str) -> str:
    """13912345678 → 139****5678; 02584567890 → 025****7890; anything else is left as it is."""
    if re.fullmatch(r"1[3-9]\d{9}", phone):
        return phone[:3] + "****" + phone[-4:]
    if re.fullmatch(r"0\d{9,11}", phone):
        return phone[:3 if phone[1] in "12" else 4] + "****" + phone[-4:]
    if re.fullmatch(r"\d{7,8}", phone):
        return "****" + phone[-4:]
    return phone


def mask_text(text: str) -> str:
    """Every mobile, landline and ID-card number in a text masked."""
    text = _ID_CARD.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    text = _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    return _LANDLINE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
