"""Service questions (health records, internet hospital, platforms, health certificates, the
medical one-card, self-service terminals, family doctors), what 12320 is and the centre's contact.

Each topic is answered from the store: the curated statement on it when there is one, and the
latest figures of the platforms or bodies that provide it, with their sources.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from knowledge import queries, stats
from knowledge.models import Fact, Platform

from actions.render import grouped, sources
from actions.statistics import ActionStatistics, asks_for_figure, asks_quantity
from actions.db import sessions
from hotline import intents
from database.work import in_thread

# intent → what answers it (statement topic, subjects, measures): the intent catalogue.
SERVICES = intents.SERVICES
# Said when the store holds figures about a service but nothing on how to use it.
ASK_12320 = "具体办理方式简报中没有写，可以拨打12320咨询，或让我为您转接人工坐席。"
# Where to go and what to do to get a service (健康证去哪家体检机构办, 怎么申请): the way, or that the
# bulletins do not say it; the service's figures are no answer to it. (远程影像怎么用 asks what it is:
# its figures say that.)
_HOWTO = re.compile(r"哪里|哪儿|哪家|去哪|在哪|什么地方|是不是要|要不要|需不需要|需要先|要先|得先|"
                    r"怎么(?:给.{0,6})?(?:办|弄|申请|开通|注册|领|拿|绑|添加|关联|挂失|补办|激活|找回|修改)|如何(?:办|申请|开通|注册|领|绑|添加|挂失|补办)|流程|手续"
                    r"|需要(?:带|准备|什么)|材料")


class ActionServiceAnswer(Action):
    def name(self) -> Text:
        return "action_service_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if await in_thread(sessions(), asks_for_figure, tracker.latest_message, unheld_anywhere=True,
                           follow_up=bool(tracker.get_slot("stats_subject"))) or asks_quantity(
                tracker.latest_message.get("text") or ""):
            # 互联网医院2023年线上处方多少: that figure; 签约家庭医生要交钱吗: not held, said so; 12320专家库
            # 汇聚了几家机构: a count the lookup does not find, said so, never the service's other figures
            return await ActionStatistics().run(dispatcher, tracker, domain)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent not in SERVICES:
            intent = _intent_before(tracker)
        if intent not in SERVICES:

            def work(s):
                dispatcher.utter_message(text=queries.statement(s, "not_known").text)
            await in_thread(sessions(), work)
            return []
        service = SERVICES[intent]
        topic, names = service.topic, list(service.subjects)
        platforms = [e["value"] for e in tracker.latest_message.get("entities") or []
                     if e.get("entity") == "platform" and not e.get("ambiguous")]
        if intent == "remote_platform" and platforms:
            names = [n for n in names if n in platforms] or names

        how = bool(_HOWTO.search(tracker.latest_message.get("text") or "")) and intent not in ("centre_contact", "about_12320")

        def work(s):
            if topic:
                dispatcher.utter_message(text=queries.statement(s, topic).text)
            if how:  # the way to do it, not the service's volumes
                if not topic:
                    dispatcher.utter_message(text=ASK_12320)
                return
            answered = []
            for name in names:
                answered += self.figures(s, dispatcher, name, service.measures)
            if not topic and intent not in ("centre_contact", "about_12320"):
                dispatcher.utter_message(text=ASK_12320)
            if not topic and not answered:
                dispatcher.utter_message(text=queries.statement(s, "not_known").text)
        await in_thread(sessions(), work)
        return []

    @staticmethod
    def figures(s, dispatcher: CollectingDispatcher, name: str, measures) -> List[Fact]:
        try:
            subject = stats.subject(s, name)[0]
            lookup = stats.overview(s, subject)
        except queries.NotFound:
            return []
        facts = [f for f in lookup.facts if not measures or f.measure in measures]
        if not facts:
            return []
        centre = ""
        if isinstance(subject, Platform) and subject.centre is not None:
            centre = f"（中心医院：{subject.centre.name}）"
        if all(f.number is None for f in facts):  # a contact card, not figures of a period
            body = "\n".join(f"{f.measure}：{f.value}" for f in facts)
            dispatcher.utter_message(text=f"{subject.name}\n{body}\n{sources(facts)}")
        else:
            dispatcher.utter_message(text=f"{subject.name}{centre}{grouped(facts)}。\n{sources(facts)}")
        return facts


def _intent_before(tracker: Tracker) -> str | None:
    """A button payload or a digression may arrive as another intent: the last topic intent asked."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if name in SERVICES:
                return name
    return None
