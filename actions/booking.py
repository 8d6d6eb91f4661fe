"""Booking: how to book (the channels, 12320 by phone), a hospital's place in the booking tables,
and the family-doctor priority rule. Texts and figures come from the store."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge import queries, stats
from knowledge.models import period_label

from actions.forms import NO_HOSPITAL
from hotline.calllog import CONSOLE_SENDER_PREFIX
from actions.render import amount, figure_line, sources
from actions.statistics import ActionStatistics, asks_column, asks_for_figure, asks_how, read_question
from actions.db import sessions
from database.work import in_thread

# The booking tables' total, and the channels printed beside it (as the bulletins name them).
BOOKING_TOTAL = "小计"
CHANNEL_MEASURE = "预约数量"


class ActionBookingGuidance(Action):
    """After the booking form: the hospital in the booking tables, the channels, family doctors."""

    def name(self) -> Text:
        return "action_booking_guidance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        hospital = tracker.get_slot("booking_hospital")
        agent = tracker.sender_id.startswith(CONSOLE_SENDER_PREFIX)
        question = await in_thread(sessions(), read_question, tracker.latest_message)
        if question.unheld and question.subject_list:
            # 脑科医院 心理科 出诊表: what the bulletins do not hold is said, not the booking guidance
            return [*await ActionStatistics().run(dispatcher, tracker, domain), SlotSet("booking_hospital", None)]
        details = question.details
        how = asks_how(tracker.latest_message.get("text") or "")

        def work(s):
            if details:
                # 鼓楼医院心内科的号怎么约: the bulletins hold no department's slots or doctors; say so,
                # and how to book, without the platform's figures nobody asked for
                where = hospital if hospital and hospital != NO_HOSPITAL else ""
                dispatcher.utter_message(text=f"简报里没有{where}{'、'.join(details)}的号源、出诊医生和时间，我查不到。"
                                              "预约的渠道如下，号源以预约时看到的为准；也可以拨打12320，由话务员帮您查询和预约。")
                dispatcher.utter_message(text=queries.statement(s, "booking_channels").text)
                return
            if hospital and hospital != NO_HOSPITAL:
                # an agent's lookup shows the hospital's booking figures; asked how (怎么操作), the way only
                dispatcher.utter_message(text=hospital_booking(s, hospital, figures=agent and not how))
            dispatcher.utter_message(text=platform(s))
            dispatcher.utter_message(text=queries.statement(s, "family_doctor").text)
        await in_thread(sessions(), work)
        return [SlotSet("booking_hospital", None)]


def platform(s) -> str:
    """The booking platform and how to book on it."""
    return queries.statement(s, "booking_platform").text + queries.statement(s, "booking_channels").text


def hospital_booking(s, name: str, *, figures: bool = False) -> str:
    """Whether and how the hospital appears in the booking tables; with its latest figures for an
    agent (a resident asking how to book wants how to book, not booking volumes)."""
    try:
        hospital = stats.subject(s, name, "hospital")[0]
        total = stats.figure(s, hospital, BOOKING_TOTAL, None)
    except queries.NotFound:
        return (f"简报的预约挂号统计表中没有找到“{name}”，我无法确认它是否在南京市预约挂号平台上。"
                "您可以拨打12320咨询，或在下面的渠道里搜索这家医院。")
    first = total.facts[0]
    if not figures:
        return (f"{hospital.name}在南京市预约挂号平台上（简报的预约挂号统计表中有它），"
                "可以通过下面的渠道预约，也可以拨打12320电话预约。")
    parts = [f for f in stats.overview(s, hospital, first.period).facts
             if f.section == first.section and f.measure != BOOKING_TOTAL]
    breakdown = "、".join(f"{f.measure}{amount(f)}" for f in parts)
    text = (f"{hospital.name}在简报的预约挂号统计表中，可以通过预约挂号平台预约。"
            f"{period_label(first.period)}预约挂号{first.measure}{amount(first)}")
    if breakdown:
        text += f"，其中{breakdown}"
    flagged = [figure_line(f) for f in [first, *parts] if f.flag]
    text += "。" + "".join(f"\n{line}" for line in flagged)
    return f"{text}\n{sources([first, *parts])}"


class ActionBookingChannels(Action):
    """The booking channels: how to book for a resident; with how much each was used, for an agent
    (a resident asking which channels there are wants to book, not booking volumes)."""

    def name(self) -> Text:
        return "action_booking_channels"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        last = tracker.get_slot("stats_subject")

        def figure_asked(s) -> bool:
            # 健康南京APP2023年预约了多少: that figure; 预约挂号要交钱吗: not held, said so;
            # 快速预约呢 after a hospital's figure: its column
            return asks_for_figure(s, tracker.latest_message, unheld_anywhere=True, follow_up=bool(last)) \
                or asks_column(s, tracker.latest_message, last)

        if await in_thread(sessions(), figure_asked):
            return await ActionStatistics().run(dispatcher, tracker, domain)
        channels = [e["value"] for e in tracker.latest_message.get("entities") or []
                    if e.get("entity") == "channel" and not e.get("ambiguous")]
        agent = tracker.sender_id.startswith(CONSOLE_SENDER_PREFIX)

        def work(s):
            dispatcher.utter_message(text=platform(s))
            if not agent:
                return []
            if channels:
                for name in dict.fromkeys(channels):
                    channel = stats.subject(s, name, "channel")[0]
                    # Every period's figures: a channel has only a few (预约数量, 注册用户 …).
                    facts = [f for p in stats.periods(s, subject_id=channel.id)
                             for f in stats.overview(s, channel, p).facts]
                    if facts:
                        dispatcher.utter_message(
                            text="\n".join(figure_line(f) for f in facts) + "\n" + sources(facts))
                    else:
                        dispatcher.utter_message(text=f"简报中没有{channel.name}的统计数据。")
                return []
            try:
                lookup = stats.ranking(s, CHANNEL_MEASURE, None, kind="channel", n=20)
            except queries.NotFound:
                return []
            facts = lookup.facts
            listed = "、".join(f"{f.subject.name}{amount(f)}" for f in facts)
            dispatcher.utter_message(
                text=f"{period_label(facts[0].period)}各渠道{CHANNEL_MEASURE}：{listed}。\n{sources(facts)}")
        await in_thread(sessions(), work)
        return []
