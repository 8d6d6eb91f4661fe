"""WeChat's side, for the gateway's tests (tests/web/test_wechat.py, tests/e2e/test_wechat_e2e.py,
tests/e2e/test_handoff_e2e.py).

- ``WechatServer``: builds callbacks exactly as WeChat's servers send them to an official account,
  with wechatpy's signer and crypto: the query string (signature, timestamp, nonce, openid; in safe
  mode encrypt_type=aes and msg_signature) and the XML body (in safe mode ``<xml><ToUserName/>
  <Encrypt/></xml>``); and reads our passive replies as WeChat would (decrypting them in safe mode),
  the transfer to customer service (``transfer_customer_service``) included (``read_fields``).
- ``FakeWechatApi``: the two calls of WeChat's API the gateway makes, served on loopback with
  WeChat's JSON and errcodes, recording what it received: ``GET /cgi-bin/token`` and
  ``POST /cgi-bin/message/custom/send``. WeChat's servers cannot be reached from here.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.messages import BaseMessage
from wechatpy.parser import parse_message
from wechatpy.utils import WeChatSigner

ACCOUNT = "gh_12320nanjing"  # the official account's original id (ToUserName of every message)


def new_aes_key() -> str:
    """An EncodingAESKey as the official account's settings page makes one: 43 characters."""
    import base64

    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")[:-1]


def new_openid() -> str:
    return "o" + secrets.token_urlsafe(21)[:27]


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(openid: str, msg_type: str, *, create_time: int | None = None, msg_id: int | None = None,
                account: str = ACCOUNT, **fields: str) -> str:
    """A message or event as WeChat's XML (fields: Content, Recognition, Event, MediaId …)."""
    parts = [f"<ToUserName>{cdata(account)}</ToUserName>", f"<FromUserName>{cdata(openid)}</FromUserName>",
             f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
             f"<MsgType>{cdata(msg_type)}</MsgType>"]
    parts += [f"<{name}>{cdata(value)}</{name}>" for name, value in fields.items()]
    if msg_type != "event":
        parts.append(f"<MsgId>{msg_id if msg_id is not None else new_msg_id()}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def new_msg_id() -> int:
    return uuid.uuid4().int >> 65  # a positive 63-bit id, like WeChat's


def text_xml(openid: str, content: str, **kw: Any) -> str:
    return message_xml(openid, "text", Content=content, **kw)


@dataclass
class WechatServer:
    token: str
    appid: str = "wx5c9f0e1d2b3a4c5d"
    aes_key: str | None = None

    @property
    def crypto(self) -> WeChatCrypto:
        assert self.aes_key, "plain mode"
        return WeChatCrypto(self.token, self.aes_key, self.appid)

    def query(self, *, openid: str | None = None, timestamp: int | None = None, nonce: str | None = None,
              **extra: str) -> dict[str, str]:
        timestamp = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        if openid:
            query["openid"] = openid
        return {**query, **extra}

    def callback(self, xml: str | bytes, *, openid: str | None = None, **kw: Any) -> tuple[dict[str, str], bytes]:
        """(query, body) of one delivery of ``xml``: plain, or encrypted when there is an AES key."""
        query = self.query(openid=openid, **kw)
        body = xml.encode("utf-8") if isinstance(xml, str) else xml
        if not self.aes_key:
            return query, body
        encrypt = PrpCrypto(self.crypto.key).encrypt(body, self.appid).decode("ascii")
        query.update(encrypt_type="aes",
                     msg_signature=sign(self.token, query["timestamp"], query["nonce"], encrypt))
        return query, (f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName>"
                       f"<Encrypt>{cdata(encrypt)}</Encrypt></xml>").encode("utf-8")

    def read_reply(self, body: str) -> BaseMessage:
        """Our passive reply as WeChat reads it (checked and decrypted in safe mode)."""
        return parse_message(self._plain(body))

    def read_fields(self, body: str) -> dict[str, str]:
        """Our passive reply's elements, for the replies wechatpy does not parse (the transfer to
        customer service: MsgType transfer_customer_service, and TransInfo's KfAccount)."""
        import defusedxml.ElementTree as ET

        root = ET.fromstring(self._plain(body))
        return {child.tag: child.text or "" for child in root.iter() if child is not root and child.tag != "TransInfo"}

    def _plain(self, body: str) -> str:
        if self.aes_key:
            import defusedxml.ElementTree as ET

            root = ET.fromstring(body)
            body = self.crypto.decrypt_message(body, root.findtext("MsgSignature"), root.findtext("TimeStamp"),
                                               root.findtext("Nonce"))
        return body


@dataclass
class FakeWechatApi:
    """GET /cgi-bin/token and POST /cgi-bin/message/custom/send, as WeChat answers them."""

    appid: str
    secret: str
    expires_in: int = 7200
    tokens: list[str] = field(default_factory=list)  # issued, in order
    expired: set[str] = field(default_factory=set)
    sent: list[dict[str, Any]] = field(default_factory=list)  # bodies of accepted messages
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (path, query) of every call
    busy: int = 0  # the next this many sends are answered -1 (系统繁忙, WeChat's passing failure)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)
        return app

    def expire_tokens(self) -> None:
        """Every token issued so far expires (WeChat: 42001 from then on)."""
        self.expired.update(self.tokens)

    async def wait_sent(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.sent

    @staticmethod
    def _error(errcode: int, errmsg: str) -> web.Response:
        return web.json_response({"errcode": errcode, "errmsg": errmsg})

    async def _token(self, request: web.Request) -> web.Response:
        self.calls.append((request.path, dict(request.query)))
        q = request.query
        if q.get("grant_type") != "client_credential":
            return self._error(40002, "invalid grant_type")
        if q.get("appid") != self.appid:
            return self._error(40013, "invalid appid")
        if q.get("secret") != self.secret:
            return self._error(40125, "invalid appsecret")
        token = secrets.token_urlsafe(96)
        self.tokens.append(token)
        return web.json_response({"access_token": token, "expires_in": self.expires_in})

    async def _send(self, request: web.Request) -> web.Response:
        self.calls.append((request.path, dict(request.query)))
        token = request.query.get("access_token")
        if not token:
            return self._error(41001, "access_token missing")
        if token in self.expired:
            return self._error(42001, "access_token expired")
        if token not in self.tokens:
            return self._error(40001, "invalid credential, access_token is invalid or not latest")
        raw = await request.read()
        if self.busy > 0:
            self.busy -= 1
            return self._error(-1, "system error")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self._error(47001, "data format error")
        if not isinstance(body, dict) or not body.get("touser"):
            return self._error(40003, "invalid openid")
        if body.get("msgtype") != "text" or not (body.get("text") or {}).get("content"):
            return self._error(40008, "invalid message type")
        body["_raw"] = raw
        self.sent.append(body)
        return self._error(0, "ok")
