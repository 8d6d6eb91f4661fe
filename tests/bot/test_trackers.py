"""Rasa's tracker stores as the servers use them (bot/server/trackers.py): what they keep and publish
holds no personal number in clear, and conversations expire.

Real Rasa stores (the in-memory one, the Redis one on the machine's Redis, the SQL one on a SQLite
file and on PostgreSQL), real trackers of this domain, and a broker that records what it is given.
"""
from __future__ import annotations

import json
import re
import os
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.server.trackers import ExpiringInMemoryTrackerStore, ExpiringRedisTrackerStore, ExpiringSQLTrackerStore

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(ROOT / "domain.yml")

PHONE = "13912345678"
PHONE_SPACED = "139 8765 4321"
ID_CARD = "32010219900101123X"
BANK_CARD = "6222 0212 3456 7890 123"
TYPED = f"我的电话{PHONE}，也可以打{PHONE_SPACED}，身份证{ID_CARD}，卡号{BANK_CARD}"
CLEAR = [PHONE, "87654321", "19900101123", "02123456789"]  # digits of each number, however typed


class Recorder(EventBroker):
    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish(self, event: dict) -> None:
        self.published.append(event)


def assert_no_clear_number(text: str) -> None:
    plain = re.sub(r"\D", "", text)
    for number in CLEAR:
        assert number not in plain, f"{number} in clear in {text[:300]}"


def conversation(sender: str, at: float | None = None) -> DialogueStateTracker:
    at = time.time() if at is None else at
    events = [
        ActionExecuted("action_session_start", timestamp=at), SessionStarted(timestamp=at),
        ActionExecuted("action_listen", timestamp=at),
        UserUttered(TYPED, intent={"name": "inform", "confidence": 0.9},
                    entities=[{"entity": "phone", "value": PHONE, "start": 4, "end": 15}],
                    parse_data={"text": TYPED, "intent": {"name": "inform", "confidence": 0.9},
                                "entities": [{"entity": "phone", "value": PHONE}]},
                    metadata={"note": TYPED}, timestamp=at),
        SlotSet("complaint_description", TYPED, timestamp=at),
        BotUttered(f"您说的是{PHONE}吗？", timestamp=at),
        ActionExecuted("action_listen", timestamp=at),
    ]
    return DialogueStateTracker.from_events(sender, events, DOMAIN.slots)


async def test_in_memory_keeps_and_publishes_no_clear_number_and_the_turn_is_untouched():
    broker = Recorder()
    store = ExpiringInMemoryTrackerStore(DOMAIN, broker)
    tracker = conversation("resident-1")
    await store.save(tracker)
    assert_no_clear_number(store.store["resident-1"])
    assert broker.published and all(e["sender_id"] == "resident-1" for e in broker.published)
    assert_no_clear_number(json.dumps(broker.published, ensure_ascii=False))
    # The tracker of the turn being answered is the resident's own words.
    assert tracker.latest_message.text == TYPED
    back = await store.retrieve("resident-1")
    assert back.latest_message.text.startswith("我的电话139****5678")
    assert back.get_slot("complaint_description").endswith("6222***********0123")
    assert [e.type_name for e in back.events] == [e.type_name for e in tracker.events]


async def test_in_memory_forgets_a_conversation_idle_past_the_retention(monkeypatch):
    store = ExpiringInMemoryTrackerStore(DOMAIN, retention_minutes="60")  # as endpoints give it: text
    clock = [1000.0]
    monkeypatch.setattr("bot.server.trackers.time.monotonic", lambda: clock[0])
    await store.save(conversation("old"))
    clock[0] += 30 * 60
    await store.save(conversation("recent"))
    clock[0] += 31 * 60  # "old" idle for 61 minutes, "recent" for 31
    assert await store.retrieve("old") is None
    assert await store.retrieve("recent") is not None
    assert list(await store.keys()) == ["recent"]


async def test_in_memory_holds_at_most_its_cap_dropping_the_longest_idle():
    store = ExpiringInMemoryTrackerStore(DOMAIN, max_conversations=3)
    for n in range(5):
        await store.save(conversation(f"r{n}"))
    await store.save(conversation("r2"))  # r2 speaks again: now the most recent
    await store.save(conversation("r5"))
    assert sorted(await store.keys()) == ["r2", "r4", "r5"]


async def test_a_retention_that_is_no_time_is_refused():
    with pytest.raises(ValueError):
        ExpiringInMemoryTrackerStore(DOMAIN, retention_minutes="0")


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_url(request, tmp_path):
    """Rasa's SQL tracker store on a SQLite file, and on a throwaway PostgreSQL database (production's)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'trackers.db'}"
        return
    admin_url = os.environ.get("HOTLINE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin_url = admin_url.replace("postgresql+psycopg://", "postgresql://")  # Rasa's SQLAlchemy 1.4: psycopg2
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # noqa: BLE001 - no server here
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL not reachable ({type(exc).__name__})")
        pytest.skip(f"PostgreSQL not reachable ({type(exc).__name__}); set HOTLINE_TEST_PG")
    name = f"hotline_trackers_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    try:
        yield str(sa.engine.make_url(admin_url).set(database=name))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def stored_rows(store: ExpiringSQLTrackerStore) -> list[str]:
    with store.engine.connect() as conn:
        return [row[0] for row in conn.execute(sa.text("select data from events"))]


async def test_sql_keeps_and_publishes_no_clear_number_and_purges_idle_conversations(tracker_url):
    broker = Recorder()
    store = ExpiringSQLTrackerStore(DOMAIN, host=tracker_url, event_broker=broker, retention_minutes="120")
    now = time.time()
    await store.save(conversation("idle", at=now))  # the first save purges: nothing is old yet
    await store.save(conversation("active", at=now))
    later = now + 3 * 3600  # three hours on, "active" speaks again
    active = await store.retrieve("active")
    active.update(UserUttered("还在吗", intent={"name": "greet", "confidence": 1.0}, timestamp=later))
    await store.save(active)
    assert_no_clear_number(json.dumps(broker.published, ensure_ascii=False))

    rows = stored_rows(store)
    assert len(rows) == 2 * 7 + 1
    for row in rows:
        assert_no_clear_number(row)

    # The idle conversation goes; the active one keeps all its events, old ones included.
    assert store.purge(now=later + 60) == 7
    assert await store.retrieve("idle") is None
    kept = await store.retrieve_full_tracker("active")
    assert len(kept.events) == 8 and kept.latest_message.text == "还在吗"
    assert store.purge(now=later + 60) == 0
    store.engine.dispose()


async def test_the_sql_store_waits_for_its_database_without_holding_up_the_server(tmp_path):
    """Production's tracker store reads and writes in a worker thread: while its database is busy
    (here another writer holds SQLite's lock), the Rasa server's event loop goes on with other
    conversations; the conversation is saved and read back whole once the database is free."""
    import asyncio
    import sqlite3

    path = tmp_path / "trackers.db"
    store = ExpiringSQLTrackerStore(DOMAIN, host=f"sqlite:///{path}", event_broker=Recorder(), retention_minutes="120")
    await store.save(conversation("first"))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    saving = asyncio.ensure_future(store.save(conversation("second")))
    began = time.monotonic()
    await asyncio.sleep(0.2)
    assert time.monotonic() - began < 0.5 and not saving.done()  # the loop ran; the save waits
    blocker.execute("ROLLBACK")
    blocker.close()
    await asyncio.wait_for(saving, 10)
    assert len((await store.retrieve("second")).events) == 7
    store.engine.dispose()


@pytest.fixture
def redis_url():
    """A Redis database number of the machine's Redis (production's trackers)."""
    import redis

    base = os.environ.get("HOTLINE_TEST_REDIS", "redis://127.0.0.1:6379").rstrip("/")
    url = f"{base}/{1 + uuid.uuid4().int % 15}"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis not reachable ({exc})")
        pytest.skip(f"Redis not reachable ({exc}); set HOTLINE_TEST_REDIS")
    return url


async def test_redis_keeps_one_masked_expiring_key_a_conversation_and_the_last_session_only(redis_url):
    import redis

    red = redis.Redis.from_url(redis_url)
    broker = Recorder()
    store = ExpiringRedisTrackerStore(DOMAIN, host=redis_url, event_broker=broker, retention_minutes="120")
    sender = f"resident-{uuid.uuid4().hex[:8]}"
    key = f"tracker:{sender}"
    try:
        tracker = conversation(sender)
        await store.save(tracker)
        assert tracker.latest_message.text == TYPED  # the turn being answered: the resident's own words
        stored = red.get(key).decode()
        assert_no_clear_number(stored)
        assert_no_clear_number(json.dumps(broker.published, ensure_ascii=False))
        assert 119 * 60 < red.ttl(key) <= 120 * 60  # forgotten after the retention
        back = await store.retrieve(sender)
        assert back.latest_message.text.startswith("我的电话139****5678")
        assert [e.type_name for e in back.events] == [e.type_name for e in tracker.events]
        assert sender in await store.keys()

        # A new session: retrieve gives it alone, and saving it forgets the ended one (as in memory).
        later = time.time() + 7200
        back.update(ActionExecuted("action_session_start", timestamp=later))
        back.update(SessionStarted(timestamp=later))
        back.update(UserUttered("还在吗", intent={"name": "greet", "confidence": 1.0}, timestamp=later))
        await store.save(back)
        last = await store.retrieve(sender)
        assert last.latest_message.text == "还在吗" and len(last.events) == 3
        assert len((await store.retrieve_full_tracker(sender)).events) == len(tracker.events) + 3
        await store.save(last)
        assert len((await store.retrieve_full_tracker(sender)).events) == 3
        assert await store.retrieve("nobody-" + sender) is None
    finally:
        red.delete(key)


def test_a_redis_tracker_store_needs_a_redis_url():
    with pytest.raises(ValueError, match="redis://"):
        ExpiringRedisTrackerStore(DOMAIN, host="postgresql://h/db")
