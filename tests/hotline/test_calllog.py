"""The call log on both backends, fed with events exactly as Rasa 3.6's SQLEventBroker writes them
(rows of `events`: sender_id, data = json.dumps of {"sender_id": …, **event.as_dict()})."""
from __future__ import annotations

import json
import os
import re
import stat
import threading
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from hotline import calllog, taxonomy
from hotline.calllog import consume_all, consume_once, pseudonym, turns
from hotline.models import CallConversation, CallLogCursor, CallTurn, events
from hotline.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KEY = b"test-key-for-the-call-log-0123456789"
PHONE = "13912345678"
ID_CARD = "320102199001011234"


class Rasa:
    """One sender's tracker events as Rasa 3.6 publishes them (shapes copied from Event.as_dict())."""

    def __init__(self, sender: str, start: datetime, channel: str = "wechat"):
        self.sender, self.t, self.channel = sender, start.replace(tzinfo=timezone.utc).timestamp(), channel
        self.rows: list[dict] = []

    def _event(self, event: dict) -> None:
        self.t += 0.2
        self.rows.append({"sender_id": self.sender, "event": event.pop("event"), "timestamp": self.t, **event})

    def action(self, name: str, policy: str | None = "RulePolicy") -> "Rasa":
        self._event({"event": "action", "name": name, "policy": policy, "confidence": 1.0 if policy else None,
                     "action_text": None, "hide_rule_turn": False})
        return self

    def session_start(self) -> "Rasa":
        self._event({"event": "action", "name": "action_session_start", "policy": None, "confidence": None,
                     "action_text": None, "hide_rule_turn": False})
        self._event({"event": "session_started"})
        return self.action("action_listen", policy=None)

    def user(self, text: str, intent: str, confidence: float = 0.93, entities=(), message_id: str | None = None) -> str:
        self.t += 5
        message_id = message_id or uuid.uuid4().hex
        ents = [{"entity": e, "start": 0, "end": len(v), "value": v, "extractor": "HotlineEntityExtractor",
                 "processors": []} for e, v in entities]
        self._event({"event": "user", "metadata": {}, "text": text, "parse_data": {
            "intent": {"name": intent, "confidence": confidence}, "entities": ents, "text": text,
            "message_id": message_id, "metadata": {},
            "intent_ranking": [{"name": intent, "confidence": confidence}], "response_selector": {}},
            "input_channel": self.channel, "message_id": message_id})
        self._event({"event": "user_featurization", "use_text_for_featurization": False})
        return message_id

    def bot(self, text: str, utter: str) -> "Rasa":
        self._event({"event": "bot", "metadata": {"utter_action": utter}, "text": text, "data": {
            "elements": None, "quick_replies": None, "buttons": None, "attachment": None, "image": None,
            "custom": None}})
        return self

    def slot(self, name: str, value) -> "Rasa":
        self._event({"event": "slot", "name": name, "value": value})
        return self

    def loop(self, name: str | None) -> "Rasa":
        self._event({"event": "active_loop", "name": name})
        return self

    def ask(self, form: str, slot: str, utter: str, text: str = "请说") -> "Rasa":
        return self.action(form).slot("requested_slot", slot).bot(text, utter).action("action_listen")


def complaint(rasa: Rasa, *, ticket: str = "TS-20261122-0001") -> Rasa:
    """A resident complains about 省人医 through the complaint form and leaves a phone number."""
    rasa.session_start()
    rasa.user("我要投诉省人医", "complaint", entities=[("hospital", "江苏省人民医院")])
    rasa.action("complaint_form").loop("complaint_form").slot("complaint_hospital", "江苏省人民医院")
    rasa.slot("requested_slot", "complaint_description").bot("请简单说说发生了什么事情。", "utter_ask_complaint_description")
    rasa.action("action_listen")
    rasa.user("挂号处的人态度很差，还让我加钱", "inform", confidence=0.61)
    rasa.action("complaint_form").slot("complaint_description", "挂号处的人态度很差，还让我加钱")
    rasa.slot("requested_slot", "complaint_time").bot("大概是什么时候发生的？", "utter_ask_complaint_time")
    rasa.action("action_listen")
    rasa.user("昨天下午", "inform")
    rasa.action("complaint_form").slot("complaint_time", "昨天下午").slot("requested_slot", "complaint_phone")
    rasa.bot("方便留一个联系电话吗？", "utter_ask_complaint_phone").action("action_listen")
    rasa.user(f"我的电话是{PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}，身份证{ID_CARD}", "inform",
              entities=[("phone", PHONE)])
    rasa.action("complaint_form").slot("complaint_phone", PHONE).slot("complaint_phone_masked", "139****5678")
    rasa.slot("requested_slot", "complaint_confirmed").bot("请确认您的投诉：…联系电话：139****5678。确认提交吗？",
                                                           "action_ask_complaint_confirmed")
    rasa.action("action_listen")
    rasa.user("确认", "affirm")
    rasa.action("complaint_form").slot("complaint_confirmed", True).loop(None).slot("requested_slot", None)
    rasa.action("action_submit_complaint").slot("ticket_number", ticket)
    rasa.bot(f"已提交，工单号 {ticket}。", "utter_complaint_submitted").action("action_listen")
    rasa.user("谢谢", "thanks")
    rasa.bot("不客气，能帮到您就好。", "utter_thanks").action("action_listen")
    return rasa


def publish(engine, rows: list[dict]) -> None:
    """What SQLEventBroker.publish does, row by row."""
    with engine.begin() as conn:
        for event in rows:
            conn.execute(insert(events).values(sender_id=event.get("sender_id"), data=json.dumps(event)))


@pytest.fixture
def store(engine, wipe):
    """The shared store with an empty call log (these tests commit), emptied again afterwards."""
    return engine


def log_rows(engine) -> list[tuple]:
    with Session(engine) as s:
        return [(t.sender, t.text, t.intent, t.category, t.loop, t.ticket, t.conversation.number,
                 json.dumps(t.entities, ensure_ascii=False))
                for t in s.scalars(select(CallTurn).order_by(CallTurn.time, CallTurn.id))]


def everything_stored(engine) -> str:
    """Every value of every call-log table (and what is left of the broker's), as one text."""
    with engine.connect() as conn:
        parts = []
        for table in (CallTurn.__table__, CallConversation.__table__, CallLogCursor.__table__, events):
            for row in conn.execute(select(table)):
                parts.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(parts)


# --- pseudonyms and the key -----------------------------------------------------------------------

def test_pseudonyms_are_keyed_and_short():
    a = pseudonym(KEY, "oWx_openid_1")
    assert re.fullmatch(r"[0-9a-f]{16}", a)
    assert a == pseudonym(KEY, "oWx_openid_1")
    assert a != pseudonym(KEY, "oWx_openid_2")
    assert a != pseudonym(b"another-key-of-the-same-length-xx", "oWx_openid_1")


def test_the_key_file_is_made_on_first_use_only(tmp_path):
    settings = Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path)})
    key_file = tmp_path / "secret.key"
    assert not key_file.exists()  # reading the settings makes no file
    key = settings.secret_key
    assert len(key) == 32 and key_file.read_bytes() == key
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path)}).secret_key == key  # same key next time


def test_the_key_from_the_environment_wins(tmp_path):
    settings = Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path), "HOTLINE_SECRET_KEY": "k" * 40})
    assert settings.secret_key == b"k" * 40
    assert not (tmp_path / "secret.key").exists()
    assert "kkkk" not in repr(settings)
    with pytest.raises(ValueError, match="at least"):
        Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path), "HOTLINE_SECRET_KEY": "short"})


def test_processes_starting_together_share_one_key(tmp_path):
    keys, start = [], threading.Barrier(8)

    def read() -> None:
        start.wait()
        keys.append(Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path)}).secret_key)

    workers = [threading.Thread(target=read) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]  # no temporary file left behind


# --- the taxonomy ---------------------------------------------------------------------------------

def test_every_intent_of_the_domain_is_counted_somewhere():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    unmapped = intents - set(taxonomy.INTENT_CATEGORY) - taxonomy.DIALOGUE_INTENTS
    assert not unmapped, f"add these intents to hotline/taxonomy.py: {sorted(unmapped)}"
    assert set(taxonomy.FORM_CATEGORY) == set(domain["forms"])


@pytest.mark.parametrize("intent,loop,previous,category", [
    ("booking_howto", None, None, "电话预约"),
    ("family_doctor", None, "咨询类", "电话预约"),
    ("rank_statistics", None, None, "咨询类"),
    ("out_of_scope", None, None, "咨询类"),
    ("complaint", None, None, "医疗投诉"),
    ("human_agent", "complaint_form", None, "人工服务"),
    ("crisis", "complaint_form", "医疗投诉", "心理危机干预"),
    ("inform", "complaint_form", None, "医疗投诉"),
    ("deny", "booking_form", None, "电话预约"),
    ("thanks", None, "电话预约", "电话预约"),
    ("greet", None, None, None),
    ("nlu_fallback", None, "电话预约", "自助语音问答"),
    ("nlu_fallback", "complaint_form", None, "医疗投诉"),
    ("some_new_intent", None, "咨询类", None),
    (None, None, "咨询类", None),
])
def test_message_categories(intent, loop, previous, category):
    assert taxonomy.category_of(intent, loop=loop, previous=previous) == category


def test_a_conversation_counts_under_its_highest_category():
    assert taxonomy.conversation_category(["咨询类", "电话预约", None]) == "电话预约"
    assert taxonomy.conversation_category(["自助语音问答", "咨询类"]) == "咨询类"
    assert taxonomy.conversation_category(["电话预约", "人工服务", "医疗投诉"]) == "医疗投诉"
    assert taxonomy.conversation_category(["医疗投诉", "心理危机干预", "人工服务"]) == "心理危机干预"
    assert taxonomy.conversation_category([None, None]) is None


# --- consuming the broker -------------------------------------------------------------------------

def test_a_complaint_in_the_call_log(store):
    rasa = complaint(Rasa("oWx_resident_1", datetime(2026, 11, 22, 1, 0)))
    publish(store, rasa.rows)
    assert consume_all(store, KEY) == len(rasa.rows)
    name = pseudonym(KEY, "oWx_resident_1")
    assert log_rows(store) == [
        (name, "我要投诉省人医", "complaint", "医疗投诉", None, None, 1,
         '[{"entity": "hospital", "value": "江苏省人民医院"}]'),
        (name, "挂号处的人态度很差，还让我加钱", "inform", "医疗投诉", "complaint_form", None, 1, "[]"),
        (name, "昨天下午", "inform", "医疗投诉", "complaint_form", None, 1, "[]"),
        (name, "我的电话是139****5678，身份证320102********1234", "inform", "医疗投诉", "complaint_form", None, 1,
         '[{"entity": "phone", "value": "139****5678"}]'),
        (name, "确认", "affirm", "医疗投诉", "complaint_form", "TS-20261122-0001", 1, "[]"),
        (name, "谢谢", "thanks", "医疗投诉", None, None, 1, "[]"),  # after the form: the previous turn's
    ]
    with Session(store) as s:
        first = s.scalars(select(CallTurn).order_by(CallTurn.time)).first()
        # UTC, from the event's timestamp (the session start took 0.6 s, the resident typed for 5 s)
        assert abs((first.time - datetime(2026, 11, 22, 1, 0, 5, 800000)).total_seconds()) < 0.001
        assert (first.channel, first.confidence) == ("wechat", 0.93)
        conversation = s.scalars(select(CallConversation)).one()
        assert (conversation.category, conversation.loop, conversation.number) == ("医疗投诉", None, 1)
        assert s.scalar(select(func.count()).select_from(events)) == 0  # consumed rows are deleted


def test_no_clear_number_stays_anywhere(store):
    publish(store, complaint(Rasa("oWx_resident_1", datetime(2026, 11, 22, 1, 0))).rows)
    consume_all(store, KEY)
    stored = everything_stored(store)
    assert "139****5678" in stored
    for clear in (PHONE, "1234 5678", "19900101", "oWx_resident_1"):
        assert clear not in stored


def test_categories_follow_the_conversation(store):
    rasa = Rasa("oWx_resident_2", datetime(2026, 11, 22, 2, 0), channel="rest")
    rasa.session_start()
    rasa.user("你好", "greet")
    rasa.user("鼓楼医院怎么预约", "booking_howto", entities=[("hospital", "南京鼓楼医院")])
    rasa.action("booking_form").loop("booking_form").ask("booking_form", "booking_hospital", "utter_ask_booking_hospital")
    rasa.user("不限", "deny")
    rasa.loop(None)
    rasa.user("好的谢谢", "thanks")
    rasa.user("asdfgh", "nlu_fallback", confidence=0.2)
    rasa.user("我想死", "crisis")
    rasa.session_start()  # a new session: a new conversation, nothing carried over
    rasa.user("在吗", "greet")
    rasa.user("2023年预约了多少次", "ask_statistics", entities=[("period", "2023")])
    rasa.user("好", "affirm")
    publish(store, rasa.rows)
    consume_all(store, KEY)
    assert [(r[2], r[3], r[4], r[6]) for r in log_rows(store)] == [
        ("greet", None, None, 1),
        ("booking_howto", "电话预约", None, 1),
        ("deny", "电话预约", "booking_form", 1),
        ("thanks", "电话预约", None, 1),
        ("nlu_fallback", "自助语音问答", None, 1),
        ("crisis", "心理危机干预", None, 1),
        ("greet", None, None, 2),
        ("ask_statistics", "咨询类", None, 2),
        ("affirm", "咨询类", None, 2),
    ]
    with Session(store) as s:
        assert [(c.number, c.category) for c in s.scalars(
            select(CallConversation).order_by(CallConversation.number))] == [(1, "心理危机干预"), (2, "咨询类")]


def _several_residents(start: datetime) -> list[dict]:
    rows = []
    for i in range(4):
        rows += complaint(Rasa(f"oWx_resident_{i}", start), ticket=f"TS-20261122-{i + 1:04d}").rows
        b = Rasa(f"oWx_booker_{i}", start)
        b.session_start()
        b.user("怎么预约省人医", "booking_howto", entities=[("hospital", "江苏省人民医院")])
        b.action("booking_form").loop("booking_form").ask("booking_form", "booking_hospital", "utter_ask_booking_hospital")
        b.user("嗯", "affirm")
        b.loop(None).action("action_booking_guidance").action("action_listen")
        b.user("谢谢", "thanks")
        rows += b.rows
    # interleaved as several residents talking at once
    return sorted(rows, key=lambda r: (r["timestamp"], r["sender_id"]))


def test_small_batches_and_restarts_change_nothing(store, wipe):
    rows = _several_residents(datetime(2026, 11, 22, 3, 0))
    publish(store, rows)
    assert consume_all(store, KEY) == len(rows)
    whole = log_rows(store)
    wipe()
    publish(store, rows)
    # one row per transaction: every bit of state crosses a batch boundary (as after a restart)
    while consume_once(store, KEY, batch=1):
        pass
    assert log_rows(store) == whole
    assert len(whole) == 4 * 6 + 4 * 3
    assert {r[5] for r in whole if r[5]} == {f"TS-20261122-{i:04d}" for i in range(1, 5)}


def test_consuming_twice_and_redelivered_events_add_nothing(store):
    rasa = complaint(Rasa("oWx_resident_1", datetime(2026, 11, 22, 1, 0)))
    publish(store, rasa.rows)
    consume_all(store, KEY)
    before = log_rows(store)
    assert consume_once(store, KEY) == 0
    # the broker writes some events again (a retried publish): same message_id, a new row
    publish(store, [r for r in rasa.rows if r["event"] == "user"][:3])
    assert consume_all(store, KEY) == 3
    assert log_rows(store) == before


def test_a_crash_before_the_commit_loses_nothing(store, monkeypatch):
    rows = complaint(Rasa("oWx_resident_1", datetime(2026, 11, 22, 1, 0))).rows
    publish(store, rows)
    real, calls = calllog._user, []

    def crash_on_the_third(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real(*args)

    monkeypatch.setattr(calllog, "_user", crash_on_the_third)
    with pytest.raises(RuntimeError):
        consume_once(store, KEY)
    assert log_rows(store) == []
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar() == len(rows)
    monkeypatch.setattr(calllog, "_user", real)
    assert consume_all(store, KEY) == len(rows)
    assert len(log_rows(store)) == 6


def test_rows_that_are_not_events_are_dropped(store):
    rows = complaint(Rasa("oWx_resident_1", datetime(2026, 11, 22, 1, 0))).rows
    publish(store, rows[:5])
    with store.begin() as conn:
        conn.execute(insert(events).values(sender_id="x", data="{not json"))
        conn.execute(insert(events).values(sender_id="x", data='"a string"'))
    publish(store, rows[5:])
    assert consume_all(store, KEY) == len(rows) + 2
    assert len(log_rows(store)) == 6


def test_concurrent_consumers_take_turns(store, wipe):
    rows = _several_residents(datetime(2026, 11, 22, 3, 0))
    publish(store, rows)
    errors, start = [], threading.Barrier(3)

    def consume() -> None:
        try:
            start.wait()
            consume_all(store, KEY, batch=7)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=consume) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    got = log_rows(store)
    wipe()
    publish(store, rows)
    consume_all(store, KEY)
    assert got == log_rows(store)  # the same log as one consumer alone makes
    with Session(store) as s:
        assert s.get(CallLogCursor, 1).consumed == len(rows)


def test_turns_by_time_and_by_sender_id(store):
    publish(store, _several_residents(datetime(2026, 11, 22, 3, 0)))
    publish(store, complaint(Rasa("oWx_later", datetime(2026, 11, 25, 3, 0))).rows)
    consume_all(store, KEY)
    with Session(store) as s:
        assert len(turns(s)) == 36 + 6
        assert len(turns(s, since=datetime(2026, 11, 24))) == 6
        assert len(turns(s, until=datetime(2026, 11, 24))) == 36
        mine = turns(s, sender="oWx_booker_2", key=KEY)
        assert [t.text for t in mine] == ["怎么预约省人医", "嗯", "谢谢"]
        assert {t.sender for t in mine} == {pseudonym(KEY, "oWx_booker_2")}
        with pytest.raises(ValueError):
            turns(s, sender="oWx_booker_2")


def test_the_tally_counts_each_turn_written_by_channel_and_category(store):
    """consume_once's tally (what /metrics counts, web/metrics.py): every turn written, by the channel of
    its sender (the WeChat gateway's wx-…, else Rasa's REST channel) and its category; an agent's lookup
    and a redelivered event not at all."""
    wechat = complaint(Rasa("wx-0123456789abcdef01234567", datetime(2026, 11, 22, 1, 0)))
    rest = Rasa("rest-caller-1", datetime(2026, 11, 22, 1, 0), channel="rest")
    rest.user("你好", "greet")
    agent = Rasa(calllog.CONSOLE_SENDER_PREFIX + "0123", datetime(2026, 11, 22, 1, 0), channel="rest")
    agent.user("鼓楼医院电话", "centre_contact")
    publish(store, wechat.rows + rest.rows + agent.rows)
    tally: Counter = Counter()
    while consume_once(store, KEY, batch=7, tally=tally):
        pass
    rows = log_rows(store)
    expected = Counter(("wechat", r[3]) for r in rows if r[0] == pseudonym(KEY, wechat.sender))
    assert expected[("wechat", "医疗投诉")] > 0
    assert tally == expected + Counter({("rest", None): 1})
    assert sum(tally.values()) == len(rows)
    publish(store, [r for r in wechat.rows if r["event"] == "user"])  # redelivered
    assert consume_once(store, KEY, tally=tally) > 0
    assert sum(tally.values()) == len(rows) == len(log_rows(store))
    assert calllog.channel_of(wechat.sender) == "wechat" and calllog.channel_of("rest-caller-1") == "rest"
