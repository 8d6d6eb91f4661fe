"""Never silent: every message gets at least one reply, in every dialogue state, through the real
trained model, action server and REST channel.

Generated sequences: an opening of each kind (a figure, a service, a form, a greeting, a digression),
then every kind of short answer people send after it (好的, 嗯, 不是, 没有了, a phone number, a
time, a hospital); and the complaint form with each of those at each of its questions, including
the confirmation. A silent turn names its sequence."""
from __future__ import annotations

import itertools

import pytest

pytestmark = pytest.mark.e2e

OPENINGS = [
    "鼓楼医院2023年预约量多少", "怎么预约挂号", "12320是什么", "我要投诉", "帮我挂个号", "有哪些渠道可以挂号",
    "你好", "谢谢", "家庭医生有什么好处", "头疼吃什么药", "今天天气怎么样", "省人医和鼓楼哪个预约多",
    "预约量前五的医院", "健康档案怎么查",
]
FOLLOW_UPS = [
    "好的", "嗯", "好", "ok", "知道了", "行", "没问题", "那好吧", "哦", "是的", "对", "不是", "没有了", "再见",
    "13912345678", "昨天下午", "鼓楼医院",
]
COMPLAINT = ["我要投诉", "鼓楼医院", "挂号窗口的工作人员态度很差", "昨天下午", "13912345678"]
ODD = ["哦", "不是", "没有了", "好的", "13912345678", "鼓楼医院", "嗯嗯"]


async def test_every_follow_up_of_every_opening_gets_a_reply(system):
    silent = []
    for opening, follow_up in itertools.product(OPENINGS, FOLLOW_UPS):
        sender = system.new_sender("silent")
        for turn in (opening, follow_up):
            if not await system.send(sender, turn):
                silent.append(f"{opening} → {follow_up}: nothing after {turn!r}")
    assert not silent, f"{len(silent)} silent turns:\n" + "\n".join(silent[:20])


async def test_an_odd_answer_at_each_question_of_the_complaint_form_gets_a_reply(system):
    """At each question, and at the confirmation (the phone given again, 哦): asked again, never silence."""
    silent = []
    for asked_at, odd in itertools.product(range(1, len(COMPLAINT) + 1), ODD):
        sender = system.new_sender("silent-form")
        for turn in [*COMPLAINT[:asked_at], odd]:
            if not await system.send(sender, turn):
                silent.append(f"{COMPLAINT[:asked_at]} → {odd!r}: nothing after {turn!r}")
    assert not silent, f"{len(silent)} silent turns:\n" + "\n".join(silent[:20])


async def test_the_phone_again_at_the_confirmation_asks_again_and_a_yes_still_submits(system):
    sender = system.new_sender("confirm")
    for turn in COMPLAINT:
        await system.send(sender, turn)
    again = system.text(await system.send(sender, "13912345678"))
    assert "确认" in again and "工单号" not in again, again
    done = system.text(await system.send(sender, "确认提交"))
    assert "工单号" in done, done
