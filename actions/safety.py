"""Safety and handoff: crisis support, human agents, and what to do when the assistant is unsure."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge import queries

from actions.db import sessions
from actions.statistics import ActionStatistics, asks_for_figure
from hotline import intents
from database.work import in_thread

# How each intent is offered back to the resident when the assistant is unsure (nlu_fallback).
TOPICS = intents.LABELS  # what a clarifying question offers (hotline/intents.py)


async def _say(dispatcher: CollectingDispatcher, topic: str, **kwargs: Any) -> None:

    def work(s):
        dispatcher.utter_message(text=queries.statement(s, topic).text, **kwargs)
    await in_thread(sessions(), work)


class ActionHumanHandoff(Action):
    def name(self) -> Text:
        return "action_human_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        await _say(dispatcher, "human_handoff", json_message={"handoff": True})
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
            await _say(dispatcher, "medical_urgent")
        await _say(dispatcher, "medical")
        return []


class ActionClarify(Action):
    """Unsure what was meant: the two likeliest topics as buttons, and a human."""

    def name(self) -> Text:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if await in_thread(sessions(), asks_for_figure, tracker.latest_message,
                                  follow_up=bool(tracker.get_slot("stats_subject"))):
            # 淮安 2023 12320 接听电话: unsure of the intent, sure it is a figure (or what is not held)
            return await ActionStatistics().run(dispatcher, tracker, domain)
        ranking = tracker.latest_message.get("intent_ranking", [])
        likely = [r["name"] for r in ranking if r.get("name") in TOPICS and r["name"] != "human_agent"][:2]
        buttons = [{"title": TOPICS[i], "payload": f"/{i}"} for i in likely]
        buttons.append({"title": TOPICS["human_agent"], "payload": "/human_agent"})
        dispatcher.utter_message(text="我不太确定您想问的是哪一项，您是想了解：", buttons=buttons)
        return []
