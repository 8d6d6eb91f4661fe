"""The call-log consumer: Rasa's event broker writes every event into the store's ``events`` table;
this task turns them into the call log (``hotline.calllog.consume_once``) every half second.

It runs in the app's event loop as an asyncio task; the work itself (SQLAlchemy, synchronous) runs in
a worker thread. An error is logged and the next round tries again; stopping lets the round in
progress finish (its transaction commits or rolls back) before the engine is disposed.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any, Callable, Mapping

from sqlalchemy import Engine

from hotline.privacy import describe_error
from hotline.settings import Settings

log = logging.getLogger(__name__)

INTERVAL = 0.5  # seconds between two rounds
STOP_TIMEOUT = 10.0  # how long stopping waits for the round in progress


def consume_once(engine: Engine, settings: Settings) -> Counter:
    """One round: every event not yet consumed, into the call log; the turns it wrote, by (channel,
    category) (for /metrics)."""
    # Imported here, not at the top: the app (and /healthz) keeps running when the call log cannot
    # be loaded, and the error is reported by the consumer's loop like any other.
    from hotline import calllog

    written: Counter = Counter()
    calllog.consume_once(engine, settings.secret_key, tally=written)
    return written


class CallLogTask:
    def __init__(self, engine: Engine, settings: Settings, *, interval: float = INTERVAL,
                 consume: Callable[[Engine, Settings], Any] = consume_once,
                 on_turns: Callable[[Mapping[tuple[str, str | None], int]], None] | None = None) -> None:
        self._engine = engine
        self._settings = settings
        self._interval = interval
        self._consume = consume
        self._on_turns = on_turns  # the turns of each good round (web/metrics.py counts them)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0
        self.failures = 0  # rounds that failed in a row (0 after a good round)
        self.last_error: str | None = None
        self.last_success: float | None = None  # time.time() of the last good round

    @property
    def state(self) -> dict[str, Any]:
        """For /healthz: ok, failing (with the error) or starting (no round finished yet)."""
        if self.failures:
            return {"state": "failing", "error": self.last_error, "failed_rounds": self.failures}
        return {"state": "ok" if self.last_success else "starting", "rounds": self.rounds}

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="call-log consumer")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning("call-log consumer: round still running after %.0f s, cancelled", STOP_TIMEOUT)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        log.info("call-log consumer started (every %.1f s)", self._interval)
        while not self._stopping.is_set():
            await self._round()
            try:
                await asyncio.wait_for(self._stopping.wait(), self._interval)
            except asyncio.TimeoutError:
                pass
        log.info("call-log consumer stopped after %d rounds", self.rounds)

    async def _round(self) -> None:
        try:
            result = await asyncio.to_thread(self._consume, self._engine, self._settings)
        except Exception as exc:  # noqa: BLE001 - logged, and the next round tries again
            # By type and place, not text: a store error's text may quote a message it was writing.
            error = describe_error(exc)
            if error != self.last_error or not self.failures:
                # Once per distinct error, not twice a second.
                log.error("call-log consumer: round failed: %s (retrying every %.1f s)", error, self._interval)
            self.failures += 1
            self.last_error = error
            return
        finally:
            self.rounds += 1
        if self.failures:
            log.info("call-log consumer: working again after %d failed rounds", self.failures)
        self.failures = 0
        self.last_success = time.time()
        if isinstance(result, Mapping) and result:
            log.debug("call-log consumer: %d turns", sum(result.values()))
            if self._on_turns is not None:
                self._on_turns(result)
