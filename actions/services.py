"""Service questions (health records, internet hospital, platforms, health certificates, the
medical one-card, self-service terminals, family doctors), what 12320 is and the centre's contact.

Each topic is answered from the store: the curated statement on it when there is one, and the
latest figures of the platforms or bodies that provide it, with their sources.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from knowledge import queries, stats
from knowledge.models import Fact, Platform

from .render import grouped, sources
from .store import session

# intent → (statement topic or None, the subjects whose figures answer it, as the store names them)
SERVICE_SUBJECTS: Dict[str, tuple] = {
    "family_doctor": ("family_doctor", []),
    "health_record": ("health_record", ["南京市卫生信息平台"]),
    "internet_hospital": (None, ["南京市互联网医院"]),
    "remote_platform": (None, ["南京市远程医学会诊平台", "南京市远程影像诊断平台",
                               "南京市远程心电诊断监测平台", "南京市远程临检诊断平台"]),
    "health_certificate": (None, ["南京市从业人员体检信息系统"]),
    "medical_card": (None, ["南京市医疗一卡通", "南京市医疗一账通系统"]),
    "self_service_terminal": (None, ["医疗自助智能服务终端"]),
    "about_12320": (None, ["南京12320卫生热线", "南京卫生12320微信公众号"]),
    "centre_contact": (None, ["南京市卫生信息中心"]),
}
# Measures that answer the topic; other figures of the same subject are left to statistics.
TOPIC_MEASURES = {
    "health_record": ("累计采集健康档案", "调阅健康档案", "12320调阅"),
    "about_12320": ("受理咨询电话", "咨询类", "医疗投诉", "电话预约", "人工服务", "心理危机干预",
                    "自助语音问答", "关注人数"),
}
# Said when the store holds figures about a service but nothing on how to use it.
ASK_12320 = "具体办理方式简报中没有写，可以拨打12320咨询，或让我为您转接人工坐席。"


class ActionServiceAnswer(Action):
    def name(self) -> Text:
        return "action_service_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent not in SERVICE_SUBJECTS:
            intent = _intent_before(tracker)
        if intent not in SERVICE_SUBJECTS:
            with session() as s:
                dispatcher.utter_message(text=queries.statement(s, "not_known").text)
            return []
        topic, names = SERVICE_SUBJECTS[intent]
        platforms = [e["value"] for e in tracker.latest_message.get("entities") or []
                     if e.get("entity") == "platform" and not e.get("ambiguous")]
        if intent == "remote_platform" and platforms:
            names = [n for n in names if n in platforms] or names
        with session() as s:
            if topic:
                dispatcher.utter_message(text=queries.statement(s, topic).text)
            answered = []
            for name in names:
                answered += self.figures(s, dispatcher, name, TOPIC_MEASURES.get(intent))
            if not topic and intent not in ("centre_contact", "about_12320"):
                dispatcher.utter_message(text=ASK_12320)
            if not topic and not answered:
                dispatcher.utter_message(text=queries.statement(s, "not_known").text)
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
            if name in SERVICE_SUBJECTS:
                return name
    return None
