"""Faults on the production shape: the conversations, tickets and counts survive them.

Every test talks to the real processes (two Rasa servers, the action server, the app) the way the
app does (web/rasa.py ``ask``), and kills or stops the real thing: a process (SIGKILL), PostgreSQL
(pg_ctlcluster stop/start), RabbitMQ (rabbitmqctl stop_app/start_app). Rasa's second server is
killed last: the other tests do not need it gone.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline import tickets
from hotline.models import CallTurn, Ticket
from hotline.settings import PROJECT_ROOT
from safety.replies import response
from web import rasa

pytestmark = [pytest.mark.prod, pytest.mark.e2e]

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
ASK_HOSPITAL = RESPONSES["utter_ask_complaint_hospital"][0]["text"]
ASK_DESCRIPTION = RESPONSES["utter_ask_complaint_description"][0]["text"]
ASK_TIME = RESPONSES["utter_ask_complaint_time"][0]["text"]
TICKET = re.compile(r"TS-\d{8}-\d{4}")
# A complaint up to its confirmation question, then the confirmation.
COMPLAINT = ["我要投诉鼓楼医院", "挂号窗口的工作人员态度很差还骂人", "昨天下午三点左右", "不留"]
CONFIRM = "确认"
PHONE = "13912345678"


def turns_of(prod, sender):
    name = prod.pseudonym(sender)
    return lambda s: list(s.scalars(select(CallTurn).where(CallTurn.sender == name).order_by(CallTurn.id)))


async def test_the_action_server_killed_mid_conversation(prod):
    sender = prod.new_sender()
    assert ASK_HOSPITAL in prod.text(await prod.ask(sender, "我要投诉"))

    prod.kill("action server")
    try:
        # The hospital is checked by the form's validation action: nobody answers it.
        replies = await prod.ask(sender, "鼓楼医院")
        assert [r.text for r in replies] == [rasa.TEMPORARY_FAILURE], replies
        assert replies[0].custom == {"temporary_failure": True}
        # The turn is in the call log all the same, counted as a complaint.
        logged = await prod.eventually(lambda s: [t for t in turns_of(prod, sender)(s) if t.text == "鼓楼医院"])
        assert logged[0].category == "医疗投诉"
    finally:
        prod.restart("action server")

    # Back: the resident says it again and the same complaint goes on where it stopped.
    assert ASK_DESCRIPTION in prod.text(await prod.ask(sender, "鼓楼医院"))
    assert ASK_TIME in prod.text(await prod.ask(sender, COMPLAINT[1]))


async def test_rabbitmq_down_loses_no_event_and_the_report_counts_them(prod):
    today = datetime.now(timezone(timedelta(hours=8))).date()
    span = ["--from", str(today - timedelta(days=1)), "--to", str(today + timedelta(days=1))]

    def report() -> dict:
        done = prod.hotline("report", *span, "--format", "json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["total"]

    # Whatever earlier tests said is in the log before the count is taken.
    await asyncio.sleep(1.5)
    before = report()
    senders = [prod.new_sender("mq") for _ in range(4)]
    names = [prod.pseudonym(x) for x in senders]
    prod.stop_rabbitmq()
    try:
        for sender in senders:
            # Residents are answered while RabbitMQ is down: Rasa keeps the events it could not publish.
            assert "预约" in prod.text(await prod.ask(sender, "怎么预约挂号"))
        await prod.ask(senders[0], f"我的电话是{PHONE}")  # answered or not: it must not reach a log in clear
        await asyncio.sleep(1)
        with Session(prod.engine) as s:  # nothing reached the call log (it goes through RabbitMQ)
            assert s.scalar(select(func.count()).select_from(CallTurn).where(CallTurn.sender.in_(names))) == 0
    finally:
        prod.ensure_rabbitmq_running()

    # Back: Rasa publishes what it kept, the app's consumer stores it, the call log counts it.
    said = len(senders) + 1
    await prod.eventually(lambda s: s.scalar(
        select(func.count()).select_from(CallTurn).where(CallTurn.sender.in_(names))) == said, timeout=60)
    after = report()
    assert after["messages"] == before["messages"] + said, (before, after)
    assert after["conversations"] == before["conversations"] + len(senders), (before, after)
    status, health = await _healthz(prod)
    assert status == 200 and health["event_broker"]["state"] == "ok", health
    for service in prod.stack.services:
        assert PHONE not in service.log_path.read_text(errors="replace"), f"{service.name} logged it in clear"


async def test_postgresql_restarted_under_load_loses_no_ticket(prod):
    residents = [prod.new_sender("pg") for _ in range(3)]
    for sender in residents:
        for message in COMPLAINT:
            last = prod.text(await prod.ask(sender, message))
        assert "确认提交吗" in last, last

    # Load: other residents keep asking while the database goes away and comes back.
    stop = asyncio.Event()
    load_answers: list[str] = []

    async def load() -> None:
        while not stop.is_set():
            try:
                load_answers.append(prod.text(await prod.ask(prod.new_sender("load"), "怎么预约挂号")))
            except rasa.AssistantUnavailable as exc:
                load_answers.append(f"unavailable: {exc}")
            await asyncio.sleep(0.2)

    loader = asyncio.create_task(load())
    told: dict[str, str] = {}
    try:
        await asyncio.sleep(1)
        prod.stop_postgres()
        try:
            # While it is down: the app says so on /healthz, the command line in one line, and a
            # resident's confirmation is either kept waiting (the ticket is written when the
            # database is back) or answered with a clear failure, never with a lost ticket.
            status, health = await _healthz(prod)
            assert status == 503 and health["status"] == "error" and "OperationalError" in health["store"], health
            done = prod.hotline("tickets")
            assert done.returncode != 0 and done.stderr.strip(), done
            assert "Traceback" not in done.stderr, done.stderr
            confirmations = [asyncio.create_task(_confirm(prod, sender)) for sender in residents]
            await asyncio.sleep(3)
        finally:
            prod.ensure_postgres_running()
        for sender, outcome in zip(residents, await asyncio.gather(*confirmations)):
            if outcome is not None:
                told[sender] = outcome
        # Back: a resident not yet given a number confirms again and gets one.
        for sender in residents:
            for _ in range(5):
                if sender in told:
                    break
                if (number := await _confirm(prod, sender)) is not None:
                    told[sender] = number
                else:
                    await asyncio.sleep(2)
        await asyncio.sleep(1)
    finally:
        stop.set()
        await loader

    # Every number given is a ticket in the store, of that resident, exactly once.
    assert sorted(told) == sorted(residents), told
    with Session(prod.engine) as s:
        for sender, number in told.items():
            ticket = tickets.get_ticket(s, number)
            assert ticket.sender == prod.pseudonym(sender) and ticket.hospital == "南京鼓楼医院"
            assert s.scalar(select(func.count()).select_from(Ticket)
                            .where(Ticket.sender == prod.pseudonym(sender))) == 1
    assert load_answers and "预约" in load_answers[-1], load_answers[-3:]


NOTHING_TO_CONFIRM = response("utter_nothing_to_confirm").text


async def _confirm(prod, sender: str) -> str | None:
    """The ticket number the resident is told on confirming; None when told to try again."""
    try:
        text = prod.text(await prod.ask(sender, CONFIRM))
    except rasa.AssistantUnavailable:
        return None  # the app tells the resident (the gateway's answer): nothing was processed
    if text in (rasa.TEMPORARY_FAILURE, NOTHING_TO_CONFIRM):
        # Told to try again: by the app (nothing answered), or by the assistant when the conversation
        # store was out of reach and Rasa saw a yes with nothing before it.
        return None
    number = TICKET.search(text)
    assert number, text
    return number.group(0)


async def test_one_rasa_server_killed_its_conversations_go_on_on_the_other(prod):
    # A resident whose conversation lives on the first server (the router's choice for this sender).
    first = prod.rasa_urls[0]
    sender = next(s for s in (prod.new_sender("kill") for _ in range(100)) if rasa.route(prod.rasa_urls, s)[0] == first)
    assert ASK_DESCRIPTION in prod.text(await prod.ask(sender, COMPLAINT[0]))
    # Rasa's RabbitMQ broker publishes a turn's events in background tasks after it has answered:
    # a server killed in those milliseconds takes them along (the tracker store still has them; see
    # README). The test kills it once they are out, as a crash between two messages would.
    await prod.eventually(turns_of(prod, sender))

    prod.kill("Rasa server")
    started = time.monotonic()
    # The other server continues the same complaint from the tracker store: the next question.
    assert ASK_TIME in prod.text(await prod.ask(sender, COMPLAINT[1]))
    assert time.monotonic() - started < 10
    replies = [prod.text(await prod.ask(sender, m)) for m in (COMPLAINT[2], COMPLAINT[3], CONFIRM)]
    number = TICKET.search(replies[-1])
    assert number, replies
    try:
        turns = await prod.eventually(lambda s: (rows := turns_of(prod, sender)(s)) and len(rows) == 5 and rows)
    except AssertionError:
        with Session(prod.engine) as s:
            rows = [(t.text, t.intent, t.ticket, t.conversation_id) for t in turns_of(prod, sender)(s)]
        raise AssertionError(f"{rows}\n{prod.log_tail('app', 40)}")
    assert [t.category for t in turns] == ["医疗投诉"] * 5
    try:
        await prod.eventually(lambda s: turns_of(prod, sender)(s)[-1].ticket == number.group(0))
    except AssertionError:
        with Session(prod.engine) as s:
            rows = [(t.id, t.text, t.intent, t.ticket, t.conversation_id) for t in turns_of(prod, sender)(s)]
        raise AssertionError(f"{number.group(0)} not on the last turn: {rows}") from None


async def _healthz(prod) -> tuple[int, dict]:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(prod.stack.app_url + "/healthz", timeout=aiohttp.ClientTimeout(total=20)) as resp:
            return resp.status, await resp.json()
