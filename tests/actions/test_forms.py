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


@pytest.mark.parametrize("said,names,description,time", [
    ("我要投诉鼓楼医院", ["鼓楼医院"], False, None),
    ("怎么投诉一个医院乱收费", [], False, None),
    ("您好，我要投诉", [], False, None),
    ("投诉省人医急诊科医生态度恶劣", ["省人医"], True, None),
    ("昨天下午3点多在鼓楼医院急诊，护士态度特别差，等了两个小时没人管", ["鼓楼医院"], True, "昨天下午3点多"),
    ("11月28号上午在市一医院挂号窗口排队，工作人员一直玩手机", ["市一医院"], True, "11月28号上午"),
    ("上周三带孩子去儿童医院看病，医生五分钟就打发我们走了", ["儿童医院"], True, "上周三"),
    ("三号窗口的工作人员骂人，太过分了", [], True, None),
])
def test_a_story_tells_what_happened_and_when(said, names, description, time):
    from actions import story

    told = story.read(said, names)
    assert (told.description == said) is description and told.time == time


def _opening(text: str, entities=()) -> Tracker:
    """The tracker the form's validation gets at the form's start (Rasa 3.6: requested_slot None)."""
    return Tracker("resident", {"requested_slot": None},
                   {"text": text, "entities": list(entities), "intent": {"name": "complaint"}},
                   [{"event": "user", "text": text}, {"event": "slot", "name": "requested_slot", "value": None},
                    {"event": "action", "name": "complaint_form"}],
                   False, None, {}, "action_listen")


_DOMAIN = {"forms": {"complaint_form": {"required_slots": [
    "complaint_hospital", "complaint_description", "complaint_time", "complaint_phone",
    "complaint_confirmed"]}}, "slots": {}}


async def test_an_opening_story_fills_what_happened_and_when():
    story = "昨天下午在急诊，护士态度特别差，让我们等了两个小时没人管"
    events = await ValidateComplaintForm().run(CollectingDispatcher(), _opening(story), _DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["complaint_description"] == story and slots["complaint_time"] == "昨天下午"


async def test_a_bare_request_to_complain_fills_nothing():
    entity = {"entity": "hospital", "value": "南京鼓楼医院", "start": 4, "end": 8}
    events = await ValidateComplaintForm().run(CollectingDispatcher(), _opening("我要投诉鼓楼医院", [entity]), _DOMAIN)
    assert not [e for e in events if e["event"] == "slot" and e["name"] in ("complaint_description", "complaint_time")]
