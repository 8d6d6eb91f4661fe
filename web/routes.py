"""Every route of the app. Handlers find what they need under the keys of ``keys.py``."""
from __future__ import annotations

import asyncio
import hmac

import aiohttp
from aiohttp import web
from sqlalchemy import Engine, func, select

from database.work import in_thread
from hotline.privacy import describe_error
from knowledge.models import Bulletin

from web.keys import CALL_LOG, ENGINE, EVENT_BROKER, HTTP, METRICS, SETTINGS
from web.metrics import CONTENT_TYPE

routes = web.RouteTableDef()

RASA_PROBE_TIMEOUT = 2.0  # seconds


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """{"status": "ok", "store": <bulletins>, "rasa": <reachable>, "call_log": {...}}.

    200 when the store answers, 503 when it does not. The Rasa server being down is reported, not
    a failure of this app (it is started and restarted on its own).
    """
    app = request.app
    store_count, rasa = await asyncio.gather(
        _count_bulletins(app[ENGINE]), _reachable(app[HTTP], app[SETTINGS].rasa_url),
    )
    body = {"rasa": rasa, "call_log": app[CALL_LOG].state}
    if EVENT_BROKER in app:  # RabbitMQ configured: is its queue being read into the store?
        body["event_broker"] = app[EVENT_BROKER].state
    if isinstance(store_count, Exception):
        # The error's type only: /healthz answers anybody, and an error's text may quote stored data.
        body = {"status": "error", "store": describe_error(store_count), **body}
        return web.json_response(body, status=503)
    return web.json_response({"status": "ok", "store": store_count, **body})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """This process's metrics in Prometheus' text format (web/metrics.py, docs/metrics.md).

    For the centre's Prometheus only: the reverse proxy does not pass it on from the internet, and with
    HOTLINE_METRICS_TOKEN set it wants that token as a bearer (401 without it).
    """
    app = request.app
    token = app[SETTINGS].metrics_token
    if token and not hmac.compare_digest(request.headers.get("Authorization", "").encode(),
                                         f"Bearer {token}".encode()):
        return web.Response(status=401, text="a bearer token is needed", headers={"WWW-Authenticate": "Bearer"})
    registry = app[METRICS]
    await registry.read_store(app[ENGINE])
    # In a thread: the process collector reads /proc, and nothing blocking runs on the event loop.
    body = await asyncio.to_thread(registry.exposition)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def _count_bulletins(engine: Engine) -> int | Exception:
    try:
        return await in_thread(engine, lambda s: s.scalar(select(func.count()).select_from(Bulletin)))
    except Exception as exc:  # noqa: BLE001 - any failure means: the store does not answer
        return exc


async def _reachable(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(url + "/", timeout=aiohttp.ClientTimeout(total=RASA_PROBE_TIMEOUT)) as resp:
            return resp.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False
