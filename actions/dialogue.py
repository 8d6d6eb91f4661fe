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
        dispatcher.utter_message(response="utter_anything_else")
        return []
