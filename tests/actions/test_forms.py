"""Form validation and masking, as plain calls on trackers (no action server needed)."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import NO_PHONE, ValidateComplaintForm, normalise_phone
from hotline.privacy import mask_phone, mask_text


@pytest.mark.parametrize("said,phone", [
    ("13912345678", "13912345678"), ("139 1234 5678", "13912345678"), ("+86 139-1234-5678", "13912345678"),
    ("025-84567890", "02584567890"), ("84567890", "84567890"), ("不方便留", NO_PHONE), ("不留", NO_PHONE),
    ("12345", None), ("2345678901234", None), ("我不知道", None), ("", None),
])
def test_phone_numbers_are_validated(said, phone):
    assert normalise_phone(said) == phone


def test_masking():
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("02584567890") == "025****7890"
    text = "我电话13912345678，座机025-84567890，身份证320102199001011234"
    masked = mask_text(text)
    assert "13912345678" not in masked and "84567890" not in masked and "199001011234" not in masked
    assert "139****5678" in masked and "320102********1234" in masked


def _tracker(slot: str, text: str, entities=()) -> Tracker:
    return Tracker("resident", {"requested_slot": slot}, {"text": text, "entities": list(entities),
                   "intent": {"name": "inform"}}, [], False, None, {"name": "complaint_form"}, "action_listen")


async def test_complaint_phone_is_masked_for_the_confirmation_and_kept_out_of_the_slots(action_store):
    from sqlalchemy.orm import Session

    from hotline import contacts

    dispatcher = CollectingDispatcher()
    events = await ValidateComplaintForm().validate_complaint_phone(
        "139 1234 5678", dispatcher, _tracker("complaint_phone", "139 1234 5678"), {})
    assert events["complaint_phone_masked"] == "139****5678"
    ref = events["complaint_phone"]
    assert contacts.is_reference(ref) and "1234" not in ref
    with Session(bind=action_store) as s:
        assert contacts.redeem(s, ref) == "13912345678"


async def test_a_declined_phone_keeps_nothing(action_store):
    events = await ValidateComplaintForm().validate_complaint_phone(
        "不方便留", CollectingDispatcher(), _tracker("complaint_phone", "不方便留"), {})
    assert events == {"complaint_phone": NO_PHONE, "complaint_phone_masked": None}


async def test_an_invalid_phone_is_asked_again(action_store):
    dispatcher = CollectingDispatcher()
    events = await ValidateComplaintForm().validate_complaint_phone(
        "123", dispatcher, _tracker("complaint_phone", "123"), {})
    assert events["complaint_phone"] is None
    assert dispatcher.messages[0]["response"] == "utter_invalid_phone"


async def test_an_ambiguous_hospital_is_asked_about():
    dispatcher = CollectingDispatcher()
    entity = {"entity": "hospital", "value": "口腔医院", "ambiguous": True,
              "candidates": ["南京市口腔医院", "江苏省口腔医院"]}
    events = await ValidateComplaintForm().validate_complaint_hospital(
        "口腔医院", dispatcher, _tracker("complaint_hospital", "口腔医院", [entity]), {})
    assert events == {"complaint_hospital": None}
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["南京市口腔医院", "江苏省口腔医院"]


async def test_the_form_validation_runs_as_the_action_server_runs_it(action_store):
    """Through rasa-sdk's own run(), which asks the form's name: a phone given in the form is checked
    and masked for the confirmation."""
    domain = {"forms": {"complaint_form": {"required_slots": [
        "complaint_hospital", "complaint_description", "complaint_time", "complaint_phone",
        "complaint_confirmed"]}}, "slots": {}}
    tracker = Tracker("resident", {"requested_slot": "complaint_phone", "complaint_phone": "139 1234 5678"},
                      {"text": "139 1234 5678", "entities": [], "intent": {"name": "inform"}},
                      [{"event": "slot", "name": "complaint_phone", "value": "139 1234 5678"}],
                      False, None, {"name": "complaint_form"}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert ValidateComplaintForm().name() == "validate_complaint_form"
    assert slots["complaint_phone"].startswith("contact:") and slots["complaint_phone_masked"] == "139****5678"
    assert "1234" not in str(events)
