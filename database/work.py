"""A unit of work off the event loop: the one way async code (the app, the action server) uses the
store, whose SQLAlchemy engine is synchronous.

``await in_thread(sessions, work)`` runs ``work(session)`` in a worker thread, in one session and one
transaction (``with sessions.begin() as s``): committed when it returns, rolled back when it raises.
Objects come back loaded and detached (``expire_on_commit=False`` on the factory): read what a
reply needs inside ``work``, or rely on attributes loaded there.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """The process's one session factory for an engine."""
    return sessionmaker(engine, expire_on_commit=False)


async def in_thread(sessions: sessionmaker[Session] | Engine, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``work(session, *args, **kwargs)`` in one transaction, in a worker thread."""
    factory = sessions if isinstance(sessions, sessionmaker) else session_factory(sessions)

    def run() -> T:
        with factory.begin() as session:
            return work(session, *args, **kwargs)

    return await asyncio.to_thread(run)
