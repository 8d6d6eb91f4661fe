"""Every model module, imported for their side effect on ``Base.metadata``: the whole schema.

Alembic's env and the tests' ``create_all`` import this, never the model modules one by one.
"""
from __future__ import annotations

import hotline.models  # noqa: F401  tickets, call log, agents
import knowledge.models  # noqa: F401  bulletins and facts
import web.wechat.models  # noqa: F401  WeChat dedup and choices
from database.base import Base

metadata = Base.metadata

__all__ = ["Base", "metadata"]
