"""The action server's access to the knowledge store.

The engine is made on first use, from settings read then (never at import), and lives as long as
the action server process; each action run uses one session of its own.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from knowledge.db import make_engine
from knowledge.settings import Settings


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
