"""The action server's access to the knowledge store.

The engine is made on first use, from settings read then (never at import), and lives as long as
the action server process; each action run uses one session of its own.
"""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import contextmanager
from functools import lru_cache
from typing import Callable, Iterator, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from knowledge.db import make_engine
from knowledge.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


@lru_cache(maxsize=1)
def engine() -> Engine:
    return make_engine(settings().database_url, create=False)


@contextmanager
def session() -> Iterator[Session]:
    with Session(engine()) as s:
        yield s


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
            with session() as s, s.begin():
                return work(s)
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("store not reachable (%s): trying again in %.1f s", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
