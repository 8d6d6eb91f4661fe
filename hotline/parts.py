"""Several requests in one message: where a resident turns to a second question.

"鼓楼医院怎么挂号？顺便问一下12320能投诉吗" asks two things; the assistant understands one intent
per message, so the app asks Rasa each part in turn and gives both answers (web/rasa.py ``ask``).
A message is divided where it turns to another request:
- an explicit turn (顺便问一下, 另外问一下, 还有个问题 …), whatever follows;
- a looser one (另外, 以及, 还有, 对了, 此外, 然后 …) or a question mark, only between two requests:
  the part before and the part after each ask something (吗, 怎么, 多少, 能不能, 投诉 …).
A story with two clauses (…，另外排队也很久) stays whole, and a part too short to be a request (顺便问一下
谢谢) is not split off. Traditional characters are read too: the app sees the text before the NLU's
normaliser does. tests/eval/two/ measures it (bench/two_requests.py).
"""
from __future__ import annotations

import re

_ASK = r"(?:问|問|咨询|諮詢|请教|請教|了解|知道)"
_ONE = r"(?:一)?(?:下|个|個)?"
_QUESTION_WORD = r"(?:问题|問題|事|事情)"
# The turn to another request; what follows it is the second request (the words of the turn are
# dropped: 顺便问一下 is no question).
_TURN = re.compile(
    r"[，,。.？?！!；;\s]*"
    rf"(?:(?:顺|順)(?:便|带|帶)(?:再)?(?:{_ASK}|说|說){_ONE}(?:{_ASK})?"
    rf"|另外(?:再)?(?:想)?{_ASK}{_ONE}{_QUESTION_WORD}?"
    rf"|(?:我)?(?:还|還|也)(?:想|要)(?:再)?{_ASK}{_ONE}{_QUESTION_WORD}?"
    rf"|(?:另外|还|還)有(?:一)?(?:个|個|件)(?:问题|問題|事|事情)(?:想{_ASK})?"
    rf"|另外(?:一)?(?:个|個|件)(?:问题|問題|事|事情)"
    rf"|再{_ASK}(?:一)?(?:下|个|個)(?:问题|問題)?)"
    r"[:：，,。.？?！!\s]*")
# Looser turns: a request follows only when both sides ask something.
_LOOSE = re.compile(
    r"(?:[，,。.？?！!；;]+\s*|\s+)"
    r"(?:(?:哦|噢)?对了|另外|以及|还有(?:就是|一个|一個)?|還有(?:就是)?|此外|其次|然后|然後|同时|同時|再就是"
    r"|除此之外|话说|話說)?"
    r"[:：，,。.\s]*")
_QUESTION_END = re.compile(r"[？?]")
# What a question holds.
_QUESTIONS = re.compile(
    r"吗|嗎|怎么|怎麼|怎样|怎樣|多少|(?<!好)几[个個家台次号號点點天位]|哪|是否|能不能|能否|可不可以|可以.{0,12}[吗嗎]|有没有|有沒有"
    r"|什么时候|什麼時候|是什么|是什麼|什么意思|什麼意思|要不要")
# What a request holds: a question, or a request's verb.
_ASKS = re.compile(_QUESTIONS.pattern + r"|投诉|投訴|反映|[转轉接找]人工|人工客服|请问|請問|帮我|幫我|麻烦|麻煩")
# Words that only sound like a question in a story (凭什么, 为什么这样): not a request of their own.
_RHETORICAL = re.compile(r"凭什么|憑什麼|为什么|為什麼|怎么能|怎麼能|怎么可以|怎麼可以|怎么回事|怎麼回事")
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
    parts = [piece for part in parts for piece in _loosely(part)]
    if len(parts) > MAX_PARTS:  # a long list: the first ones apart, the rest together
        parts = parts[:MAX_PARTS - 1] + ["，".join(parts[MAX_PARTS - 1:])]
    return parts if len(parts) > 1 else [text]


def _loosely(text: str) -> list[str]:
    """A part divided at its looser turns, where both sides ask something."""
    for turn in _LOOSE.finditer(text):
        head, rest = text[:turn.start()], text[turn.end():]
        marked = turn.group(0).strip("，,。.？?！!；;:： \t\n") or _QUESTION_END.search(turn.group(0))
        # two statements (我要投诉…，另外…我也要投诉) are one story: a question on one side at least
        if marked and _request(head) and _request(rest) and (_question(head) or _question(rest)):
            return [head, *_loosely(rest)]
    return [text]


def _request(part: str) -> bool:
    return _size(part) >= MIN_PART and bool(_ASKS.search(_RHETORICAL.sub("", part)))


def _question(part: str) -> bool:
    return bool(_QUESTIONS.search(_RHETORICAL.sub("", part)))


def _size(part: str) -> int:
    return len(re.sub(r"[\W_]+", "", part))
