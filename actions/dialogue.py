"""Dialogue words the rules cannot answer alone: a bare yes with nothing open."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.complaints import ActionSubmitComplaint


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


def _said_anything(tracker: Tracker) -> bool:
    """Whether the assistant said anything in this session before the latest message."""
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            return False
        if event.get("event") == "bot":
            return True
    return False
