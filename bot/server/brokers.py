"""Rasa's SQL event broker, one transaction per turn (endpoints.yml ``type: bot.server.brokers.TurnSQLEventBroker``).

Rasa publishes a turn's events one by one, synchronously, when it saves the tracker
(``TrackerStore._stream_new_events``); its ``SQLEventBroker`` opens a session and commits for each,
about a quarter of the Rasa server's time per message under load (``make loadtest``). This broker
writes the same rows to the same ``events`` table, in the same order, but collects the events a
turn publishes and writes them in one transaction (one multi-row INSERT), started on the event
loop's next pass right after Rasa has saved the tracker. The write runs in the broker's one writer
thread, never on the event loop: a commit waits for the disk (and SQLite's lock, up to its busy
timeout), and the server goes on answering meanwhile. One write at a time, so the rows keep their order.

When the write fails (SQLite locked beyond its busy timeout, PostgreSQL down), the events stay
queued, in order, ahead of newer ones, and the write is retried every ``RETRY_S`` seconds; the log
says so without the events' content (which holds what residents wrote). Beyond ``MAX_PENDING``
queued events a publish fails, as the stock broker's does, and the turn gets an error rather than
events being dropped. ``close()`` (Rasa's shutdown) writes whatever is queued.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Text

from rasa.core.brokers.pika import PikaEventBroker
from rasa.core.brokers.sql import SQLEventBroker

logger = logging.getLogger(__name__)

RETRY_S = 1.0
MAX_PENDING = 50_000


class EventBacklogFull(RuntimeError):
    """The database has been unreachable for so long that the queue of unwritten events is full."""


class TurnSQLEventBroker(SQLEventBroker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # As the store's own engines (database/engine.py): a failed INSERT's error must not quote the
        # events, which hold what residents wrote.
        self.engine.hide_parameters = True
        self._pending: List[Dict[Text, Any]] = []  # oldest first; removed once written
        self._scheduled: Optional[asyncio.Handle] = None
        self._writing: Optional[asyncio.Future] = None  # the write in progress (its batch: _pending's head)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="event-broker")
        self._failing = False

    def publish(self, event: Dict[Text, Any]) -> None:
        if len(self._pending) >= MAX_PENDING:
            raise EventBacklogFull(f"{len(self._pending)} events not yet written to the event database")
        self._pending.append(event)
        if self._scheduled is not None or self._writing is not None:
            return  # written by the pass already scheduled, or right after the write in progress
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a script): write now, as the stock broker does
            self.flush()
            return
        self._scheduled = loop.call_soon(self._flush_soon)

    def _flush_soon(self) -> None:
        self._scheduled = None
        if self._writing is not None or not self._pending:
            return
        loop = asyncio.get_running_loop()
        count = len(self._pending)
        self._writing = loop.run_in_executor(self._writer, self._write, self._pending[:count])
        self._writing.add_done_callback(lambda done: self._written(count, done))

    def _written(self, count: int, done: asyncio.Future) -> None:
        """Back on the event loop after a write: its events off the queue when it worked; the next
        write at once when more came meanwhile, or in RETRY_S when it failed."""
        self._writing = None
        ok = not done.cancelled() and done.exception() is None and done.result()
        if ok:
            del self._pending[:count]
        if self._pending and self._scheduled is None:
            loop = asyncio.get_running_loop()
            self._scheduled = (loop.call_soon(self._flush_soon) if ok
                               else loop.call_later(RETRY_S, self._flush_soon))

    def _write(self, batch: List[Dict[Text, Any]]) -> bool:
        """The batch in one transaction (one multi-row INSERT); False if the write failed."""
        rows = [{"sender_id": event.get("sender_id"), "data": json.dumps(event)} for event in batch]
        try:
            with self.session_scope() as session:
                session.execute(self.SQLBrokerEvent.__table__.insert(), rows)
                session.commit()
        except Exception as exc:  # noqa: BLE001 - any database error: keep the events, try again
            if not self._failing:
                logger.error("Could not write %d events to the event database (%s); retrying every %.0f s.",
                             len(batch), type(exc).__name__, RETRY_S)
            self._failing = True
            return False
        if self._failing:
            logger.warning("Event database reachable again: queued events written.")
            self._failing = False
        return True

    def flush(self) -> bool:
        """Write every queued event now, in this thread (no event loop); False (kept) if it failed."""
        if not self._pending:
            return True
        count = len(self._pending)
        if not self._write(self._pending[:count]):
            return False
        del self._pending[:count]
        return True

    async def close(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        if self._writing is not None:
            await asyncio.wait({self._writing})  # its callback takes the written events off the queue
            await asyncio.sleep(0)
        if self._pending:
            loop = asyncio.get_running_loop()
            count = len(self._pending)
            if await loop.run_in_executor(self._writer, self._write, self._pending[:count]):
                del self._pending[:count]
            else:
                logger.error("Shutting down with %d events not written to the event database.", len(self._pending))
        self._writer.shutdown(wait=True)
        await super().close()


# --- the production shape's RabbitMQ broker ------------------------------------------------------------

WATCH_S = 3.0


class ReconnectingPikaEventBroker(PikaEventBroker):
    """Rasa's pika broker (endpoints.prod.yml ``type: bot.server.brokers.ReconnectingPikaEventBroker``)
    with its own watch over what it could not publish.

    Rasa keeps the events it could not publish (RabbitMQ down) and publishes them from aio-pika's
    reconnect callback. That callback does not always come: a restart that closes the connection while
    a channel operation is in flight can leave the robust connection closed for good (tests/prod: after
    a RabbitMQ restart no kept event ever arrived, and nothing later either). Every ``WATCH_S`` seconds,
    while events are kept, the broker opens a new connection (channel, exchange, queues, as at start),
    drops the old one and publishes them, in order; a failure keeps them for the next round."""

    _watch: Optional[asyncio.Task] = None

    async def connect(self) -> None:
        await super().connect()
        if self._watch is None:
            self._watch = asyncio.get_running_loop().create_task(self._watching())

    async def _watching(self) -> None:
        while True:
            await asyncio.sleep(WATCH_S)
            if not self._unpublished_events:
                continue
            old = self._connection
            try:
                await super().connect()
            except Exception as exc:  # noqa: BLE001 - RabbitMQ still away: the events stay kept
                logger.warning("RabbitMQ still unreachable (%s); %d events kept.", type(exc).__name__,
                               len(self._unpublished_events))
                continue
            logger.warning("RabbitMQ connection opened again; publishing %d kept events.", len(self._unpublished_events))
            self._publish_unpublished_messages()
            if old is not None and old is not self._connection:
                with contextlib.suppress(Exception):
                    await old.close()

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        await super().close()
