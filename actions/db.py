"""The action server's access to the store.

The engine and its one session factory are made on first use, from settings read then (never at
import), and live as long as the action server process. Actions never touch the database on the
event loop: each unit of work runs in a worker thread (``database.work.in_thread(sessions(), …)``).
"""
from __future__ import annotations

import asyncio
import logging
import time
from functools import lru_cache
from typing import Callable, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from database.engine import make_engine
from database.work import in_thread, session_factory
from hotline.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


@lru_cache(maxsize=1)
def engine() -> Engine:
    return make_engine(settings().database_url, create=False)


@lru_cache(maxsize=1)
def sessions() -> sessionmaker[Session]:
    """The process's one session factory."""
    return session_factory(engine())


# How long a write the resident was promised (a ticket) waits for the store to come back: a database
# restart takes a few seconds. Past that the action fails, Rasa answers nothing and the app asks the
# resident to try again (web/rasa.py TEMPORARY_FAILURE).
WRITE_RETRY_SECONDS = 20.0


async def write(work: Callable[[Session], T], *, retry_for: float = WRITE_RETRY_SECONDS) -> T:
    """``work(session)`` in one transaction, again while the store cannot be reached.

    Only connection failures are retried (the transaction did not commit: nothing is written twice
    by the retry); any other error is raised at once. Waits with asyncio.sleep: the action server's
    other conversations go on meanwhile.
    """
    deadline = time.monotonic() + retry_for
    delay = 0.25
    while True:
        try:
            return await in_thread(sessions(), work)
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("store not reachable (%s): trying again in %.1f s", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
