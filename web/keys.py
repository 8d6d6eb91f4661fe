"""Typed application keys: what the app's cleanup contexts put into ``web.Application``.

Handlers read them as ``request.app[ENGINE]`` (and get the right type back from a type checker).
"""
from __future__ import annotations

import aiohttp
from aiohttp import web
from sqlalchemy import Engine

from hotline.settings import Settings

from web.broker import EventBrokerConsumer
from web.calllog import CallLogTask
from web.handoff import HandoffSweep
from web.metrics import Metrics
from web.rasa import Placement

SETTINGS = web.AppKey("settings", Settings)
# The knowledge store (SQLAlchemy 2, synchronous): use it from handlers through asyncio.to_thread.
ENGINE = web.AppKey("engine", Engine)
# Outgoing HTTP (the Rasa server; later the WeChat API), one connection pool for the app's life.
HTTP = web.AppKey("http", aiohttp.ClientSession)
CALL_LOG = web.AppKey("call_log", CallLogTask)
# Only when Rasa's event broker is RabbitMQ (HOTLINE_RABBITMQ_URL): its queue into the store.
EVENT_BROKER = web.AppKey("event_broker", EventBrokerConsumer)
# The handoff queue's sweep (web/handoff.py): expires waiting entries and tells their residents.
HANDOFF = web.AppKey("handoff", HandoffSweep)
# This process's metrics registry (web/metrics.py, GET /metrics): made by the factory, one per app.
METRICS = web.AppKey("metrics", Metrics)
# Only when the Rasa servers share no conversations (the default shape): where each was last answered.
RASA_PLACEMENT = web.AppKey("rasa_placement", Placement)
