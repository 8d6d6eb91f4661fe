"""The application factory and its entry point (``hotline-app``, ``python -m web``).

Everything with a lifetime is opened and closed by a cleanup context, in this order (and closed in
the reverse order): the store's engine, the HTTP client session, the Rasa servers' placement (when
they share no conversations), the call-log consumer, the WeChat gateway, the handoff queue's sweep. The metrics registry (web/metrics.py) is the app's own, made here.
"""
from __future__ import annotations

import asyncio
import logging
import sys
from typing import AsyncIterator

import aiohttp
from aiohttp import web

from database.engine import make_engine
from database.migrate import StoreNotMigrated, require_current
from database.work import in_thread
from hotline import contacts, privacy
from hotline.settings import Settings

from web.broker import EventBrokerConsumer
from web.console import add_console
from web.calllog import CallLogTask
from web.handoff import HandoffSweep
from web.keys import CALL_LOG, ENGINE, EVENT_BROKER, HANDOFF, HTTP, METRICS, RASA_PLACEMENT, SETTINGS
from web.metrics import Metrics, timed
from web.rasa import Placement, probe
from web.routes import routes
from web.wechat.accesslog import RedactingAccessLogger
from web.wechat.routes import WECHAT, add_wechat

log = logging.getLogger(__name__)

# Seconds between two deletions of expired complaint-form phones (hotline/contacts.py).
CONTACTS_PURGE_EVERY = 60.0
# Seconds between two looks at each Rasa server when they share no conversations (web/rasa.py
# Placement): a restart takes longer than this, so none goes unnoticed.
RASA_PROBE_EVERY = 2.0


def create_app(settings: Settings) -> web.Application:
    # Per app, not per module: each process (and each app a test makes) counts on its own.
    metrics = Metrics()
    app = web.Application(middlewares=[timed(metrics)])
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app.add_routes(routes)
    add_console(app)  # /console: the agents' console (web/console)
    app.cleanup_ctx.append(store_engine)
    app.cleanup_ctx.append(http_client)
    if not settings.conversations_shared:
        app.cleanup_ctx.append(rasa_placement)
    app.cleanup_ctx.append(call_log_consumer)
    add_wechat(app)  # /wechat: the official account's gateway (web/wechat); uses the engine and HTTP client
    app.cleanup_ctx.append(handoff_sweep)  # after the gateway: it tells WeChat residents through it
    app.cleanup_ctx.append(expired_contacts)
    if settings.rabbitmq_url:
        app.cleanup_ctx.append(event_broker_consumer)
    return app


async def store_engine(app: web.Application) -> AsyncIterator[None]:
    # The schema is the migrations' (`hotline db upgrade` runs before the app): the app never creates
    # tables, and refuses to start on a store whose schema is behind rather than fail request by request.
    engine = make_engine(app[SETTINGS].database_url)
    try:
        require_current(engine)
    except Exception:
        engine.dispose()
        raise
    app[ENGINE] = engine
    # The centre's own numbers (025-83626620 …) stay in clear wherever this process masks text.
    privacy.publish(await in_thread(engine, privacy.load_published))
    yield
    engine.dispose()


async def http_client(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        app[HTTP] = session
        yield


async def rasa_placement(app: web.Application) -> AsyncIterator[None]:
    # The Rasa servers keep their conversations in memory (the default shape): the app remembers
    # where each was answered and tells a resident whose conversation moved (web/rasa.py).
    placement = Placement()
    app[RASA_PLACEMENT] = placement
    urls = app[SETTINGS].rasa_instances

    async def run() -> None:
        while True:
            await probe(app[HTTP], urls, placement)
            await asyncio.sleep(RASA_PROBE_EVERY)

    task = asyncio.create_task(run(), name="rasa probe")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def call_log_consumer(app: web.Application) -> AsyncIterator[None]:
    consumer = CallLogTask(app[ENGINE], app[SETTINGS], on_turns=app[METRICS].count_turns)
    app[CALL_LOG] = consumer
    app[METRICS].watch_call_log(consumer)
    consumer.start()
    yield
    await consumer.stop()


async def handoff_sweep(app: web.Application) -> AsyncIterator[None]:
    # Expires the queue's waiting entries (web/handoff.py); WeChat residents are told through the
    # gateway when it is configured.
    def deliver():
        channel = app.get(WECHAT)
        return channel.gateway.deliver if channel is not None else None

    sweep = HandoffSweep(app[ENGINE], app[SETTINGS], deliver)
    app[HANDOFF] = sweep
    sweep.start()
    yield
    await sweep.stop()


async def expired_contacts(app: web.Application) -> AsyncIterator[None]:
    # A phone a complaint form kept and nobody redeemed (the form broken off by a crisis, the resident
    # gone) is deleted when it expires, whether or not another complaint comes (docs/privacy.md).
    async def run() -> None:
        while True:
            try:
                gone = await in_thread(app[ENGINE], contacts.purge)
                if gone:
                    log.info("deleted %d expired complaint-form phones", gone)
            except Exception as exc:  # noqa: BLE001 - the store out of reach: next time
                log.warning("deleting expired complaint-form phones failed: %s", privacy.describe_error(exc))
            await asyncio.sleep(CONTACTS_PURGE_EVERY)

    task = asyncio.create_task(run(), name="expired contacts")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def event_broker_consumer(app: web.Application) -> AsyncIterator[None]:
    # Rasa's events from RabbitMQ into the store's events table (web/broker.py); the call-log
    # consumer above takes them from there. Stopped first: its last rows are still consumed.
    settings = app[SETTINGS]
    consumer = EventBrokerConsumer(app[ENGINE], settings.rabbitmq_url, settings.rabbitmq_queue)
    app[EVENT_BROKER] = consumer
    consumer.start()
    yield
    await consumer.stop()


def main() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)-7s %(name)s - %(message)s")
    settings = Settings.from_env()
    log.info("store %s, Rasa server %s", _safe_url(settings.database_url), settings.rasa_url)
    try:
        # shutdown_timeout: requests in flight get 5 s (a /wechat reply is due within WeChat's 5 s),
        # then the cleanup contexts run (the WeChat drain, settings.wechat_drain_timeout): together
        # inside docker-compose.yml's stop_grace_period.
        web.run_app(create_app(settings), host=settings.app_host, port=settings.app_port, shutdown_timeout=5.0,
                    print=lambda line: log.info("%s", line.strip()),
                    access_log_class=RedactingAccessLogger)  # no OpenID from /wechat's query string
    except StoreNotMigrated as exc:  # one line, not a traceback: the fix is a command
        log.error("%s", exc)
        sys.exit(1)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
