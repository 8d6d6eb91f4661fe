"""``/wechat``: the URL the official account's server configuration points at.

    GET  /wechat?signature&timestamp&nonce&echostr     URL verification: echostr back
    POST /wechat?signature&timestamp&nonce[&openid][&encrypt_type=aes&msg_signature]
         a message or event: a passive reply (XML, encrypted in safe mode) or "success"

Refusals say why in plain text: 403 (signature, timestamp, plain message in safe mode, a nonce
replayed with another body in plain mode, a message for another account), 413 (body
over protocol.MAX_BODY, refused before it is read), 400 (empty, not UTF-8, not well-formed, DTDs or
entities, not a WeChat message); 503 when WECHAT_TOKEN is not set. A failure after the message was
read still answers the resident (the crisis reply when the detector flags it, else
messages.UNAVAILABLE: Gateway.unavailable_reply), never with a 500.

``add_wechat(app)`` adds the routes and the cleanup context that makes the gateway (after the store's
engine and the HTTP client, whose keys it uses).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import AsyncIterator

from aiohttp import web

from web.keys import ENGINE, HTTP, METRICS, RASA_PLACEMENT, SETTINGS
from web.wechat.api import CustomerService
from web.wechat.gateway import Gateway, Transfer
from web.wechat.protocol import MAX_BODY, Callback, Protocol, ProtocolError, TooLarge

log = logging.getLogger(__name__)

routes = web.RouteTableDef()
NOT_CONFIGURED = "WeChat gateway not configured: set WECHAT_TOKEN (and WECHAT_AES_KEY for safe mode)"


@dataclass(frozen=True)
class WechatChannel:
    protocol: Protocol
    gateway: Gateway


# Here rather than in web/keys.py: keys.py would have to import the gateway, which imports keys.py.
WECHAT = web.AppKey("wechat", WechatChannel)


def add_wechat(app: web.Application) -> None:
    app.add_routes(routes)
    app.cleanup_ctx.append(wechat_channel)


async def wechat_channel(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if not settings.wechat_token:
        log.warning("WECHAT_TOKEN is not set: /wechat answers 503")
        yield
        return
    # A malformed AES key or safe mode without an AppID stops the app here, with the reason.
    protocol = Protocol(settings.wechat_token, appid=settings.wechat_appid, aes_key=settings.wechat_aes_key,
                        account=settings.wechat_account)
    if not settings.wechat_account:
        log.warning("WECHAT_ACCOUNT is not set: the ToUserName of messages is not checked")
    api = None
    if settings.wechat_appid and settings.wechat_secret:
        api = CustomerService(app[HTTP], settings.wechat_api_url, settings.wechat_appid, settings.wechat_secret,
                              metrics=app[METRICS])
    else:
        log.warning("WECHAT_APPID or WECHAT_SECRET is not set: answers slower than the passive reply's "
                    "deadline cannot be delivered")
    gateway = Gateway(settings, app[ENGINE], app[HTTP], api, metrics=app[METRICS], placement=app.get(RASA_PLACEMENT))
    app[WECHAT] = WechatChannel(protocol, gateway)
    gateway.start()  # heartbeat of its claims, sweep of those whose gateway died
    log.info("WeChat gateway on /wechat (%s mode), instance %s", "safe" if protocol.safe else "plain", gateway.owner)
    yield
    await gateway.close()  # drains within settings.wechat_drain_timeout


@routes.get("/wechat")
async def verify(request: web.Request) -> web.Response:
    channel = request.app.get(WECHAT)
    if channel is None:
        return web.Response(status=503, text=NOT_CONFIGURED)
    try:
        echostr = channel.protocol.echo(Callback.from_query(request.query))
    except ProtocolError as exc:
        return _refuse(exc)
    return web.Response(text=echostr)


@routes.post("/wechat")
async def callback(request: web.Request) -> web.Response:
    channel = request.app.get(WECHAT)
    if channel is None:
        return web.Response(status=503, text=NOT_CONFIGURED)
    started = channel.gateway.now()
    query = Callback.from_query(request.query)
    try:
        channel.protocol.check(query)
        message = channel.protocol.parse(query, await _body(request, MAX_BODY))
    except ProtocolError as exc:
        return _refuse(exc)
    try:
        text = await channel.gateway.handle(message, started)
    except Exception:  # noqa: BLE001 - the resident still gets an answer (and WeChat no 500)
        log.exception("wechat: a message could not be handled")
        text = channel.gateway.unavailable_reply(message)
    if text is None:
        return web.Response(text="success")
    if isinstance(text, Transfer):
        return web.Response(text=channel.protocol.transfer(query, message, text.account),
                            content_type="application/xml")
    return web.Response(text=channel.protocol.reply(query, message, text), content_type="application/xml")


async def _body(request: web.Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to be over ``limit`` bytes (Content-Length, or
    while it arrives): a large body is never held in memory."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"body over {limit} bytes")
    body = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"body over {limit} bytes")
    return bytes(body)


def _refuse(exc: ProtocolError) -> web.Response:
    log.info("wechat: refused (%d): %s", exc.status, exc)
    return web.Response(status=exc.status, text=str(exc))
