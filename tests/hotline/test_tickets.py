"""Tickets on both backends: numbering (also under concurrency), status changes and their history."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hotline.models import Ticket, TicketChange, TicketCounter
from knowledge.queries import NotFound
from hotline.tickets import (
    InvalidTransition,
    TicketError,
    TicketNotFound,
    change_status,
    get_ticket,
    list_tickets,
    open_ticket,
    register_work_order,
)

# 2026-11-22 09:30 in Nanjing
MORNING = datetime(2026, 11, 22, 1, 30)


def _complaint(session, **changes) -> Ticket:
    values = dict(hospital="江苏省人民医院", description="挂号处工作人员态度很差", occurred="昨天下午",
                  phone="139 1234 5678", sender="a1b2c3d4e5f60718", now=MORNING)
    values.update(changes)
    return open_ticket(session, **values)


def test_a_complaint_becomes_an_open_self_taken_ticket(session):
    ticket = _complaint(session)
    assert ticket.number == "TS-20261122-0001"
    assert (ticket.kind, ticket.status) == ("自接工单", "open")
    assert ticket.phone == "13912345678"  # the one place it is kept in clear, for the call back
    assert "1391234" not in repr(ticket)
    assert [(c.from_status, c.to_status, c.actor) for c in ticket.changes] == [(None, "open", "assistant")]
    assert get_ticket(session, "ts-20261122-0001").id == ticket.id


def test_numbers_follow_the_nanjing_day(session):
    first = _complaint(session)
    second = _complaint(session)
    # 23:30 UTC is already the next morning in Nanjing: a new day, a new sequence.
    next_day = _complaint(session, now=datetime(2026, 11, 22, 16, 30))
    aware = _complaint(session, now=datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=8))))
    assert [first.number, second.number, next_day.number, aware.number] == [
        "TS-20261122-0001", "TS-20261122-0002", "TS-20261123-0001", "TS-20261123-0002"]


@pytest.mark.parametrize("phone", [None, "", "不留", "不方便留"])
def test_a_declined_phone_is_not_kept(session, phone):
    assert _complaint(session, phone=phone).phone is None


def test_a_landline_is_kept_digits_only(session):
    assert _complaint(session, phone="025-8456 7890").phone == "02584567890"
    assert _complaint(session, phone="+86 139-1234-5678").phone == "13912345678"


@pytest.mark.parametrize("changes,message", [
    ({"phone": "1391234567"}, "phone"),
    ({"hospital": "  "}, "hospital"),
    ({"description": ""}, "description"),
    ({"kind": "投诉"}, "kind"),
])
def test_an_incomplete_ticket_is_refused(session, changes, message):
    with pytest.raises(TicketError, match=message) as info:
        _complaint(session, **changes)
    assert "1391234567" not in str(info.value)  # a wrong phone is not echoed into logs
    assert list_tickets(session) == []


def test_status_changes_and_their_history(session):
    number = _complaint(session).number
    later = MORNING + timedelta(hours=2)
    change_status(session, number, "in_progress", actor="坐席 王", note="已联系医院", now=later)
    change_status(session, number, "closed", actor="坐席 王", note="医院已道歉", now=later + timedelta(days=1))
    change_status(session, number, "in_progress", actor="坐席 李", note="来电人不满意，重新处理")
    change_status(session, number, "open", actor="坐席 李", note="转回待处理")
    ticket = get_ticket(session, number)
    assert ticket.status == "open"
    assert [(c.from_status, c.to_status, c.actor, c.note) for c in ticket.changes] == [
        (None, "open", "assistant", None),
        ("open", "in_progress", "坐席 王", "已联系医院"),
        ("in_progress", "closed", "坐席 王", "医院已道歉"),
        ("closed", "in_progress", "坐席 李", "来电人不满意，重新处理"),
        ("in_progress", "open", "坐席 李", "转回待处理"),
    ]
    assert ticket.updated_at > ticket.created_at


@pytest.mark.parametrize("path,refused", [
    ([], "closed"),  # open → closed skips the handling
    ([], "open"),  # no change is not a change
    (["in_progress", "closed"], "open"),  # a closed ticket is reopened into in_progress, not open
    ([], "done"),  # not a status
])
def test_transitions_that_are_not_allowed(session, path, refused):
    number = _complaint(session).number
    for status in path:
        change_status(session, number, status, actor="坐席 王")
    with pytest.raises(TicketError):
        change_status(session, number, refused, actor="坐席 王")
    ticket = get_ticket(session, number)
    assert ticket.status == (path[-1] if path else "open")
    assert len(ticket.changes) == len(path) + 1  # nothing recorded for the refused change


def test_invalid_transition_is_its_own_error(session):
    number = _complaint(session).number
    with pytest.raises(InvalidTransition, match="open.*cannot become closed"):
        change_status(session, number, "closed", actor="坐席 王")


def test_unknown_numbers(session):
    with pytest.raises(TicketNotFound):
        get_ticket(session, "TS-20990101-0001")
    with pytest.raises(NotFound):  # the store's one "nothing found" error catches it too
        change_status(session, "TS-20990101-0001", "in_progress", actor="坐席 王")


def test_agents_register_12345_work_orders(session):
    order = register_work_order(session, kind="市12345工单", hospital="南京鼓楼医院", description="市民反映排队时间过长",
                                occurred="11月20日", phone="13800001111", actor="坐席 王", now=MORNING)
    assert (order.kind, order.sender, order.status) == ("市12345工单", None, "open")
    assert order.changes[0].actor == "坐席 王"
    assert order.number == "TS-20261122-0001"  # one numbering for every kind
    with pytest.raises(TicketError):
        register_work_order(session, kind="自接工单", hospital="南京鼓楼医院", description="x" * 10,
                            occurred="今天", phone=None, actor="坐席 王")


def test_list_tickets_filters(session):
    a = _complaint(session)
    b = register_work_order(session, kind="省12345工单", hospital="南京市第一医院", description="反映收费问题",
                            occurred="上周", phone=None, actor="坐席 王", now=MORNING + timedelta(days=3))
    change_status(session, b.number, "in_progress", actor="坐席 王")
    c = _complaint(session, now=MORNING + timedelta(days=40))
    numbers = lambda tickets: [t.number for t in tickets]  # noqa: E731
    assert numbers(list_tickets(session)) == [a.number, b.number, c.number]
    assert numbers(list_tickets(session, status="open")) == [a.number, c.number]
    assert numbers(list_tickets(session, kind="省12345工单")) == [b.number]
    assert numbers(list_tickets(session, since=MORNING + timedelta(days=1),
                               until=MORNING + timedelta(days=30))) == [b.number]
    assert numbers(list_tickets(session, sender="a1b2c3d4e5f60718")) == [a.number, c.number]
    with pytest.raises(TicketError):
        list_tickets(session, status="pending")


# --- concurrency: real transactions on the shared store, cleaned up afterwards ---------------------

DAY = datetime(2031, 3, 4, 2, 0)  # a day no other test uses


@pytest.fixture
def committed(engine):
    yield engine
    with engine.begin() as conn:
        ids = select(Ticket.id).where(Ticket.number.like("TS-20310304-%"))
        conn.execute(delete(TicketChange).where(TicketChange.ticket_id.in_(ids)))
        conn.execute(delete(Ticket).where(Ticket.number.like("TS-20310304-%")))
        conn.execute(delete(TicketCounter).where(TicketCounter.day == "20310304"))


def test_concurrent_openings_draw_distinct_consecutive_numbers(committed):
    threads, per_thread = 6, 5
    numbers: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads)
    lock = threading.Lock()

    def work() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                with Session(committed) as s, s.begin():
                    number = open_ticket(s, hospital="南京鼓楼医院", description="候诊时间太长", occurred="今天上午",
                                         phone=None, sender="0f0f0f0f0f0f0f0f", now=DAY).number
                with lock:
                    numbers.append(number)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    expected = [f"TS-20310304-{n:04d}" for n in range(1, threads * per_thread + 1)]
    assert sorted(numbers) == expected
    with Session(committed) as s:
        assert sorted(t.number for t in list_tickets(s, since=DAY - timedelta(hours=1),
                                                      until=DAY + timedelta(hours=1))) == expected


def test_a_rolled_back_opening_gives_its_number_back(committed):
    with Session(committed) as s:
        with s.begin():
            first = open_ticket(s, hospital="南京鼓楼医院", description="候诊时间太长", occurred="今天",
                                phone=None, sender=None, now=DAY).number
        s.begin()
        open_ticket(s, hospital="南京鼓楼医院", description="候诊时间太长", occurred="今天", phone=None,
                    sender=None, now=DAY)
        s.rollback()  # e.g. the action failed after opening: nothing was submitted
        with s.begin():
            second = open_ticket(s, hospital="南京鼓楼医院", description="候诊时间太长", occurred="今天",
                                 phone=None, sender=None, now=DAY).number
    assert (first, second) == ("TS-20310304-0001", "TS-20310304-0002")  # no gap in the day's sequence


# --- idempotency: one ticket per key, whatever is replayed -------------------------------------------

def test_a_replayed_key_returns_the_first_ticket_and_draws_no_number(session):
    first = _complaint(session, idempotency_key="k" * 64)
    again = _complaint(session, idempotency_key="k" * 64, description="重放时内容不同也不另开")
    assert again.number == first.number and again.description == first.description
    assert len(list_tickets(session, sender="a1b2c3d4e5f60718")) == 1
    other = _complaint(session, idempotency_key="another-confirmation")
    unkeyed = _complaint(session)
    # The replay gave its drawn number back: the day's sequence has no gap.
    assert [int(t.number[-4:]) for t in (other, unkeyed)] == [int(first.number[-4:]) + 1, int(first.number[-4:]) + 2]
    with pytest.raises(TicketError, match="idempotency key"):
        _complaint(session, idempotency_key="x" * 65)


def test_concurrent_replays_of_one_confirmation_open_one_ticket(committed):
    threads = 6
    numbers: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work() -> None:
        try:
            start.wait()
            with Session(committed) as s, s.begin():
                numbers.append(open_ticket(s, hospital="南京鼓楼医院", description="候诊时间太长", occurred="今天上午",
                                           phone=None, sender="0f0f0f0f0f0f0f0f", now=DAY,
                                           idempotency_key="failover-replay").number)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    assert numbers == ["TS-20310304-0001"] * threads
    with Session(committed) as s:
        assert [t.number for t in list_tickets(s, since=DAY - timedelta(hours=1), until=DAY + timedelta(hours=1))] \
            == ["TS-20310304-0001"]
        assert s.scalar(select(TicketCounter.last).where(TicketCounter.day == "20310304")) == 1
