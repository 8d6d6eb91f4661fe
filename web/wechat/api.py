"""The customer-service message API of an official account: how an answer that took longer than
WeChat's 5 seconds still reaches the resident (within 48 hours of their message).

    GET  {api}/cgi-bin/token?grant_type=client_credential&appid=APPID&secret=SECRET
         → {"access_token": "…", "expires_in": 7200} | {"errcode": 40013, "errmsg": "…"}
    POST {api}/cgi-bin/message/custom/send?access_token=TOKEN
         {"touser": OPENID, "msgtype": "text", "text": {"content": "…"}} → {"errcode": 0, "errmsg": "ok"}

The access token is cached until shortly before it expires, and fetched anew when WeChat says it is
invalid or expired (errcode 40001, 40014, 42001: another process may have fetched a newer one).
The secret and the token travel in query strings, as WeChat wants them: never log a request URL.

A send that fails for a reason that passes (WeChat busy, -1; the minute's quota, 45011; no answer,
an HTTP error, a timeout) is tried again after ``backoff`` seconds, each wait longer; any other
refusal (a wrong secret, an unfollowed account, the 48 hours gone) at once is final. After a timeout
WeChat may have delivered the message already: a resident may, rarely, read an answer twice, never none.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Callable

import aiohttp

from web.metrics import Metrics

TOKEN_REFRESH_MARGIN = 300  # seconds before expires_in that a token is fetched anew
TOKEN_ERRCODES = {40001, 40014, 42001}  # invalid credential, invalid token, token expired
RETRY_ERRCODES = {-1, 45011}  # system busy; API calls over the minute's limit
BACKOFF = (1.0, 2.0, 4.0, 8.0)  # seconds before the 2nd, 3rd … try of a send (15 s in all)
TIMEOUT = aiohttp.ClientTimeout(total=10)

log = logging.getLogger(__name__)


class WechatApiError(RuntimeError):
    """WeChat's API refused a call, or could not be reached."""

    def __init__(self, message: str, errcode: int | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode

    @property
    def passing(self) -> bool:
        """Worth trying again soon: WeChat busy or not reached, not a refusal."""
        return self.errcode is None or self.errcode in RETRY_ERRCODES


class CustomerService:
    def __init__(self, http: aiohttp.ClientSession, api_url: str, appid: str, secret: str, *,
                 clock: Callable[[], float] = time.monotonic, metrics: Metrics | None = None) -> None:
        self._http = http
        self._api = api_url.rstrip("/")
        self._appid = appid
        self._secret = secret
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()  # one fetch at a time: parallel fetches would invalidate each other
        self.token_fetches = 0
        self.backoff: tuple[float, ...] = BACKOFF
        self._metrics = metrics or Metrics()  # the app's (web/metrics.py): sent, retried, failed

    async def send_text(self, openid: str, text: str) -> None:
        """Send ``text`` to the user, again while the failure is passing (``backoff``); WechatApiError
        when WeChat refuses it, or still fails after the last try."""
        for delay in (*self.backoff, None):
            try:
                await self._send_text(openid, text)
            except WechatApiError as exc:
                if delay is None or not exc.passing:
                    self._metrics.push("failed")
                    raise
                self._metrics.push("retried")
                log.warning("wechat: customer-service API: %s; trying again in %.1f s", exc, delay)
                await asyncio.sleep(delay)
            else:
                self._metrics.push("sent")
                return

    async def _send_text(self, openid: str, text: str) -> None:
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        token = await self.token()
        result = await self._send(token, body)
        if result.get("errcode") in TOKEN_ERRCODES:
            token = await self.token(stale=token)
            result = await self._send(token, body)
        if result.get("errcode", 0) != 0:
            raise WechatApiError(f"message/custom/send: errcode {result.get('errcode')} "
                                 f"{result.get('errmsg', '')}", result.get("errcode"))

    async def token(self, *, stale: str | None = None) -> str:
        """The cached access token; a new one when there is none, it is about to expire, or it is
        ``stale`` (WeChat refused it)."""
        async with self._lock:
            if self._token and self._token != stale and self._clock() < self._expires:
                return self._token
            self._token = None
            result = await self._call("GET", "/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": self._appid, "secret": self._secret})
            token, expires_in = result.get("access_token"), result.get("expires_in")
            if not isinstance(token, str) or not token:
                raise WechatApiError(f"cgi-bin/token: errcode {result.get('errcode')} "
                                     f"{result.get('errmsg', '')}", result.get("errcode"))
            self.token_fetches += 1
            lifetime = expires_in if isinstance(expires_in, (int, float)) else 7200
            self._token = token
            self._expires = self._clock() + max(0.0, lifetime - TOKEN_REFRESH_MARGIN)
            return token

    async def _send(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        # ensure_ascii=False: WeChat shows \\uXXXX escapes literally in customer-service messages.
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return await self._call("POST", "/cgi-bin/message/custom/send", params={"access_token": token},
                                data=data, headers={"Content-Type": "application/json; charset=utf-8"})

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self._http.request(method, self._api + path, timeout=TIMEOUT, **kwargs) as resp:
                if resp.status != 200:
                    raise WechatApiError(f"{path}: HTTP {resp.status}")
                result = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            # The exception's text may contain the URL (and with it the secret or token): not kept.
            raise WechatApiError(f"{path}: {type(exc).__name__}") from None
        if not isinstance(result, dict):
            raise WechatApiError(f"{path}: the answer is not a JSON object")
        return result
