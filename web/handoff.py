"""The handoff queue's periodic task: waiting entries nobody took within ``Settings.handoff_wait``,
or still waiting when the centre's hours end, expire, and their residents are told so honestly
(the store's statements: 12320 by phone; the crisis numbers too when the conversation is a crisis).

On WeChat the notice goes through the customer-service API (the gateway's ``deliver``, with its retry
rules); on REST there is nothing to push to: the notice is kept in the entry's transcript (stored).
Several app processes may run it at once: each entry expires once (a conditional UPDATE), and only
the process that expired it tells the resident.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Awaitable, Callable

from sqlalchemy import Engine

from database.work import in_thread
from hotline import handoff
from hotline.models import Handoff
from hotline.privacy import describe_error
from hotline.settings import Settings
from knowledge import queries

log = logging.getLogger(__name__)

EVERY = 2.0  # seconds between two looks at the queue
# deliver(entry id, reach, text) -> handoff.SENT | handoff.FAILED: the WeChat gateway's, when configured
Deliver = Callable[[int, "str | None", str], Awaitable[str]]


def notice_text(session, entry: Handoff) -> str:
    """What a resident is told when their entry expires: one rule for every channel."""
    topic = "human_handoff_closed" if entry.closed_by == handoff.OUTSIDE_HOURS else "human_handoff_timeout"
    text = queries.statement(session, topic).text
    if entry.crisis:  # a crisis conversation keeps the crisis numbers in front of the resident
        text += "\n" + queries.statement(session, "crisis_numbers").text
    return text


class HandoffSweep:
    def __init__(self, engine: Engine, settings: Settings, deliver: Callable[[], Deliver | None], *,
                 every: float = EVERY) -> None:
        self._engine = engine
        self._wait = timedelta(seconds=settings.handoff_wait)
        self._hours = settings.handoff_hours
        self._deliver = deliver  # looked up each round: the WeChat gateway is made after this task
        self._every = every
        self._task: asyncio.Task | None = None
        self.expired = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="handoff sweep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as exc:  # noqa: BLE001 - the store out of reach: next time
                log.warning("handoff sweep failed: %s", describe_error(exc))
            await asyncio.sleep(self._every)

    async def sweep(self) -> int:
        """Expire what is due and tell each resident; how many expired."""
        def work(session) -> list[tuple[Handoff, str]]:
            return [(entry, notice_text(session, entry))
                    for entry in handoff.expire_due(session, self._wait, self._hours)]

        due = await in_thread(self._engine, work)
        for entry, text in due:
            deliver = self._deliver() if entry.channel == handoff.WECHAT else None
            if entry.channel == handoff.WECHAT and deliver is not None:
                delivery = await deliver(entry.id, entry.reach, text)
            else:
                delivery = handoff.STORED if entry.channel == handoff.REST else handoff.FAILED
            log.info("handoff %d (%s%s): %s, resident told: %s", entry.id, entry.channel,
                     ", crisis" if entry.crisis else "", entry.closed_by, delivery)

            def record(session, entry=entry, text=text, delivery=delivery) -> None:
                handoff.notice(session, entry.id, text, delivery)
                handoff.forget_reach(session, [entry.id])

            await in_thread(self._engine, record)
        self.expired += len(due)
        return len(due)
