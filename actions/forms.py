"""Form validation: one base class for the assistant's forms, and the booking and complaint forms.

`HotlineFormValidation` is what every form of the assistant validates with. A subclass names its
form (`FORM`) and writes `validate_<slot>` methods, as rasa-sdk's FormValidationAction wants;
the base class gives them:
- `text(value)`: the slot's free text, trimmed and capped (a 1 MB message is not a complaint);
- `hospital(value, dispatcher)`: a hospital named in any way resolved to its canonical name in the
  knowledge store; an ambiguous short name (口腔医院) makes it ask which one, with the candidates
  as buttons, and the slot stays empty until the resident picks one;
- `reject(dispatcher, response)`: say why and ask again (the slot is set to None).
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from knowledge import queries

from hotline import contacts, intents, privacy
from hotline.privacy import mask_phone
from actions import story
from actions.render import ask_which
from actions.db import sessions, settings, write
from database.work import in_thread

MAX_TEXT = 500
NO_HOSPITAL = "不限"
NO_PHONE = "不留"
_DECLINE = re.compile(r"不留|不方便|不想留|不用留|不给|算了吧?$|没有电话|保密")


# The intents whose message, filling no slot, has the form ask its question again (hotline/intents.py).
ASK_AGAIN = (intents.DIALOGUE - {"cancel"}) | {"nlu_fallback"}


class HotlineFormValidation(FormValidationAction):
    """Base of the assistant's form validations (see the module docstring)."""

    FORM: str = ""  # the form's name in domain.yml

    def form_name(self) -> Text:
        # rasa-sdk calls form_name() (a method) while validating: a plain attribute breaks every real run.
        return self.FORM

    def name(self) -> Text:
        return f"validate_{self.form_name()}"

    @staticmethod
    def text(value: Any) -> Optional[str]:
        if not isinstance(value, str):
            return None
        value = " ".join(value.split())
        return value[:MAX_TEXT] if value else None

    async def get_extraction_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> List[EventType]:
        """An answer that fills nothing (哦, 不是, a phone given again at the confirmation) is not
        silence: the asked slot is set empty, so that its validation may say why and the form asks
        again. (Rasa would otherwise reject the form and, no rule applying, answer nothing.)"""
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        asked = tracker.get_slot("requested_slot")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        # Only for the dialogue words and a message not understood: every other intent inside a form
        # (a question, a crisis, a stop, a human) must reject the form, so that its rule answers it.
        if intent in ASK_AGAIN and asked and not events and not _set_this_turn(tracker, asked):
            return [SlotSet(asked, None)]
        return events

    @staticmethod
    def reject(dispatcher: CollectingDispatcher, response: str, slot: str) -> Dict[Text, Any]:
        dispatcher.utter_message(response=response)
        return {slot: None}

    @staticmethod
    async def hospital(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[str]:
        """The canonical hospital, or None after asking which one was meant."""
        text = HotlineFormValidation.text(value)
        if not text:
            return None
        entity = next((e for e in reversed(tracker.latest_message.get("entities", []))
                       if e.get("entity") == "hospital"), None)
        if entity and entity.get("ambiguous"):
            ask_which(dispatcher, entity["value"], entity.get("candidates", []))
            return None
        if entity:
            return entity["value"]
        try:
            found = await in_thread(sessions(), lambda s: queries.resolve(s, text, kind="hospital"))
        except queries.NotFound:
            return text[:100]  # not in the bulletins: kept in the resident's words
        if len(found) > 1:
            ask_which(dispatcher, text, [h.name for h in found])
            return None
        return found[0].name


class ValidateBookingForm(HotlineFormValidation):
    FORM = "booking_form"

    async def validate_booking_hospital(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[Text, Any]:
        if value == NO_HOSPITAL:
            return {"booking_hospital": NO_HOSPITAL}
        return {"booking_hospital": await self.hospital(value, dispatcher, tracker)}


class ValidateComplaintForm(HotlineFormValidation):
    FORM = "complaint_form"

    async def get_extraction_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> List[EventType]:
        """At the form's start (Rasa validates then, requested_slot not yet set), a message that tells
        the story fills what happened, and when if it says so (actions/story.py): the form asks only
        for the rest. Validated like any answer."""
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        message = tracker.latest_message or {}
        if (tracker.get_slot("requested_slot") is None and tracker.get_slot("complaint_description") is None
                and (message.get("intent") or {}).get("name") == "complaint"):
            text = message.get("text") or ""
            names = [text[e["start"]:e["end"]] for e in message.get("entities", [])
                     if e.get("entity") == "hospital" and isinstance(e.get("start"), int)
                     and isinstance(e.get("end"), int)]
            told = story.read(text, names)
            if told.description:
                events.append(SlotSet("complaint_description", told.description))
            if told.description and told.time and tracker.get_slot("complaint_time") is None:
                events.append(SlotSet("complaint_time", told.time))
        return events

    async def validate_complaint_hospital(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        return {"complaint_hospital": await self.hospital(value, dispatcher, tracker)}

    def validate_complaint_description(self, value: Any, dispatcher: CollectingDispatcher,
                                       tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = self.text(value)
        if not text or len(text) < 4:
            dispatcher.utter_message(text="能再多说一点吗？比如哪个科室、发生了什么。")
            return {"complaint_description": None}
        return {"complaint_description": text}

    def validate_complaint_time(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[Text, Any]:
        text = self.text(value)
        return {"complaint_time": text[:100] if text else None}

    async def validate_complaint_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> Dict[Text, Any]:
        """The slot keeps a one-time reference to the phone, never the phone (hotline/contacts.py):
        Rasa's tracker store keeps slots for a while, the phone is for the ticket alone."""
        phone = normalise_phone(value)
        if phone is None:
            return {**self.reject(dispatcher, "utter_invalid_phone", "complaint_phone"),
                    "complaint_phone_masked": None}
        if phone == NO_PHONE:
            return {"complaint_phone": NO_PHONE, "complaint_phone_masked": None}
        lifetime = timedelta(minutes=settings().conversation_retention_minutes)
        ref = await write(lambda s: contacts.keep(s, phone, lifetime=lifetime))
        return {"complaint_phone": ref, "complaint_phone_masked": mask_phone(phone)}

    def validate_complaint_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[Text, Any]:
        if value is False:
            # Not confirmed: nothing is submitted; the form ends and the rule says so.
            dispatcher.utter_message(response="utter_form_cancelled")
            return {"complaint_confirmed": False}
        if value is None:  # neither yes nor no (the phone again, 哦): asked again
            dispatcher.utter_message(text="请回复“确认提交”提交投诉，或回复“先不提交”。")
            return {"complaint_confirmed": None}
        return {"complaint_confirmed": bool(value)}


def normalise_phone(value: Any) -> Optional[str]:
    """The resident's phone as digits (hotline/privacy.py decides what a phone is); NO_PHONE when
    they decline to leave one; None when the answer holds neither."""
    if not isinstance(value, str):
        return None
    if value == NO_PHONE or _DECLINE.search(value):
        return NO_PHONE
    return privacy.normalise_phone(value)


def _set_this_turn(tracker: Tracker, slot: str) -> bool:
    """Whether Rasa's own slot mappings set `slot` from the latest message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") == slot:
            return True
    return False
