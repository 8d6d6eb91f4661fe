"""Safety and handoff: crisis support, human agents, and what to do when the assistant is unsure."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge import queries

from .store import session

# How each intent is offered back to the resident when the assistant is unsure (nlu_fallback).
TOPICS = {
    "booking_howto": "怎么预约挂号", "booking_channels": "预约挂号的渠道", "family_doctor": "家庭医生优先预约",
    "health_record": "健康档案调阅", "internet_hospital": "互联网医院", "remote_platform": "远程会诊和诊断平台",
    "health_certificate": "健康证", "medical_card": "医疗一卡通", "self_service_terminal": "自助机",
    "about_12320": "12320热线", "centre_contact": "卫生信息中心的联系方式", "ask_statistics": "查数据",
    "compare_statistics": "数据对比", "rank_statistics": "数据排名", "complaint": "投诉",
    "medical_question": "看病用药咨询", "human_agent": "转人工",
}


def _say(dispatcher: CollectingDispatcher, topic: str, **kwargs: Any) -> None:
    with session() as s:
        dispatcher.utter_message(text=queries.statement(s, topic).text, **kwargs)


class ActionCrisisSupport(Action):
    """Answered at once, inside any form: stay with the person, the numbers to call, a human."""

    def name(self) -> Text:
        return "action_crisis_support"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        _say(dispatcher, "crisis", buttons=[{"title": "转人工坐席", "payload": "/human_agent"}])
        return [SlotSet("requested_slot", None)]


class ActionHumanHandoff(Action):
    def name(self) -> Text:
        return "action_human_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        _say(dispatcher, "human_handoff", json_message={"handoff": True})
        return [SlotSet("requested_slot", None)]


# Signs domain.md names as urgent (chest pain, breathing, unconsciousness) and their neighbours:
# 120 is said first, before anything else.
URGENT = re.compile(r"胸痛|胸口(?:痛|疼|闷)|心口(?:痛|疼)|喘不上气|喘不过气|呼吸困难|不能呼吸|憋气|"
                    r"昏迷|晕倒|昏倒|叫不醒|意识不清|不省人事|抽搐|大出血|血止不住|中风|口角歪斜|"
                    r"吞了.{0,6}(?:药|农药)|误服|烧伤|触电|溺水")


class ActionMedicalAdvice(Action):
    """No diagnosis, no dosage: a doctor, the 12320 consultation, 120 first when urgent."""

    def name(self) -> Text:
        return "action_medical_advice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if URGENT.search(tracker.latest_message.get("text") or ""):
            _say(dispatcher, "medical_urgent")
        _say(dispatcher, "medical")
        return []


class ActionClarify(Action):
    """Unsure what was meant: the two likeliest topics as buttons, and a human."""

    def name(self) -> Text:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        ranking = tracker.latest_message.get("intent_ranking", [])
        likely = [r["name"] for r in ranking if r.get("name") in TOPICS and r["name"] != "human_agent"][:2]
        buttons = [{"title": TOPICS[i], "payload": f"/{i}"} for i in likely]
        buttons.append({"title": TOPICS["human_agent"], "payload": "/human_agent"})
        dispatcher.utter_message(text="我不太确定您想问的是哪一项，您是想了解：", buttons=buttons)
        return []
