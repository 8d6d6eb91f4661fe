"""Complaints: the complaint form's answers become a ticket (a 自接工单) the centre works on."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from hotline import calllog, tickets

from actions.forms import NO_PHONE
from actions.db import settings, write

FORM_SLOTS = ("complaint_hospital", "complaint_description", "complaint_time", "complaint_phone",
              "complaint_phone_masked", "complaint_confirmed")


class ActionSubmitComplaint(Action):
    """Runs when the complaint form ends: a confirmed complaint is saved as a ticket and the
    resident gets its number; the form's slots are cleared either way, so the clear phone number
    does not stay in the conversation."""

    def name(self) -> Text:
        return "action_submit_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        clear = [SlotSet(slot, None) for slot in FORM_SLOTS]
        if tracker.get_slot("complaint_confirmed") is not True:
            return clear  # not confirmed: the form's validation already said it was cancelled
        phone = tracker.get_slot("complaint_phone")

        def open_ticket(s) -> str:
            return tickets.open_ticket(
                s,
                hospital=tracker.get_slot("complaint_hospital"),
                description=tracker.get_slot("complaint_description"),
                occurred=tracker.get_slot("complaint_time"),
                phone=None if phone in (None, NO_PHONE) else phone,
                sender=calllog.pseudonym(settings().secret_key, tracker.sender_id),
            ).number

        # Retried while the store restarts: a confirmed complaint is not dropped for a few seconds
        # of database downtime (actions/db.py).
        number = await write(open_ticket)
        reply = f"您的投诉已登记，工单号：{number}。工作人员会尽快处理"
        reply += "。" if phone in (None, NO_PHONE) else "，并通过您留的电话联系您。"
        dispatcher.utter_message(text=reply + "您可以凭工单号拨打12320查询进度。")
        return [*clear, SlotSet("ticket_number", number)]

