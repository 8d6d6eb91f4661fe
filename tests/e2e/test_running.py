"""The running system end to end: REST channel → Rasa (trained model) → action server → store,
and Rasa's event broker → store → the app's call-log consumer. See conftest.py for the fixture."""
from __future__ import annotations

import re

import pytest

from knowledge.models import Bulletin

pytestmark = pytest.mark.e2e

GREETING = "南京卫生12320智能助手"
# An amount per dose or per day: what a medical answer must never contain.
DOSAGE = re.compile(r"\d+(\.\d+)?\s*(mg|毫克|克|g|ml|毫升|片|粒|袋|支|滴)|每次|每日|一日\s*\d|一天\s*\d|[一二三四两]次")


async def test_healthz_reports_the_store_and_rasa(system):
    status, body = await system.get("/healthz")
    assert status == 200, body
    with system.engine.connect() as conn:
        bulletins = conn.execute(Bulletin.__table__.select()).all()
    assert body["status"] == "ok"
    assert body["store"] == len(bulletins) > 0
    assert body["rasa"] is True


async def test_greeting_through_the_rest_channel(system):
    replies = await system.send(system.new_sender(), "你好")
    assert GREETING in system.text(replies), replies


def _crisis_answer(text: str) -> None:
    for number in ("12320", "120", "110"):
        assert number in text, f"crisis answer without {number}: {text}"


async def test_crisis_is_answered_at_once(system):
    replies = await system.send(system.new_sender(), "我不想活了")
    _crisis_answer(system.text(replies))


async def test_crisis_in_the_middle_of_a_complaint(system):
    sender = system.new_sender()
    asked = system.text(await system.send(sender, "我要投诉鼓楼医院"))
    assert "发生了什么" in asked, (f"the complaint form did not ask what happened: {asked!r}; "
                                f"action server log:\n{system.log_tail('action server', 12)}")
    replies = await system.send(sender, "我不想活了")
    text = system.text(replies)
    _crisis_answer(text)
    # Crisis answered, not taken as the complaint's description.
    assert "请确认您的投诉" not in text and "什么时候发生" not in text, text
    assert any(b.get("payload") == "/human_agent" for r in replies for b in r.get("buttons", [])), replies


@pytest.mark.parametrize("question", ["头疼吃布洛芬一次吃几片", "孩子发烧39度吃什么药，吃多少"])
async def test_medical_question_gets_no_dosage(system, question):
    text = system.text(await system.send(system.new_sender(), question))
    assert "医生" in text, text
    assert not DOSAGE.search(text), f"dosage in a medical answer: {text}"


async def test_every_turn_reaches_the_call_log_masked(system):
    """Rasa's event broker → the store's events table → the app's consumer → call_turn."""
    from sqlalchemy import text as sql

    from hotline import calllog

    sender = system.new_sender()
    said = ["你好", "我不想活了", "头疼吃什么药，我电话13912345678"]
    for message in said:
        await system.send(sender, message)
    key = system.settings.secret_key  # <var_dir>/secret.key, the one the app's consumer uses

    def logged(session):
        found = calllog.turns(session, sender=sender, key=key)
        return found if len(found) == len(said) else None

    turns = await system.eventually(logged, timeout=10)
    assert [t.text for t in turns] == ["你好", "我不想活了", "头疼吃什么药，我电话139****5678"]
    assert [t.intent for t in turns] == ["greet", "crisis", "medical_question"]
    assert [t.category for t in turns] == [None, "心理危机干预", "咨询类"]
    assert {t.channel for t in turns} == {"rest"}
    assert len({t.conversation_id for t in turns}) == 1
    assert all(t.sender != sender for t in turns)  # a pseudonym, not the id the channel gave
    # Consumed broker rows are deleted: the number in clear does not stay in the store.
    await system.eventually(lambda session: session.execute(
        sql("select count(*) from events where data like '%13912345678%'")).scalar() == 0)


async def test_a_complaint_told_as_a_story_asks_only_for_what_it_lacks(system):
    """Opening with the story (hospital, when, what happened) leaves only the phone to ask; a bare
    "我要投诉…" still asks what happened (test above)."""
    sender = system.new_sender()
    story = "你好，我想反映一下，昨天下午3点多在鼓楼医院急诊，护士态度特别差，让我们等了两个小时没人管"
    asked = system.text(await system.send(sender, story))
    assert "发生了什么" not in asked and "什么时候" not in asked, asked
    assert "电话" in asked, (f"the form did not go on to the phone: {asked!r}; "
                           f"action server log:\n{system.log_tail('action server', 12)}")
    confirm = system.text(await system.send(sender, "不留"))
    assert "医院：南京鼓楼医院" in confirm and "护士态度特别差" in confirm and "时间：昨天下午3点多" in confirm, confirm
