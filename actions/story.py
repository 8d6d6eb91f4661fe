"""What a complaint told as a story already says: what happened and when.

A resident often opens with the whole story ("昨天下午在鼓楼医院急诊，护士态度很差……") rather than
"我要投诉". The complaint form then asks only for what the story lacks. A bare request to complain
("我要投诉鼓楼医院", "怎么投诉一个医院") is not a story: the form asks what happened.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

# Words of asking to complain, greetings and particles: what is left once they (and the hospital's
# name) are gone is what the message says happened.
_ASKING = re.compile(
    r"你好|您好|在吗|喂|请问|麻烦|问一下|问下|一下|我要|我想|想要|我|投诉|举报|反映|反馈|怎么|如何|怎样|"
    r"在哪|哪里|哪儿|可以|能不能|能|吗|呢|吧|啊|呀|哦|的|了|个|一家|这家|那家|电话|号码|12320|医院|"
    r"[\s\W_\d]")
# Enough of one's own words to be what happened (医生态度很差 is; 服务, 乱收费 are asked about).
MIN_STORY = 6

_CN = "一二三四五六七八九十两"
_DAY = "[一二三四五六日天末]"
_CLOCK = rf"(?:\d{{1,2}}|[{_CN}]{{1,3}})(?:点|时)(?:\d{{1,2}}分|半|多|钟)?"
_TIME = re.compile(
    "|".join([
        rf"(?:(?:20)?\d{{2}}年)?(?:\d{{1,2}}|[{_CN}]{{1,3}})月(?:(?:\d{{1,2}}|[{_CN}]{{1,3}})[日号])?",
        r"(?<!\d)\d{1,2}[日号](?![楼窗床线门诊台室])",
        r"大前天|前天|昨天|今天|今早|昨晚|昨夜|前晚|刚才|刚刚|去年|前年",
        rf"(?:上|这|本)个?(?:周|星期|礼拜){_DAY}?|(?:周|星期|礼拜){_DAY}|(?:上|这|本)个?月",
        rf"(?:早上|上午|中午|下午|傍晚|晚上|夜里|凌晨|半夜)(?:{_CLOCK})?",
        _CLOCK,
    ]))


@dataclass(frozen=True)
class Story:
    description: Optional[str]  # the message itself when it tells what happened
    time: Optional[str]  # when, in the resident's words, when the story says so


def read(text: str, names: Iterable[str] = ()) -> Story:
    """What the message tells: `names` are the parts of it that name the hospital (entities' text)."""
    rest = text
    for name in names:
        if name:
            rest = rest.replace(name, "")
    if len(_ASKING.sub("", rest)) < MIN_STORY:
        return Story(None, None)
    return Story(text, _when(text))


def _when(text: str) -> Optional[str]:
    """The first run of time words (昨天 下午 3点 read together), or None."""
    spans = [m.span() for m in _TIME.finditer(text)]
    if not spans:
        return None
    start, end = spans[0]
    for s, e in spans[1:]:
        if s - end > 1:  # 昨天的下午 still reads as one; words further apart do not
            break
        end = e
    return text[start:end]
