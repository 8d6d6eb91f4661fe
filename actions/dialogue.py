"""Dialogue words the rules cannot answer alone: a bare yes with nothing open; a topic the assistant
does not handle, or a bare no or detail with nothing open."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.complaints import ActionSubmitComplaint
from actions.db import sessions
from actions.statistics import ActionStatistics, asks_for_figure
from database.work import in_thread


class ActionAcknowledge(Action):
    """好的 / 嗯 / 行 after an answer: never silence. One yes means more: a confirmed complaint whose
    ticket could not be written (the store was down, the resident was asked to send it again) is
    still waiting, and that yes submits it."""

    def name(self) -> Text:
        return "action_acknowledge"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if tracker.get_slot("complaint_confirmed") is True:
            return await ActionSubmitComplaint().run(dispatcher, tracker, domain)
        if not _said_anything(tracker):
            # A yes opening the conversation refers to nothing the assistant knows: a session that
            # expired, or a conversation store that was out of reach (Rasa then starts afresh). The
            # resident is told so, and how to go on, rather than "好的".
            dispatcher.utter_message(response="utter_nothing_to_confirm")
            return []
        dispatcher.utter_message(response="utter_anything_else")
        return []


# What each intent is told when the assistant cannot help with it (domain.yml's responses).
_NOT_HANDLED = {"out_of_scope": "utter_out_of_scope", "other_service": "utter_other_service"}


class ActionOutOfScope(Action):
    """A topic the assistant does not handle (out_of_scope, other_service), or a bare no, stop or
    detail with nothing open: its honest response, unless the message asks for a figure or names
    what the bulletins do not hold (儿童医院 周末门诊时间, 12320 2023 接通率), which the statistics
    action answers with the figure or a "not held" that says where to ask instead."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        message = tracker.latest_message
        if await in_thread(sessions(), asks_for_figure, message, follow_up=bool(tracker.get_slot("stats_subject")),
                           last_measure=tracker.get_slot("stats_measure")):
            return await ActionStatistics().run(dispatcher, tracker, domain)
        intent = (message.get("intent") or {}).get("name")
        dispatcher.utter_message(response=_NOT_HANDLED.get(intent, "utter_what_is_needed"))
        return []


def _said_anything(tracker: Tracker) -> bool:
    """Whether the assistant said anything in this session before the latest message."""
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            return False
        if event.get("event") == "bot":
            return True
    return False
