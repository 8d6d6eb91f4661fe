"""Rasa's events from RabbitMQ into the store, when Rasa's event broker is RabbitMQ (HOTLINE_RABBITMQ_URL).

Rasa's pika broker publishes every tracker event (JSON, with its ``sender_id``) to a fanout exchange
bound to a durable queue, both named HOTLINE_RABBITMQ_QUEUE (launcher/endpoints.py). This consumer reads
that queue and writes each event into the store's ``events`` table, the very rows Rasa's SQL broker
writes in the embedded configuration; the call-log consumer (web/calllog.py) turns them into the
call log as before. A message is acknowledged only after the transaction holding its row has
committed: a crash, a store that is down or a lost connection leaves it in the queue, and RabbitMQ
delivers it again (the call log counts a user message once, by its ``message_id``).

When RabbitMQ goes away the consumer starts over once it is back: a new connection, channel and
consumer (aio-pika's robust connection said it was back while its restored consumer was gone:
tests/prod found the queue full and no consumer after a restart). While RabbitMQ is down, Rasa keeps
the events it could not publish and publishes them when it is back (bot/server/brokers.py), so
nothing said meanwhile is lost.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from sqlalchemy import Engine, insert

from database.work import in_thread
from hotline.privacy import describe_error
from hotline.models import events

log = logging.getLogger(__name__)

BATCH = 200  # messages in flight (prefetch), and at most in one transaction
FLUSH_INTERVAL = 0.2  # seconds between two writes of what has arrived
# Once an event has arrived, what else arrives this long after it goes into the same transaction and
# the same acknowledgement: a turn is several events (user, actions, bot, slots), and one transaction
# and one acknowledgement each was most of the app's CPU in the production shape (session 16).
GATHER = 0.05
RETRY = 2.0  # seconds between two attempts while the store or RabbitMQ does not answer


class EventBrokerConsumer:
    def __init__(self, engine: Engine, url: str, queue: str, *, batch: int = BATCH) -> None:
        self._engine = engine
        self._url = url
        self._queue_name = queue
        self._batch = batch
        self._pending: list[AbstractIncomingMessage] = []
        self._arrived = asyncio.Event()
        self._stopping = asyncio.Event()
        self._connection: AbstractRobustConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._restart = False  # RabbitMQ is back: start over on a new connection (module docstring)
        self._lost_at: float | None = None  # when the connection went, while it is gone
        self.received = 0  # events written to the store and acknowledged
        self.last_error: str | None = None
        self.connected = False

    @property
    def state(self) -> dict[str, Any]:
        """For /healthz: ok (connected), or failing with the last error; pending = not yet stored."""
        connected = self._connection is not None and not self._connection.is_closed and self.connected
        body: dict[str, Any] = {"state": "ok" if connected and not self.last_error else "failing",
                                "queue": self._queue_name, "events": self.received,
                                "pending": len(self._pending)}
        if self.last_error:
            body["error"] = self.last_error
        return body

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-broker consumer")

    async def stop(self) -> None:
        self._stopping.set()
        self._arrived.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 10)
            except asyncio.TimeoutError:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
        if self._connection is not None:
            # Unacknowledged messages go back to the queue for the next consumer.
            await self._connection.close()

    async def _run(self) -> None:
        await self._reconnect()  # the first connection, as every later one
        while not self._stopping.is_set():
            if self._restart or (self._lost_at is not None and time.monotonic() - self._lost_at > 3 * RETRY):
                await self._reconnect()
                continue
            try:
                await asyncio.wait_for(self._arrived.wait(), FLUSH_INTERVAL)
            except asyncio.TimeoutError:
                pass
            if self._pending and len(self._pending) < self._batch:
                await self._sleep(GATHER)
            self._arrived.clear()
            await self._flush()
        await self._flush()  # what arrived before the stop, if the store takes it

    async def _reconnect(self) -> None:
        """A new connection, channel and consumer, tried until RabbitMQ answers; the old connection, if
        any, closed (its deliveries come again)."""
        old, self._connection = self._connection, None
        self._restart = False
        self._pending.clear()
        if old is not None:
            with contextlib.suppress(Exception):
                await old.close()
        while not self._stopping.is_set() and self._connection is None:
            try:
                await self._connect()
            except Exception as exc:  # noqa: BLE001 - RabbitMQ not there yet: try again
                self._failed("cannot connect to RabbitMQ", exc)
                await self._sleep(RETRY)

    async def _connect(self) -> None:
        connection = await aio_pika.connect_robust(self._url, reconnect_interval=RETRY)
        connection.close_callbacks.add(lambda *_, c=connection: self._on_close(c))
        connection.reconnect_callbacks.add(lambda *_, c=connection: self._on_reconnect(c))
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=self._batch)
        # Declared as Rasa's broker declares them (a plain fanout exchange, a durable queue), so
        # whichever side starts first, events published before the other one starts are kept.
        exchange = await channel.declare_exchange(self._queue_name, aio_pika.ExchangeType.FANOUT)
        queue = await channel.declare_queue(self._queue_name, durable=True)
        await queue.bind(exchange, "")
        await queue.consume(self._on_message)
        self._connection = connection
        self._lost_at = None
        self.connected = True
        self.last_error = None
        log.info("event-broker consumer: reading RabbitMQ queue %s", self._queue_name)

    def _on_close(self, connection: Any) -> None:
        if connection is self._connection and not self._stopping.is_set():
            self._lost_at = time.monotonic()
            self.connected = False
            # Their delivery tags die with the channel: RabbitMQ delivers them again.
            self._pending.clear()
            self.last_error = "RabbitMQ connection lost: reconnecting"
            log.warning("event-broker consumer: RabbitMQ connection lost, reconnecting every %.0f s", RETRY)

    def _on_reconnect(self, connection: Any) -> None:
        if connection is self._connection:
            self._restart = True  # _run starts over on a new connection
            log.info("event-broker consumer: RabbitMQ connection back")

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self._pending.append(message)
        self._arrived.set()

    async def _flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending[:self._batch], self._pending[self._batch:]
        rows = [_row(m.body) for m in batch]
        try:
            await in_thread(self._engine, self._insert, [r for r in rows if r is not None])
        except Exception as exc:  # noqa: BLE001 - the store is down: keep them, try again
            self._pending[:0] = batch
            self._failed("cannot write events to the store", exc)
            await self._sleep(RETRY)
            return
        # One acknowledgement for the batch: its last delivery with ``multiple`` acknowledges every
        # earlier one of the channel, and they are all in this batch or acknowledged already (the
        # batch is the oldest pending deliveries, in delivery order; a failed write puts them back first).
        try:
            await batch[-1].ack(multiple=True)
        except Exception as exc:  # noqa: BLE001 - the channel went away: they will be redelivered
            self._failed("cannot acknowledge (it will be delivered again)", exc)
            return
        dropped = rows.count(None)
        if dropped:
            log.warning("event-broker consumer: %d messages that are not Rasa events were dropped", dropped)
        self.received += len(rows) - dropped
        if self.connected:
            self.last_error = None  # stored and acknowledged: working again

    @staticmethod
    def _insert(session, rows: list[dict[str, Any]]) -> None:
        if rows:
            session.execute(insert(events), rows)

    def _failed(self, what: str, exc: Exception) -> None:
        error = f"{what}: {describe_error(exc)}"  # by type: a store error's text may quote an event
        if error != self.last_error:
            log.warning("event-broker consumer: %s (retrying every %.0f s)", error, RETRY)
        self.last_error = error

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except asyncio.TimeoutError:
            pass


def _row(body: bytes) -> dict[str, Any] | None:
    """The ``events`` row Rasa's SQL broker would have written for this event; None if not an event."""
    try:
        event = json.loads(body)
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    sender = event.get("sender_id")
    return {"sender_id": str(sender)[:255] if sender is not None else None,
            "data": body.decode("utf-8", "replace")}
