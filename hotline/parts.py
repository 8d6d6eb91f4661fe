"""Several requests in one message: where a resident turns to a second question.

"鼓楼医院怎么挂号？顺便问一下12320能投诉吗" asks two things; the assistant understands one intent
per message, so the app asks Rasa each part in turn and gives both answers (web/rasa.py ``ask``).
Only explicit turns divide a message (顺便问一下, 另外问一下, 还有个问题 …): a message that merely
holds two clauses (a complaint's story) stays whole, and a part too short to be a request (顺便问一下
谢谢) is not split off. Traditional characters are read too: the app sees the text before the NLU's
normaliser does.
"""
from __future__ import annotations

import re

# The turn to another request; what follows it is the second request (the words of the turn are
# dropped: 顺便问一下 is no question).
_TURN = re.compile(
    r"[，,。.？?！!；;\s]*"
    r"(?:(?:顺|順)便(?:再)?(?:问|問|咨询|諮詢|说|說)(?:一)?(?:下|问|問)?"
    r"|另外(?:再)?(?:问|問|咨询|諮詢)(?:一)?(?:下|个|個)?(?:问题|問題)?"
    r"|(?:我)?(?:还|還)(?:想|要)(?:再)?(?:问|問|咨询|諮詢)(?:一)?(?:下|个|個)?(?:问题|問題)?"
    r"|(?:另外|还|還)有(?:一)?(?:个|個)(?:问题|問題|事)(?:想问|想問)?"
    r"|再(?:问|問)(?:一)?(?:下|个|個)(?:问题|問題)?)"
    r"[:：，,。.？?！!\s]*")
# A part shorter than this (characters other than punctuation and spaces) is no request of its own.
MIN_PART = 4
MAX_PARTS = 3


def split_requests(text: str) -> list[str]:
    """The message's requests in order: the message itself when it turns to no other."""
    if text.startswith("/"):  # a button's payload (/intent{...}): never divided
        return [text]
    parts, start = [], 0
    for turn in _TURN.finditer(text):
        head = text[start:turn.start()]
        if _size(head) >= MIN_PART and _size(text[turn.end():]) >= MIN_PART:
            parts.append(head)
            start = turn.end()
    parts.append(text[start:])
    if len(parts) > MAX_PARTS:  # a long list: the first ones apart, the rest together
        parts = parts[:MAX_PARTS - 1] + ["，".join(parts[MAX_PARTS - 1:])]
    return parts if len(parts) > 1 else [text]


def _size(part: str) -> int:
    return len(re.sub(r"[\W_]+", "", part))
