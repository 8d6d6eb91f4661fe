"""The one declarative base of every table in our store (knowledge, hotline records, the WeChat gateway).

Importing ``database.models`` loads every model module, so that ``Base.metadata`` is complete (for
Alembic and for tests that create the schema).
"""
from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
