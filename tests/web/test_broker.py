"""The app's event-broker consumer (web/broker.py) on the machine's RabbitMQ: Rasa's events published in
bursts (a turn is several events) reach the store's ``events`` table once each, in order, and RabbitMQ
keeps none of them unacknowledged (one acknowledgement covers a batch). Skipped without RabbitMQ; under
CI (CI=true) it fails instead."""
from __future__ import annotations

import asyncio
import json
import os
import uuid

import aio_pika
import pytest
from sqlalchemy import select

from database.engine import make_engine
from hotline.models import events
from web.broker import EventBrokerConsumer

RABBITMQ_URL = os.environ.get("HOTLINE_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672")


@pytest.fixture
async def rabbitmq():
    try:
        connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    except Exception as exc:  # noqa: BLE001 - no broker here
        if os.environ.get("CI") == "true":
            pytest.fail(f"RabbitMQ not reachable ({type(exc).__name__})")
        pytest.skip(f"RabbitMQ not reachable ({type(exc).__name__}); set HOTLINE_TEST_RABBITMQ")
    queue = f"hotline_broker_test_{uuid.uuid4().hex[:10]}"
    try:
        yield connection, queue
    finally:
        channel = await connection.channel()
        await channel.queue_delete(queue)
        await channel.exchange_delete(queue)
        await connection.close()


async def _eventually(check, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_burst_of_events_is_stored_once_each_in_order_and_all_acknowledged(rabbitmq, tmp_path):
    connection, queue = rabbitmq
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}", create=True)
    consumer = EventBrokerConsumer(engine, RABBITMQ_URL, queue)
    consumer.start()
    try:
        await _eventually(lambda: consumer.connected)
        channel = await connection.channel()
        exchange = await channel.declare_exchange(queue, aio_pika.ExchangeType.FANOUT)
        sent = []
        for turn in range(40):  # 40 turns of three events, published as Rasa does: one after the other
            for kind in ("user", "action", "bot"):
                body = {"event": kind, "sender_id": f"resident-{turn % 7}", "turn": turn}
                sent.append(body)
                await exchange.publish(aio_pika.Message(json.dumps(body).encode()), routing_key="")
        await exchange.publish(aio_pika.Message(b"not an event"), routing_key="")  # dropped, acknowledged
        await _eventually(lambda: consumer.received == len(sent))
    finally:
        await consumer.stop()
    with engine.connect() as conn:
        stored = [json.loads(data) for data in conn.scalars(select(events.c.data).order_by(events.c.id))]
    engine.dispose()
    assert stored == sent
    # Nothing left in the queue, nothing delivered again: every message was acknowledged.
    channel = await connection.channel()
    declared = await channel.declare_queue(queue, durable=True, passive=True)
    assert declared.declaration_result.message_count == 0
