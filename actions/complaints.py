"""Complaints: the complaint form's answers become a ticket (a 自接工单) the centre works on."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import IntegrityError

from hotline import calllog, contacts, privacy, tickets

from actions.forms import NO_PHONE
from actions.db import settings, write

FORM_SLOTS = ("complaint_hospital", "complaint_description", "complaint_time", "complaint_phone",
              "complaint_phone_masked", "complaint_confirmed")


MISSING = "（未填写）"


class ActionAskComplaintConfirmed(Action):
    """The complaint form's last question: what will be submitted, each part in words even when it
    is empty (a template would print None), then confirm or not."""

    def name(self) -> Text:
        return "action_ask_complaint_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        def said(slot: str) -> str:
            value = tracker.get_slot(slot)
            return str(value).strip() if value not in (None, "") and str(value).strip() else MISSING

        phone = MISSING if tracker.get_slot("complaint_phone") in (None, "") else (
            "不留" if tracker.get_slot("complaint_phone") == NO_PHONE else said("complaint_phone_masked"))
        dispatcher.utter_message(
            text=f"请确认您的投诉：医院：{said('complaint_hospital')}；经过：{said('complaint_description')}；"
                 f"时间：{said('complaint_time')}；联系电话：{phone}。确认提交吗？",
            buttons=[{"title": "确认提交", "payload": "/affirm"}, {"title": "先不提交", "payload": "/deny"}])
        return []


class ActionSubmitComplaint(Action):
    """Runs when the complaint form ends: a confirmed complaint is saved as a ticket and the
    resident gets its number; the form's slots are cleared either way, so the clear phone number
    does not stay in the conversation."""

    def name(self) -> Text:
        return "action_submit_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        clear = [SlotSet(slot, None) for slot in FORM_SLOTS]
        ref = tracker.get_slot("complaint_phone")  # a reference to the phone, 不留, or nothing
        if tracker.get_slot("complaint_confirmed") is not True:
            if contacts.is_reference(ref):
                await write(lambda s: contacts.discard(s, ref))
            return clear  # not confirmed: the form's validation already said it was cancelled

        def open_ticket(s) -> tuple[str, bool]:
            # The phone is read back once, in the ticket's own unit of work (hotline/contacts.py).
            ticket = tickets.open_ticket(
                s,
                hospital=tracker.get_slot("complaint_hospital"),
                description=tracker.get_slot("complaint_description"),
                occurred=tracker.get_slot("complaint_time"),
                phone=contacts.redeem(s, ref) if contacts.is_reference(ref) else None,
                sender=calllog.pseudonym(settings().secret_key, tracker.sender_id),
                idempotency_key=confirmation_key(settings().secret_key, tracker),
            )
            return ticket.number, ticket.phone is not None

        # Retried while the store restarts: a confirmed complaint is not dropped for a few seconds
        # of database downtime (actions/db.py).
        try:
            number, with_phone = await write(open_ticket)
        except IntegrityError:  # a replay of this confirmation opened it meanwhile: now it is found
            number, with_phone = await write(open_ticket)
        reply = f"您的投诉已登记，工单号：{number}。工作人员会尽快处理"
        if with_phone:
            reply += "，并通过您留的电话联系您。"
        elif contacts.is_reference(ref):  # left, but kept past the retention: said, not hidden
            reply += "。您留的电话已超过保存时限，未能随工单保存，请拨打12320告知工单号和联系电话。"
        else:
            reply += "。"
        dispatcher.utter_message(text=reply + "您可以凭工单号拨打12320查询进度。")
        return [*clear, SlotSet("ticket_number", number)]



def confirmation_key(secret: bytes, tracker: Tracker) -> Optional[str]:
    """The ticket's idempotency key: the conversation (sender id) and the turn that confirmed the
    complaint, as a keyed hash. None when the tracker does not show that turn.

    A replay of the confirmation must give the same key: the Rasa server that took over after a
    failover (or the WeChat gateway asking again after a crash) makes a new user event, with a new
    timestamp and message id, from the same stored conversation. So the turn is named by the event
    before it (its kind and timestamp, from the shared tracker store) and its text. A bare yes that
    submits a confirmation left waiting (actions/dialogue.py) names the same turn: the one at which
    ``complaint_confirmed`` became true.
    """
    events = tracker.events or []
    last_user: Optional[int] = None
    confirming: Optional[int] = None
    confirmed = False
    for index, event in enumerate(events):
        kind = event.get("event")
        if kind == "user":
            last_user = index
        elif kind == "slot" and event.get("name") == "complaint_confirmed":
            now_confirmed = event.get("value") is True
            if now_confirmed and not confirmed and last_user is not None:
                confirming = last_user
            confirmed = now_confirmed
        elif kind in ("session_started", "restart"):
            confirmed = False
    if confirming is None:
        return None
    before = events[confirming - 1] if confirming > 0 else {}
    # Its text masked: the tracker store keeps it masked (bot/server/trackers.py), the turn in progress has it
    # as typed, and both must name the same turn.
    text = privacy.mask_text(events[confirming].get("text") or "")
    turn = [tracker.sender_id, before.get("event"), before.get("timestamp"), text]
    return privacy.pseudonym(secret, json.dumps(turn, ensure_ascii=False), length=64)
