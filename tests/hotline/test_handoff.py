"""The handoff queue in the store (hotline/handoff.py), on both backends: one open entry per sender,
a take that only one of two agents wins (also from two threads at once), expiry by time and by the
centre's hours, the transcript an agent reads, and the report's counts and waiting times."""
from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from hotline import handoff, reports
from hotline.models import CallConversation, CallTurn, Handoff, HandoffMessage

ALWAYS = (time(0), time.max)
T0 = datetime(2026, 11, 30, 2, 0)  # 10:00 in Nanjing


@pytest.fixture
def store(engine):
    def empty() -> None:
        with engine.begin() as conn:
            for table in (HandoffMessage, Handoff, CallTurn, CallConversation):
                conn.execute(delete(table))

    empty()
    yield engine
    empty()


def _request(engine, sender="a" * 16, **kw) -> int:
    with Session(engine) as s, s.begin():
        return handoff.request(s, sender, now=kw.pop("now", T0), **kw).id


def test_a_sender_has_one_open_entry_and_a_crisis_raises_it(store):
    first = _request(store)
    assert _request(store, now=T0 + timedelta(minutes=1)) == first
    assert _request(store, crisis=True, now=T0 + timedelta(minutes=2)) == first
    with Session(store) as s:
        entry = handoff.get(s, first)
        assert entry.state == handoff.WAITING and entry.crisis and entry.crisis_at == T0 + timedelta(minutes=2)


def test_the_queue_puts_crises_first_then_the_longest_waiting(store):
    old = _request(store, "1" * 16, now=T0)
    new = _request(store, "2" * 16, now=T0 + timedelta(minutes=5))
    crisis = _request(store, "3" * 16, now=T0 + timedelta(minutes=9), crisis=True)
    with Session(store) as s:
        assert [e.id for e in handoff.queue(s, T0 + timedelta(minutes=10))] == [crisis, old, new]
        assert handoff.open_crises(s) == 1


def test_two_agents_cannot_take_one_conversation(store):
    entry = _request(store)
    with Session(store) as s, s.begin():
        assert handoff.take(s, entry, "wang") is True
    with Session(store) as s, s.begin():
        assert handoff.take(s, entry, "li") is False
        assert handoff.get(s, entry).agent == "wang"


def test_two_agents_taking_at_the_same_moment_one_wins(store):
    entries = [_request(store, f"{i:016d}") for i in range(5)]
    for entry in entries:
        barrier, results = threading.Barrier(2), {}

        def take(agent: str) -> None:
            with Session(store) as s, s.begin():
                barrier.wait()
                results[agent] = handoff.take(s, entry, agent)

        threads = [threading.Thread(target=take, args=(agent,)) for agent in ("wang", "li")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(results.values()) == [False, True], results
        with Session(store) as s:
            winner = next(agent for agent, won in results.items() if won)
            assert handoff.get(s, entry).agent == winner


def test_expiry_by_waiting_time_then_by_the_centres_hours(store):
    early = _request(store, "1" * 16, now=T0)
    late = _request(store, "2" * 16, now=T0 + timedelta(minutes=9))
    taken = _request(store, "3" * 16, now=T0)
    with Session(store) as s, s.begin():
        handoff.take(s, taken, "wang")
        expired = handoff.expire_due(s, timedelta(minutes=10), ALWAYS, now=T0 + timedelta(minutes=11))
        assert [(e.id, e.closed_by) for e in expired] == [(early, handoff.TIMEOUT)]
    with Session(store) as s, s.begin():
        # 10:12 in Nanjing, the centre open 08:00-10:00: whatever waits now is told it is closed.
        expired = handoff.expire_due(s, timedelta(minutes=10), (time(8), time(10)), now=T0 + timedelta(minutes=12))
        assert [(e.id, e.closed_by) for e in expired] == [(late, handoff.OUTSIDE_HOURS)]
        assert handoff.get(s, taken).state == handoff.TAKEN  # a person holds it: not expired


def test_a_request_outside_the_hours_is_recorded_expired_at_once(store):
    entry = _request(store, open_now=False)
    with Session(store) as s:
        e = handoff.get(s, entry)
        assert (e.state, e.closed_by) == (handoff.EXPIRED, handoff.OUTSIDE_HOURS)
        assert handoff.open_entry(s, e.sender) is None


def test_opening_hours_in_nanjing_time():
    at = datetime(2026, 11, 30, 1, 30)  # 09:30 Nanjing
    assert handoff.within_hours((time(8), time(20)), at)
    assert not handoff.within_hours((time(10), time(20)), at)
    assert handoff.within_hours((time(22), time(10)), at)  # overnight
    assert not handoff.within_hours((time(22), time(9)), at)
    assert handoff.within_hours(ALWAYS, datetime(2026, 11, 30, 15, 59, 59))  # 23:59:59 Nanjing


def test_the_transcript_is_the_masked_call_log_then_the_held_messages(store):
    sender = "b" * 16
    with Session(store) as s, s.begin():
        conversation = CallConversation(sender=sender, number=1, started=T0, category="人工服务")
        s.add(conversation)
        s.flush()
        s.add(CallTurn(event_key="k1", conversation=conversation, time=T0 - timedelta(minutes=2), sender=sender,
                       channel="rest", text="我要投诉，电话139****5678", intent="complaint", category="医疗投诉",
                       entities=[], ticket="TS-20261130-0001", answer="已为您登记工单"))
        s.add(CallTurn(event_key="k2", conversation=conversation, time=T0, sender=sender, channel="rest",
                       text="转人工", intent="human_agent", category="人工服务", entities=[], answer="正在为您转接"))
        entry = handoff.request(s, sender, now=T0)
        handoff.resident_said(s, entry, "我的电话是13912345678，不想活了", crisis=True, now=T0 + timedelta(minutes=1))
        entry_id, conversation_id = entry.id, conversation.id
    with Session(store) as s:
        entry = handoff.get(s, entry_id)
        lines = handoff.transcript(s, entry, T0 + timedelta(minutes=2))
        assert [(line.who, line.text) for line in lines] == [
            ("resident", "我要投诉，电话139****5678"), ("assistant", "已为您登记工单"),
            ("resident", "转人工"), ("assistant", "正在为您转接"),
            ("resident", "我的电话是139****5678，不想活了")]
        assert lines[0].intent == "complaint" and lines[0].ticket == "TS-20261130-0001"
        assert lines[-1].crisis and entry.crisis
        # the call log counts the conversation as a crisis, though the assistant never saw the message
        assert s.get(CallConversation, conversation_id).category == "心理危机干预"
    with Session(store) as s, s.begin():
        assert handoff.close(s, entry_id, "agent:wang", now=T0 + timedelta(minutes=3))
        assert not handoff.close(s, entry_id, "agent:li")
        assert handoff.get(s, entry_id).ticket == "TS-20261130-0001"


def test_an_answer_needs_the_agent_who_took_it_and_the_48_hours(store):
    entry_id = _request(store)
    with Session(store) as s, s.begin():
        entry = handoff.get(s, entry_id)
        assert handoff.can_answer(entry, "wang") == "not taken"
        handoff.take(s, entry_id, "wang")
        handoff.reach_by(s, entry_id, handoff.WECHAT, "sealed")
        entry = handoff.get(s, entry_id)
        assert handoff.can_answer(entry, "li") == "another agent's"
        assert handoff.can_answer(entry, "wang", now=T0 + timedelta(hours=47)) is None
        assert handoff.can_answer(entry, "wang", now=T0 + timedelta(hours=49)) == "48 hours"


def test_the_report_counts_handoffs_and_the_time_to_a_first_human_answer(store):
    ids = [_request(store, f"{i:016d}", now=T0 + timedelta(seconds=i)) for i in range(10)]
    with Session(store) as s, s.begin():
        for i, entry in enumerate(ids[:8]):  # answered after 1, 2, … 8 minutes
            handoff.take(s, entry, "wang")
            handoff.answered(s, entry, "wang", "您好", handoff.SENT, now=T0 + timedelta(seconds=i, minutes=i + 1))
        handoff.request(s, "c" * 16, crisis=True, now=T0 + timedelta(minutes=1))
        handoff.request(s, "d" * 16, open_now=False, now=T0 + timedelta(minutes=1))
        handoff.expire_due(s, timedelta(minutes=10), ALWAYS, now=T0 + timedelta(minutes=20))
    with Session(store) as s:
        report = reports.build_report(s, reports.parse_period("2026-11"))
    h = report.handoff
    assert (h.requests, h.crisis, h.taken, h.answered, h.expired, h.outside_hours) == (12, 1, 8, 8, 3, 1)
    assert h.wait_median == 4.5 * 60 and h.wait_p90 == 8 * 60
    text = reports.to_text(report)
    assert "六、人工接入" in text and "中位数 4.5 分钟" in text and "第90百分位 8.0 分钟" in text
    assert reports.to_dict(report)["handoff"]["first_answer_seconds"] == {"median": 270.0, "p90": 480.0}
    assert "handoff,requests,12" in reports.to_csv(report)
