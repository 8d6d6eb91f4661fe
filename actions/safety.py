"""Safety and handoff: crisis support, human agents, and what to do when the assistant is unsure."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge import queries

from actions.db import sessions, settings, write
from actions.statistics import ActionStatistics, asks_for_figure, names_sibling, names_unheld, only_a_lookup
from actions.complaints import FORM_SLOTS as COMPLAINT_SLOTS
from hotline import contacts, handoff, intents
from database.work import in_thread

# How each intent is offered back to the resident when the assistant is unsure (nlu_fallback).
TOPICS = intents.LABELS  # what a clarifying question offers (hotline/intents.py)


async def _say(dispatcher: CollectingDispatcher, topic: str, **kwargs: Any) -> None:

    def work(s):
        dispatcher.utter_message(text=queries.statement(s, topic).text, **kwargs)
    await in_thread(sessions(), work)


class ActionHumanHandoff(Action):
    """A resident asks for a person: an entry in the queue (hotline/handoff.py) and the handoff
    statement, marked ``{"handoff": true, "entry": id}`` for the channel (the WeChat gateway transfers
    the conversation). Outside the centre's hours: said honestly, with 12320, and no marker. A crisis
    conversation keeps the crisis numbers in front of the resident. The console's lookups are agents
    asking what residents would: answered the same, never queued."""

    def name(self) -> Text:
        return "action_human_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        agent = not handoff.is_resident(tracker.sender_id)
        # an agent's bare measure (人工服务23, 人工服务 right after a figure) is a lookup: the console never queues
        if await in_thread(sessions(), only_a_lookup, tracker.latest_message, follow_up=agent) or (
                agent and await in_thread(sessions(), asks_for_figure, tracker.latest_message, unheld_anywhere=True)):
            # 23人工服务: the hotline's count of calls its people answered, not a request for one (and, in
            # the console, 人工服务 alone; in the console, 12320坐席人数: not held, said so)
            return await ActionStatistics().run(dispatcher, tracker, domain)
        config = settings()
        crisis = _crisis_in_session(tracker)
        open_now = handoff.within_hours(config.handoff_hours)
        resident = handoff.is_resident(tracker.sender_id)

        phone_ref = tracker.get_slot("complaint_phone")  # a complaint form broken off: its phone is forgotten

        def work(s) -> list[tuple[str, dict | None]]:
            contacts.discard(s, phone_ref)
            entry = None
            if resident:
                entry = handoff.request(s, handoff.sender_of(config.secret_key, tracker.sender_id),
                                        crisis=crisis, open_now=open_now)
            if not open_now:
                said = [(queries.statement(s, "human_handoff_closed").text, None)]
            else:
                marker = {"handoff": True, **({"entry": entry.id} if entry is not None else {})}
                said = [(queries.statement(s, "human_handoff").text, marker)]
            if crisis:
                said.append((queries.statement(s, "crisis_numbers").text, None))
            return said

        for text, marker in await write(work):
            dispatcher.utter_message(text=text, **({"json_message": marker} if marker else {}))
        return [SlotSet("requested_slot", None), *(SlotSet(slot, None) for slot in COMPLAINT_SLOTS)]


def _crisis_in_session(tracker: Tracker) -> bool:
    """Whether the crisis detector flagged a message of this session (the NLU's crisis intents)."""
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            return False
        if event.get("event") == "user" and ((event.get("parse_data") or {}).get("intent") or {}).get("name") in intents.CRISIS:
            return True
    return False


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
        if await in_thread(sessions(), only_a_lookup, tracker.latest_message,
                           follow_up=bool(tracker.get_slot("stats_subject"))) or await in_thread(
                sessions(), names_sibling, tracker.latest_message, tracker.get_slot("stats_measure")):
            # 高血压 right after a district's archive count: that district's hypertension records
            return await ActionStatistics().run(dispatcher, tracker, domain)
        if URGENT.search(tracker.latest_message.get("text") or ""):
            await _say(dispatcher, "medical_urgent")
        await _say(dispatcher, "medical")
        if await in_thread(sessions(), names_unheld, tracker.latest_message, department=True):
            # 市一医院看牙挂哪个科, 做CT要空腹吗: a doctor's word, and that the lookup does not hold it
            await _say(dispatcher, "not_known")
        return []


class ActionClarify(Action):
    """Unsure what was meant: the two likeliest topics as buttons, and a human."""

    def name(self) -> Text:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if await in_thread(sessions(), asks_for_figure, tracker.latest_message,
                           follow_up=bool(tracker.get_slot("stats_subject")),
                           last_measure=tracker.get_slot("stats_measure")) or await in_thread(
                sessions(), names_unheld, tracker.latest_message):
            # 淮安 2023 12320 接听电话: unsure of the intent, sure it is a figure; 胃镜多少钱, 中大医院晚上
            # 有急诊吗: unsure of the intent, sure it is something the bulletins do not hold (said so)
            return await ActionStatistics().run(dispatcher, tracker, domain)
        ranking = tracker.latest_message.get("intent_ranking", [])
        likely = [r["name"] for r in ranking if r.get("name") in TOPICS and r["name"] != "human_agent"][:2]
        buttons = [{"title": TOPICS[i], "payload": f"/{i}"} for i in likely]
        buttons.append({"title": TOPICS["human_agent"], "payload": "/human_agent"})
        dispatcher.utter_message(text="我不太确定您想问的是哪一项，您是想了解：", buttons=buttons)
        return []
