"""The Rasa server's two speed-ups: the action-answer check built once (bot/server/) and the event
broker writing a turn's events in one transaction (bot/server/brokers.py). Both must keep Rasa's behaviour:
the same answers refused, the same rows in the same order, nothing lost when the database is busy."""
from __future__ import annotations

import asyncio
import json
import sqlite3
import time

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from sqlalchemy import event

from bot.server import validator as server
from bot.server import brokers

GOOD = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "complaint_hospital", "value": "南京鼓楼医院", "timestamp": None},
                {"event": "active_loop", "name": "complaint_form"}],
     "responses": [{"text": "请简单说说发生了什么事情。", "buttons": [], "custom": {}, "image": None}]},
    {"events": [{"event": "followup", "name": "action_listen"}, {"event": "reset_slots"}],
     "responses": [{"response": "utter_greet"}]},
]
BAD = [
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot", "value": 1}]},  # a slot event without its name
    {"events": [], "responses": ["a string, not an object"]},
    {"events": [{"name": "complaint_form"}]},  # an event without its type
]


@pytest.fixture
def validate():
    server.install()
    return RemoteAction("action_statistics", None)._validate_action_result


def test_the_check_built_once_passes_what_rasa_passes(validate):
    for answer in GOOD:
        jsonschema.validate(answer, RemoteAction.action_response_format_spec())  # Rasa's own verdict
        assert validate(answer) is True


@pytest.mark.parametrize("answer", BAD)
def test_the_check_built_once_refuses_what_rasa_refuses_with_rasas_message(validate, answer):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(answer, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        validate(answer)


def test_install_is_idempotent(validate):
    installed = RemoteAction._validate_action_result
    server.install()
    assert RemoteAction._validate_action_result is installed


# --- the event broker --------------------------------------------------------------------------------

@pytest.fixture
def db(tmp_path):
    return tmp_path / "events.db"


def make_broker(db, timeout: float = 5.0) -> brokers.TurnSQLEventBroker:
    # As endpoints.yml gives it: a whole SQLAlchemy URL with SQLite's busy timeout.
    return brokers.TurnSQLEventBroker(host=f"sqlite:///{db}?timeout={timeout}")


def rows(db) -> list[tuple[str, dict]]:
    with sqlite3.connect(db) as conn:
        return [(s, json.loads(d)) for s, d in conn.execute("SELECT sender_id, data FROM events ORDER BY id")]


def turn(sender: str, n: int, start: int = 0) -> list[dict]:
    return [{"sender_id": sender, "event": "user", "text": f"第{i}句"} for i in range(start, start + n)]


async def written(db, n: int) -> list[tuple[str, dict]]:
    """The rows once there are ``n`` of them (the broker writes in its own thread), after at most 5 s."""
    for _ in range(100):
        if len(found := rows(db)) >= n:
            return found
        await asyncio.sleep(0.05)
    return rows(db)


async def test_a_turns_events_are_written_together_in_order_right_after_the_turn(db):
    broker = make_broker(db)
    commits = []
    event.listen(broker.engine, "commit", lambda conn: commits.append(1))
    for e in turn("a", 6):
        broker.publish(e)
    assert rows(db) == []  # still inside the turn: nothing written yet
    assert [d["text"] for _, d in await written(db, 6)] == [f"第{i}句" for i in range(6)]
    assert len(commits) == 1
    for e in turn("b", 2):
        broker.publish(e)
    assert [s for s, _ in await written(db, 8)] == ["a"] * 6 + ["b"] * 2 and len(commits) == 2
    await broker.close()


async def test_a_slow_write_does_not_hold_up_the_server(db):
    # Another writer holds SQLite's lock: the broker's commit waits (its busy timeout), the server's
    # event loop does not; the turns published meanwhile are written after, in order.
    broker = make_broker(db, timeout=1.0)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    for e in turn("a", 2):
        broker.publish(e)
    began = time.monotonic()
    await asyncio.sleep(0.1)  # the write starts on the first pass and waits for the lock
    for e in turn("a", 2, start=2):
        broker.publish(e)
    assert time.monotonic() - began < 0.5
    blocker.execute("ROLLBACK")
    blocker.close()
    assert [d["text"] for _, d in await written(db, 4)] == [f"第{i}句" for i in range(4)]
    await broker.close()


def test_without_an_event_loop_each_event_is_written_at_once(db):
    broker = make_broker(db)
    broker.publish(turn("a", 1)[0])
    assert len(rows(db)) == 1


async def test_a_locked_database_delays_the_events_and_loses_none(db, monkeypatch, caplog):
    monkeypatch.setattr(brokers, "RETRY_S", 0.05)
    broker = make_broker(db, timeout=0.05)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database beyond the busy timeout
    for e in turn("a", 3):
        broker.publish(e)
    await asyncio.sleep(0.3)
    for e in turn("a", 2, start=3):  # later turns queue behind the unwritten ones
        broker.publish(e)
    await asyncio.sleep(0.1)
    blocker.execute("ROLLBACK")
    blocker.close()
    for _ in range(50):
        if len(rows(db)) == 5:
            break
        await asyncio.sleep(0.05)
    assert [d["text"] for _, d in rows(db)] == [f"第{i}句" for i in range(5)]
    errors = [r.getMessage() for r in caplog.records if r.name == "bot.server.brokers"]
    assert any("Could not write 3 events" in m for m in errors)
    assert not any("第" in m for m in errors)  # what residents wrote is not logged
    await broker.close()


async def test_close_writes_what_is_queued(db):
    broker = make_broker(db)
    for e in turn("a", 4):
        broker.publish(e)
    await broker.close()  # Rasa's shutdown, before the loop's next pass
    assert len(rows(db)) == 4


def test_a_full_backlog_fails_the_publish_instead_of_dropping(db, monkeypatch):
    monkeypatch.setattr(brokers, "MAX_PENDING", 2)
    broker = make_broker(db)
    broker._pending.extend(turn("a", 2))  # as if the database had been down for a long time
    with pytest.raises(brokers.EventBacklogFull):
        broker.publish(turn("a", 1, start=2)[0])
    assert len(broker._pending) == 2
