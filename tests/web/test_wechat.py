"""The WeChat gateway (/wechat) on the real app: WeChat's callbacks built, signed and encrypted by
wechatpy as WeChat's servers do (tests/wechat_fake.py), a small fake of Rasa's REST channel on
loopback where the timing has to be controlled, and a loopback fake of WeChat's customer-service API.
The gateway with the real Rasa is tested in tests/e2e/test_wechat_e2e.py."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from database import migrate
from database.engine import make_engine
from web.wechat.models import WechatChoice, WechatMessage
from hotline import handoff
from hotline.settings import Settings
from wechat_fake import (ACCOUNT, FakeWechatApi, WechatServer, message_xml, new_aes_key, new_msg_id, new_openid,
                         sign, text_xml)
from web import rasa
from web.keys import ENGINE
from web.app import create_app
from launcher.stack import free_ports
from web.wechat import messages, dedup as store
from web.wechat.accesslog import RedactingAccessLogger
from web.wechat.gateway import PASSIVE_DEADLINE, chosen_number, pseudonym
from web.wechat.protocol import MAX_BODY, Protocol
from web.wechat.routes import WECHAT

TOKEN = "hotline-test-token"
APPID = "wx5c9f0e1d2b3a4c5d"
SECRET = "test-app-secret-0123456789abcdef"
KEY = b"k" * 32
FAST = 0.6  # the passive reply's deadline in tests of the slow path (the real one: one test below)

ORAL = [{"title": "南京市口腔医院", "payload": '/inform{"hospital": "南京市口腔医院"}'},
        {"title": "江苏省口腔医院", "payload": '/inform{"hospital": "江苏省口腔医院"}'}]


@dataclass
class FakeRasa:
    """Rasa's REST channel: answers 收到：<message>, or what ``script`` says; ``slow`` delays some."""

    received: list[tuple[str, str]] = field(default_factory=list)
    script: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)
    status: int = 200

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        return app

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender, message = body["sender"], body["message"]
        self.received.append((sender, message))
        await asyncio.sleep(self.slow.get(message, 0.0))
        if self.status != 200:
            return web.Response(status=self.status, text="Internal Server Error")
        replies = self.script.get(message, [{"text": f"收到：{message}"}])
        if callable(replies):  # what an action does while Rasa answers (a handoff's queue entry)
            replies = replies(sender)
        return web.json_response([{"recipient_id": sender, **r} for r in replies])

    @property
    def messages(self) -> list[str]:
        return [m for _, m in self.received]


@dataclass
class Rig:
    client: TestClient
    app: web.Application
    wechat: WechatServer
    rasa: FakeRasa
    api: FakeWechatApi
    settings: Settings

    async def post(self, xml: str | bytes, *, openid: str | None = None, body: bytes | None = None,
                   **kw: Any) -> tuple[int, str]:
        query, data = self.wechat.callback(xml, openid=openid, **kw)
        resp = await self.client.post("/wechat", params=query, data=body if body is not None else data)
        return resp.status, await resp.text()

    async def ask(self, openid: str, content: str, **kw: Any) -> str:
        """A text message; the passive reply's content."""
        status, body = await self.post(text_xml(openid, content, **kw), openid=openid)
        assert status == 200, body
        reply = self.wechat.read_reply(body)
        assert (reply.type, reply.source, reply.target) == ("text", "gh_12320nanjing", openid), body
        return reply.content

    @property
    def gateway(self):
        return self.app[WECHAT].gateway


@pytest.fixture
async def rig_factory(tmp_path):
    started: list = []

    async def start(*, aes: bool = False, database_url: str | None = None, rasa: FakeRasa | None = None,
                    rasa_url: str | None = None, token: str | None = TOKEN, api_secret: str = SECRET,
                    **overrides: Any) -> Rig:
        rasa = rasa or FakeRasa()
        rasa_client = TestClient(TestServer(rasa.app()))
        await rasa_client.start_server()
        api = FakeWechatApi(APPID, api_secret)  # the AppSecret WeChat has for the account
        api_client = TestClient(TestServer(api.app()))
        await api_client.start_server()
        started.extend([rasa_client, api_client])
        aes_key = new_aes_key() if aes else None
        database_url = database_url or f"sqlite:///{tmp_path / 'hotline.db'}"
        migrate.upgrade(database_url)  # as `hotline db upgrade` before the app: it creates no tables
        overrides.setdefault("wechat_account", ACCOUNT)
        settings = Settings(
            database_url=database_url, var_dir=tmp_path,
            rasa_url=rasa_url or str(rasa_client.make_url("")).rstrip("/"), secret_key_env=KEY,
            wechat_token=token, wechat_appid=APPID, wechat_aes_key=aes_key, wechat_secret=SECRET,
            wechat_api_url=str(api_client.make_url("")).rstrip("/"), **overrides)
        app = create_app(settings)
        server = TestServer(app)
        await server.start_server(access_log_class=RedactingAccessLogger)
        client = TestClient(server)
        await client.start_server()
        started.append(client)
        return Rig(client, app, WechatServer(TOKEN, APPID, aes_key), rasa, api, settings)

    yield start
    for client in reversed(started):
        await client.close()


@pytest.fixture
async def rig(rig_factory) -> Rig:
    return await rig_factory()


def _rows(rig: Rig, model) -> list:
    engine = make_engine(rig.settings.database_url, create=False)
    try:
        with Session(engine) as s:
            return list(s.scalars(select(model)))
    finally:
        engine.dispose()


# --- URL verification ------------------------------------------------------------------------------

async def test_url_verification_echoes_echostr_only_when_signed(rig):
    resp = await rig.client.get("/wechat", params=rig.wechat.query(echostr="1234567890123456789"))
    assert resp.status == 200 and await resp.text() == "1234567890123456789"
    forged = {**rig.wechat.query(echostr="42"), "signature": "0" * 40}
    resp = await rig.client.get("/wechat", params=forged)
    assert resp.status == 403 and "42" not in await resp.text()


# --- a text message --------------------------------------------------------------------------------

async def test_text_message_gets_the_assistants_answer_as_passive_reply(rig):
    openid = new_openid()
    started = time.monotonic()
    assert await rig.ask(openid, "鼓楼医院2023年预约量多少") == "收到：鼓楼医院2023年预约量多少"
    assert time.monotonic() - started < 2
    ((sender, message),) = rig.rasa.received
    # Rasa knows the resident by a keyed hash of the OpenID only.
    assert message == "鼓楼医院2023年预约量多少"
    assert sender == pseudonym(KEY, openid) and sender.startswith("wx-") and openid not in sender
    assert await rig.ask(openid, "谢谢") == "收到：谢谢"
    assert rig.rasa.received[1][0] == sender  # the same resident, the same pseudonym


async def test_several_replies_are_one_passive_reply(rig):
    rig.rasa.script["你好"] = [{"text": "您好"}, {"text": "请问有什么可以帮您？"}]
    assert await rig.ask(new_openid(), "你好") == "您好\n请问有什么可以帮您？"


async def test_reply_text_cannot_break_out_of_the_reply_xml(rig):
    said = "投诉内容]]><Content>假的</Content><![CDATA["
    rig.rasa.script[said] = [{"text": f"请确认：{said}"}]
    assert await rig.ask(new_openid(), said) == f"请确认：{said}"


# --- refusals ----------------------------------------------------------------------------------------

async def test_forged_signature_is_403_and_reaches_nobody(rig):
    openid = new_openid()
    query, body = rig.wechat.callback(text_xml(openid, "你好"), openid=openid)
    resp = await rig.client.post("/wechat", params={**query, "signature": "f" * 40}, data=body)
    assert resp.status == 403 and "signature" in await resp.text()
    other = WechatServer("not-our-token", APPID)  # signed with another account's token
    query, body = other.callback(text_xml(openid, "你好"), openid=openid)
    assert (await rig.client.post("/wechat", params=query, data=body)).status == 403
    resp = await rig.client.post("/wechat", data=body)  # no signature at all
    assert resp.status == 403
    assert rig.rasa.received == []


async def test_stale_timestamp_is_403(rig):
    openid = new_openid()
    status, body = await rig.post(text_xml(openid, "你好"), openid=openid, timestamp=int(time.time()) - 301)
    assert (status, body) == (403, "stale timestamp")
    status, _ = await rig.post(text_xml(openid, "你好"), openid=openid, timestamp=int(time.time()) + 3600)
    assert status == 403
    status, _ = await rig.post(text_xml(openid, "你好"), openid=openid, timestamp=int(time.time()) - 60)
    assert status == 200  # a minute of clock skew is fine
    assert rig.rasa.messages == ["你好"]


BOMB = """<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"> <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"> <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"> <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;"> <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<xml><ToUserName>gh_12320nanjing</ToUserName><FromUserName>{openid}</FromUserName>
<CreateTime>{now}</CreateTime><MsgType>text</MsgType><Content>&i;</Content><MsgId>1</MsgId></xml>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file://{path}">]>
<xml><ToUserName>gh_12320nanjing</ToUserName><FromUserName>{openid}</FromUserName>
<CreateTime>{now}</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>"""


@pytest.mark.parametrize("aes", [False, True], ids=["plain", "safe"])
async def test_xml_bomb_and_external_entity_are_refused_unread(rig_factory, tmp_path, aes):
    rig = await rig_factory(aes=aes)
    openid = new_openid()
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("TOP-SECRET-FILE-CONTENT")
    started = time.monotonic()
    status, body = await rig.post(BOMB.format(openid=openid, now=int(time.time())), openid=openid)
    assert status == 400 and "DTD" in body, body
    assert time.monotonic() - started < 2  # not expanded (a billion "a"s would take long and GBs)
    status, body = await rig.post(XXE.format(path=secret_file, openid=openid, now=int(time.time())),
                                  openid=openid)
    assert status == 400 and "TOP-SECRET" not in body, body
    assert rig.rasa.received == []


async def test_a_body_over_the_limit_is_413(rig):
    openid = new_openid()
    huge = text_xml(openid, "挂" * (1024 * 1024 // 3))  # 1 MB of text, correctly signed
    assert len(huge.encode()) > 1024 * 1024
    status, body = await rig.post(huge, openid=openid)
    assert status == 413 and str(MAX_BODY) in body

    async def chunks():  # no Content-Length: refused while it arrives
        for _ in range(64):
            yield b"<xml>" + b"x" * 16 * 1024

    resp = await rig.client.post("/wechat", params=rig.wechat.query(openid=openid), data=chunks())
    assert resp.status == 413
    assert rig.rasa.received == []
    assert await rig.ask(openid, "你好") == "收到：你好"  # and the gateway still answers


@pytest.mark.parametrize("body, says", [
    ("<xml><Content>\xff\xfe</Content></xml>".encode("latin-1"), "not UTF-8"),
    (b"<xml><ToUserName>gh</ToUserName><Content>unclosed", "not well-formed"),
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"<html><body>hi</body></html>", "root is not <xml>"),
    (b"<xml><MsgType>text</MsgType><Content>hi</Content></xml>", "FromUserName"),
    ("<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>soon</CreateTime>"
     "<MsgType>text</MsgType><Content>hi</Content></xml>".encode(), "CreateTime"),
], ids=["invalid-utf8", "malformed", "empty", "blank", "not-wechat", "no-sender", "bad-time"])
async def test_a_bad_body_is_400_with_the_reason(rig, body, says):
    status, text = await rig.post(b"", body=body)
    assert status == 400 and says in text, text
    assert rig.rasa.received == []


# --- retries ---------------------------------------------------------------------------------------

async def test_a_retried_msgid_is_answered_once_with_the_same_answer(rig):
    openid, msg_id = new_openid(), new_msg_id()
    xml = text_xml(openid, "鼓楼医院怎么预约", msg_id=msg_id)
    first = await rig.ask(openid, "鼓楼医院怎么预约", msg_id=msg_id)
    rig.rasa.script["鼓楼医院怎么预约"] = [{"text": "a different answer"}]
    for _ in range(2):  # WeChat's retries: new timestamp and nonce, same message
        status, body = await rig.post(xml, openid=openid)
        assert status == 200 and rig.wechat.read_reply(body).content == first
    assert rig.rasa.messages == ["鼓楼医院怎么预约"]
    (row,) = _rows(rig, WechatMessage)
    assert (row.key, row.state, row.reply) == (f"msg:{pseudonym(KEY, openid)}:{msg_id}", "answered", first)
    assert row.sender == pseudonym(KEY, openid)


async def test_a_retry_while_the_first_is_answered_waits_for_that_answer(rig):
    openid, msg_id = new_openid(), new_msg_id()
    rig.rasa.slow["慢一点"] = 1.0
    xml = text_xml(openid, "慢一点", msg_id=msg_id)
    results = await asyncio.gather(rig.post(xml, openid=openid), rig.post(xml, openid=openid),
                                   rig.post(xml, openid=openid))
    assert [s for s, _ in results] == [200, 200, 200]
    assert {rig.wechat.read_reply(b).content for _, b in results} == {"收到：慢一点"}
    assert rig.rasa.messages == ["慢一点"]


async def test_events_are_deduplicated_by_sender_and_time(rig):
    rig.rasa.script["/greet"] = [{"text": "您好，这里是智能助手。"}]
    openid, now = new_openid(), int(time.time())
    subscribe = message_xml(openid, "event", create_time=now, Event="subscribe")
    for _ in range(2):
        status, body = await rig.post(subscribe, openid=openid)
        assert status == 200 and rig.wechat.read_reply(body).content == "您好，这里是智能助手。"
    assert rig.rasa.messages == ["/greet"]
    (row,) = _rows(rig, WechatMessage)
    assert row.key == f"event:{pseudonym(KEY, openid)}:{now}" and openid not in row.key


async def test_two_app_processes_on_one_store_answer_a_message_once(rig_factory, database_url):
    # Two apps (as two processes would be) on the same store and the same Rasa: WeChat's retry of a
    # message may reach either. Rasa is slow, so both deliveries are in flight together.
    rasa = FakeRasa(slow={"两个进程": 0.8})
    one = await rig_factory(database_url=database_url, rasa=rasa)
    two = await rig_factory(database_url=database_url, rasa=rasa)
    openid, msg_id = new_openid(), new_msg_id()
    xml = text_xml(openid, "两个进程", msg_id=msg_id)
    (s1, b1), (s2, b2) = await asyncio.gather(one.post(xml, openid=openid), two.post(xml, openid=openid))
    assert (s1, s2) == (200, 200)
    assert one.wechat.read_reply(b1).content == two.wechat.read_reply(b2).content == "收到：两个进程"
    assert rasa.messages == ["两个进程"]


# --- the slow path -----------------------------------------------------------------------------------

async def test_a_slow_answer_is_success_now_and_a_customer_service_message_later(rig, caplog):
    rig.gateway.deadline = FAST
    rig.rasa.slow.update({"第一个慢问题": 2.0, "第二个慢问题": 2.0})
    openid = new_openid()
    caplog.set_level(logging.DEBUG)
    for n, question in enumerate(["第一个慢问题", "第二个慢问题"], 1):
        started = time.monotonic()
        status, body = await rig.post(text_xml(openid, question), openid=openid)
        assert (status, body) == (200, "success")
        assert time.monotonic() - started < 1.5  # at the deadline, long before the answer
        sent = await rig.api.wait_sent(n)
        assert len(sent) == n, rig.api.calls
        assert sent[-1]["touser"] == openid and sent[-1]["text"]["content"] == f"收到：{question}"
        assert f"收到：{question}".encode() in sent[-1]["_raw"]  # UTF-8, not \\u escapes
    assert len(rig.api.tokens) == 1  # the access token is cached
    assert rig.rasa.messages == ["第一个慢问题", "第二个慢问题"]
    # Each row is marked sent just after WeChat accepted its push: wait for that write.
    await _eventually(lambda: {r.state for r in _rows(rig, WechatMessage)} == {"sent"}, timeout=5)
    assert {r.state for r in _rows(rig, WechatMessage)} == {"sent"}
    assert openid not in caplog.text  # pseudonym in our log lines, never the OpenID
    assert pseudonym(KEY, openid) in caplog.text


async def test_an_expired_access_token_is_fetched_anew(rig):
    rig.gateway.deadline = FAST
    rig.rasa.slow.update({"慢A": 1.0, "慢B": 1.0})
    openid = new_openid()
    assert (await rig.post(text_xml(openid, "慢A"), openid=openid))[1] == "success"
    await rig.api.wait_sent(1)
    rig.api.expire_tokens()  # WeChat: 42001 for the cached token from now on
    assert (await rig.post(text_xml(openid, "慢B"), openid=openid))[1] == "success"
    sent = await rig.api.wait_sent(2)
    assert [m["text"]["content"] for m in sent] == ["收到：慢A", "收到：慢B"]
    assert len(rig.api.tokens) == 2
    first, second = rig.api.tokens
    sends = [q["access_token"] for path, q in rig.api.calls if path.endswith("/send")]
    assert sends == [first, first, second]  # sent; refused with 42001; sent again with a new token


async def test_the_real_deadline_answers_within_wechats_5_seconds(rig):
    assert rig.gateway.deadline == PASSIVE_DEADLINE == 4.5
    rig.rasa.slow["很慢的问题"] = 6.0
    openid, msg_id = new_openid(), new_msg_id()
    xml = text_xml(openid, "很慢的问题", msg_id=msg_id)
    started = time.monotonic()
    status, body = await rig.post(xml, openid=openid)
    took = time.monotonic() - started
    assert (status, body) == (200, "success") and 4.3 < took < 5.0, took
    assert await rig.post(xml, openid=openid) == (200, "success")  # a retry: not asked again
    sent = await rig.api.wait_sent(1, timeout=5)
    assert [m["text"]["content"] for m in sent] == ["收到：很慢的问题"]
    assert rig.rasa.messages == ["很慢的问题"]


async def test_a_retry_after_the_slow_path_took_over_says_success(rig):
    rig.gateway.deadline = FAST
    rig.rasa.slow["慢C"] = 1.5
    openid, msg_id = new_openid(), new_msg_id()
    xml = text_xml(openid, "慢C", msg_id=msg_id)
    assert (await rig.post(xml, openid=openid))[1] == "success"
    assert (await rig.post(xml, openid=openid))[1] == "success"
    await rig.api.wait_sent(1)
    await asyncio.sleep(0.3)
    assert len(rig.api.sent) == 1 and rig.rasa.messages == ["慢C"]


async def test_a_refused_customer_service_message_is_recorded_as_failed(rig_factory):
    rig = await rig_factory(api_secret="the-secret-was-reset")  # WeChat: 40125 invalid appsecret
    rig.gateway.deadline = FAST
    rig.rasa.slow["慢D"] = 1.0
    openid = new_openid()
    assert await rig.post(text_xml(openid, "慢D"), openid=openid) == (200, "success")
    for _ in range(50):
        rows = _rows(rig, WechatMessage)
        if rows and rows[0].state != "async":
            break
        await asyncio.sleep(0.1)
    assert rows[0].state == "failed" and rig.api.sent == []


# --- safe (AES) mode ---------------------------------------------------------------------------------

async def test_safe_mode_round_trip(rig_factory):
    rig = await rig_factory(aes=True)
    openid = new_openid()
    query, body = rig.wechat.callback(text_xml(openid, "鼓楼医院2023年预约量多少"), openid=openid)
    assert b"2023" not in body  # what goes over the wire is ciphertext
    resp = await rig.client.post("/wechat", params=query, data=body)
    text = await resp.text()
    assert resp.status == 200 and "<Encrypt>" in text and "2023" not in text
    reply = rig.wechat.read_reply(text)  # checks MsgSignature and decrypts, as WeChat does
    assert (reply.content, reply.target) == ("收到：鼓楼医院2023年预约量多少", openid)
    assert rig.rasa.received == [(pseudonym(KEY, openid), "鼓楼医院2023年预约量多少")]


async def test_safe_mode_keeps_no_cipher_state_between_messages(rig_factory):
    # The protocol makes its AES cipher once (protocol.py _Crypto); each message still decrypts and each
    # reply encrypts on its own (CBC from the key's IV every time), as WeChat reads them.
    rig = await rig_factory(aes=True)
    openids = [new_openid() for _ in range(3)]
    for round_ in range(2):
        for openid in openids:
            text = f"第{round_}轮 {openid[-4:]}"
            assert await rig.ask(openid, text) == f"收到：{text}"
    assert len(rig.rasa.received) == 6


async def test_safe_mode_refuses_what_it_cannot_trust(rig_factory):
    rig = await rig_factory(aes=True)
    openid = new_openid()
    xml = text_xml(openid, "你好")
    plain = WechatServer(TOKEN, APPID)  # right token, but not encrypted
    query, body = plain.callback(xml, openid=openid)
    resp = await rig.client.post("/wechat", params=query, data=body)
    assert resp.status == 403 and "encrypted" in await resp.text()
    query, body = rig.wechat.callback(xml, openid=openid)
    resp = await rig.client.post("/wechat", params={**query, "msg_signature": "0" * 40}, data=body)
    assert resp.status == 403
    other = WechatServer(TOKEN, APPID, new_aes_key())  # another key: decrypts to garbage
    query, body = other.callback(xml, openid=openid)
    assert (await rig.client.post("/wechat", params=query, data=body)).status in (400, 403)
    other_account = WechatServer(TOKEN, "wx0000000000000000", rig.wechat.aes_key)
    query, body = other_account.callback(xml, openid=openid)
    resp = await rig.client.post("/wechat", params=query, data=body)
    assert resp.status == 403 and "another account" in await resp.text()
    garbage = b"<xml><ToUserName>gh</ToUserName><Encrypt>not base64 at all!</Encrypt></xml>"
    query = rig.wechat.query(openid=openid)
    query.update(encrypt_type="aes",
                 msg_signature=sign(TOKEN, query["timestamp"], query["nonce"], "not base64 at all!"))
    resp = await rig.client.post("/wechat", params=query, data=garbage)
    assert resp.status == 400
    assert rig.rasa.received == []


# --- message kinds, choices, failures --------------------------------------------------------------

async def test_buttons_become_numbered_choices_and_a_number_picks_one(rig):
    rig.rasa.script["口腔医院预约量"] = [{"text": "“口腔医院”有2家：南京市口腔医院、江苏省口腔医院。请问是哪一家？",
                                     "buttons": ORAL}]
    openid = new_openid()
    asked = await rig.ask(openid, "口腔医院预约量")
    assert asked.splitlines()[1:] == ["1. 南京市口腔医院", "2. 江苏省口腔医院", messages.CHOICE_HINT]
    await rig.ask(openid, "２")  # a full-width digit, as Chinese keyboards type it
    assert rig.rasa.messages[-1] == ORAL[1]["payload"]
    await rig.ask(openid, "1")  # the choices were used up: now just text
    assert rig.rasa.messages[-1] == "1"
    await rig.ask(openid, "口腔医院预约量")
    await rig.ask(openid, "算了，问别的")  # any other message clears them
    await rig.ask(openid, "1")
    assert rig.rasa.messages[-2:] == ["算了，问别的", "1"]
    await rig.ask(openid, "口腔医院预约量")
    await rig.ask(openid, "3")  # not one of the choices: sent as it is
    assert rig.rasa.messages[-1] == "3"
    assert _rows(rig, WechatChoice) == []


async def test_choices_belong_to_one_resident(rig):
    rig.rasa.script["口腔医院预约量"] = [{"text": "请问是哪一家？", "buttons": ORAL}]
    one, other = new_openid(), new_openid()
    await rig.ask(one, "口腔医院预约量")
    await rig.ask(other, "1")
    assert rig.rasa.messages[-1] == "1"
    await rig.ask(one, "1")
    assert rig.rasa.messages[-1] == ORAL[0]["payload"]


@pytest.mark.parametrize("kind, fields", [
    ("image", {"PicUrl": "http://mmbiz.qpic.cn/x", "MediaId": "m1"}),
    ("video", {"MediaId": "m2", "ThumbMediaId": "t2"}),
    ("location", {"Location_X": "32.06", "Location_Y": "118.79", "Scale": "15", "Label": "南京"}),
    ("voice", {"MediaId": "m3", "Format": "amr"}),  # no recognition result
], ids=["image", "video", "location", "voice-unrecognised"])
async def test_what_is_not_text_gets_please_type(rig, kind, fields):
    openid = new_openid()
    status, body = await rig.post(message_xml(openid, kind, **fields), openid=openid)
    assert status == 200 and rig.wechat.read_reply(body).content == messages.PLEASE_TYPE
    assert rig.rasa.received == []


async def test_voice_with_a_recognition_result_is_taken_as_text(rig):
    openid = new_openid()
    status, body = await rig.post(message_xml(openid, "voice", MediaId="m", Format="amr",
                                              Recognition="鼓楼医院怎么挂号"), openid=openid)
    assert rig.wechat.read_reply(body).content == "收到：鼓楼医院怎么挂号"
    assert rig.rasa.messages == ["鼓楼医院怎么挂号"]


async def test_subscribe_greets_through_the_assistant_and_unsubscribe_is_silent(rig):
    rig.rasa.script["/greet"] = [{"text": "您好，这里是南京卫生12320智能助手。可以问我怎么预约挂号……"}]
    openid = new_openid()
    status, body = await rig.post(message_xml(openid, "event", Event="subscribe", EventKey=""), openid=openid)
    assert rig.wechat.read_reply(body).content.startswith("您好，这里是南京卫生12320智能助手")
    scan = message_xml(new_openid(), "event", Event="subscribe", EventKey="qrscene_12320")
    assert (await rig.post(scan))[0] == 200
    assert rig.rasa.messages == ["/greet", "/greet"]
    for event in ("unsubscribe", "CLICK", "VIEW", "LOCATION"):
        assert await rig.post(message_xml(openid, "event", Event=event), openid=openid) == (200, "success")
    assert len(rig.rasa.received) == 2


async def test_rasa_down_gets_a_polite_answer_not_a_500(rig_factory):
    (closed,) = free_ports(1)
    rig = await rig_factory(rasa_url=f"http://127.0.0.1:{closed}")
    assert await rig.ask(new_openid(), "你好") == messages.UNAVAILABLE


async def test_rasa_failing_or_silent_gets_a_polite_answer(rig):
    rig.rasa.status = 500
    assert await rig.ask(new_openid(), "你好") == messages.UNAVAILABLE
    rig.rasa.status = 200
    rig.rasa.script["你好"] = []  # the assistant had nothing to say (a custom action failed)
    assert await rig.ask(new_openid(), "你好") == rasa.TEMPORARY_FAILURE
    rig.rasa.script["你好"] = [{"custom": {"card": 1}}]  # nothing a WeChat text can carry
    assert await rig.ask(new_openid(), "你好") == messages.NO_ANSWER


# --- configuration -----------------------------------------------------------------------------------

async def test_without_a_token_wechat_is_503_and_the_app_runs(rig_factory):
    rig = await rig_factory(token=None)
    resp = await rig.client.get("/wechat", params=rig.wechat.query(echostr="1"))
    assert resp.status == 503 and "WECHAT_TOKEN" in await resp.text()
    openid = new_openid()
    assert (await rig.post(text_xml(openid, "你好"), openid=openid))[0] == 503
    assert (await rig.client.get("/healthz")).status == 200


def test_a_malformed_aes_key_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="EncodingAESKey"):
        Protocol(TOKEN, appid=APPID, aes_key="short")
    with pytest.raises(ValueError, match="WECHAT_APPID"):
        Protocol(TOKEN, aes_key=new_aes_key())


def test_chosen_number():
    assert [chosen_number(t) for t in ("1", " 2 ", "１", "１２", "①", "1.", "一", "12345", "")] == \
        [1, 2, 1, 12, 1, None, None, None, None]


async def test_the_access_log_leaves_the_openid_out(rig, caplog):
    openid = new_openid()
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        await rig.ask(openid, "你好")
        await rig.client.get("/healthz", params={"probe": "1"})
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any("POST /wechat " in line for line in lines), lines
    assert any("/healthz?probe=1" in line for line in lines), lines  # other routes as before
    assert openid not in caplog.text


def test_the_access_logs_request_line_is_aiohttps_without_the_wechat_query():
    from aiohttp.test_utils import make_mocked_request
    from aiohttp.web_log import AccessLogger

    logger = logging.getLogger("test.access")
    ours, theirs = RedactingAccessLogger(logger), AccessLogger(logger)
    response = web.Response(status=200, text="success")
    for path, shown in (("/wechat?signature=s&openid=oSECRET", "/wechat"), ("/wechat", "/wechat"),
                        ("/healthz?probe=1", "/healthz?probe=1"), ("/console/x%20y?a=1", "/console/x%20y?a=1")):
        request = make_mocked_request("POST", path)
        line = dict(ours._format_line(request, response, 0.01))["first_request_line"]
        assert line == f"POST {shown} HTTP/1.1"
        # aiohttp's own logger (same format, compiled once and shared) still shows every query
        assert dict(theirs._format_line(request, response, 0.01))["first_request_line"] == f"POST {path} HTTP/1.1"


# --- the store's rows, on SQLite and PostgreSQL ------------------------------------------------------

def test_claim_is_once_per_key(session):
    store.claim(session, "k-once", "wx-a", "gw-1")
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            store.claim(session, "k-once", "wx-a", "gw-2")
    assert store.settle(session, "k-once", store.ANSWERED, "答")
    assert not store.settle(session, "k-once", store.ASYNC)  # answered already: not handed off
    assert store.get_message(session, "k-once").state == "answered"
    with pytest.raises(store.MessageNotFound):
        store.get_message(session, "k-never")


def test_choices_are_taken_once_and_expire(session):
    now = datetime(2026, 11, 22, 8, 0)
    store.offer_choices(session, "wx-b", ORAL, now=now)
    assert store.take_choice(session, "wx-b", 2, now=now) == (ORAL[1], False)
    assert store.take_choice(session, "wx-b", 2, now=now) == (None, False)
    store.offer_choices(session, "wx-b", ORAL, now=now)
    assert store.take_choice(session, "wx-b", 1, now=now + timedelta(hours=2)) == (None, False)  # stale
    # A question for the resident's own words: the next message (not a number picking a choice) answers it.
    store.offer_choices(session, "wx-b", [], now=now, own_words=True)
    assert store.take_choice(session, "wx-b", None, now=now) == (None, True)
    assert store.take_choice(session, "wx-b", None, now=now) == (None, False)
    store.offer_choices(session, "wx-b", [], now=now, own_words=True)
    assert store.take_choice(session, "wx-b", None, now=now + timedelta(hours=2)) == (None, False)  # stale
    store.offer_choices(session, "wx-b", ORAL, now=now)
    store.claim(session, "k-old", "wx-b", "gw-1", now=now - timedelta(days=2))
    store.claim(session, "k-new", "wx-b", "gw-1", now=now)
    assert store.prune(session, now=now + timedelta(hours=2)) == 1
    assert session.get(WechatMessage, "k-new") is not None and session.get(WechatMessage, "k-old") is None
    assert session.get(WechatChoice, "wx-b") is None


# --- crisis: the gateway answers it whatever the assistant does ----------------------------------------

CRISIS = "我不想活了，今晚就结束"
HOPELESS = "活着真没意思"


async def test_a_crisis_gets_the_protocol_within_a_second_when_the_assistant_hangs(rig_factory):
    from safety.replies import crisis_reply

    rasa = FakeRasa(slow={CRISIS: 10.0})
    rig = await rig_factory(rasa=rasa)
    began = time.monotonic()
    reply = await rig.ask(new_openid(), CRISIS)
    assert reply == crisis_reply().text
    assert time.monotonic() - began < 1.0
    assert rasa.messages == [CRISIS]  # the assistant still got the message (its turn, its call log)


async def test_a_crisis_gets_the_protocol_when_the_assistant_fails(rig_factory):
    from safety.replies import checkin_reply, crisis_reply

    rig = await rig_factory(rasa=FakeRasa(status=500))
    assert await rig.ask(new_openid(), CRISIS) == crisis_reply().text
    assert await rig.ask(new_openid(), HOPELESS) == checkin_reply().text  # a possible crisis: the check-in
    assert await rig.ask(new_openid(), "鼓楼医院怎么挂号") == messages.UNAVAILABLE  # anything else: try again


async def test_a_crisis_gets_the_protocol_when_the_store_is_down(rig_factory):
    """No claim, no queue lookup: the detector still answers a person in crisis; anything else: try again."""
    from safety.replies import checkin_reply, crisis_reply

    rig = await rig_factory()
    database = Path(rig.settings.database_url.removeprefix("sqlite:///"))
    while True:  # the gateway's heartbeat, in a worker thread, may open (and so re-create) it meanwhile
        database.unlink(missing_ok=True)
        try:
            database.mkdir()  # not a database any more: every unit of work fails
            break
        except FileExistsError:
            continue
    rig.app[ENGINE].dispose()  # no pooled connection to the old file either
    assert await rig.ask(new_openid(), CRISIS) == crisis_reply().text
    assert await rig.ask(new_openid(), HOPELESS) == checkin_reply().text
    assert await rig.ask(new_openid(), "鼓楼医院怎么挂号") == messages.UNAVAILABLE
    assert rig.rasa.messages == []  # nothing reached the assistant: the store is where a turn starts


async def test_the_crisis_reply_is_added_when_the_assistant_missed_it(rig_factory):
    """The assistant answered something else (a model that disagrees): the protocol comes first."""
    from safety.replies import crisis_reply

    rig = await rig_factory()
    reply = await rig.ask(new_openid(), CRISIS)
    assert reply == f"{crisis_reply().text}\n\n收到：{CRISIS}"


async def test_an_ordinary_message_is_not_touched(rig):
    assert await rig.ask(new_openid(), "烦死了，排队排了三个小时") == "收到：烦死了，排队排了三个小时"


# --- issue 16: a message is never lost, never answered twice, never another resident's ---------------

def _fast_claims(rig: Rig, *, stale_after: float = 0.6) -> None:
    """Claims checked and taken over within a second (the real timings: seconds)."""
    gateway = rig.gateway
    gateway.heartbeat, gateway.sweep_every, gateway.stale_after = 0.1, 0.2, stale_after
    gateway._api.backoff = (0.05, 0.1, 0.2, 0.4)
    gateway._keeper.cancel()  # asleep for the real heartbeat's 2 s: again with these
    gateway.start()


def _die(rig: Rig) -> None:
    """The gateway's process dies while answering: its tasks end where they are, nothing is
    settled or released, its heartbeat stops (as after a SIGKILL; a real one: the test below)."""
    gateway = rig.gateway
    gateway._keeper.cancel()
    for task in list(gateway._working.values()):
        task.cancel()


async def _eventually(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return result


async def test_two_requests_in_one_message_get_both_answers_in_order(rig):
    openid = new_openid()
    answer = await rig.ask(openid, "省人医怎么预约？顺便问一下12320可以投诉医院吗")
    assert answer == "收到：省人医怎么预约\n收到：12320可以投诉医院吗"
    assert rig.rasa.messages == ["省人医怎么预约", "12320可以投诉医院吗"]  # one conversation, two turns
    assert len({sender for sender, _ in rig.rasa.received}) == 1


async def test_a_crisis_in_the_second_request_gets_its_reply_first(rig):
    from safety.replies import crisis_reply
    said = crisis_reply().text
    rig.rasa.script["我真的不想活了，药都准备好了"] = [{"text": said}]
    answer = await rig.ask(new_openid(), "鼓楼医院怎么挂号？顺便问一下，我真的不想活了，药都准备好了")
    assert answer == f"{said}\n\n收到：鼓楼医院怎么挂号"


OWN_WORDS_QUESTION = [{"text": "请简单说说发生了什么事情。"}, {"custom": {"expects": "own_words"}}]


async def test_an_answer_in_the_residents_own_words_is_never_divided(rig):
    # The complaint form asks what happened: the next message is that story, whole, though it
    # reads like two requests (an explicit turn: 顺便问一下).
    openid = new_openid()
    rig.rasa.script["我要投诉鼓楼医院"] = OWN_WORDS_QUESTION
    assert await rig.ask(openid, "我要投诉鼓楼医院") == "请简单说说发生了什么事情。"
    story = "护士打针打了三次都没打进去，这样的护士能不能处理？顺便问一下挂号费能退吗"
    assert await rig.ask(openid, story) == f"收到：{story}"
    # What was pending is used once: the message after it is divided again.
    assert await rig.ask(openid, "省人医怎么预约？顺便问一下12320可以投诉医院吗") == \
        "收到：省人医怎么预约\n收到：12320可以投诉医院吗"
    assert rig.rasa.messages == ["我要投诉鼓楼医院", story, "省人医怎么预约", "12320可以投诉医院吗"]


async def test_a_second_request_after_a_question_for_own_words_is_asked_for_again(rig):
    # The first request opens the complaint form, which wants the story: the second request is not
    # sent as that story; the resident is asked to send it again, and nothing of it is lost.
    rig.rasa.script["我要投诉市一医院"] = OWN_WORDS_QUESTION
    answer = await rig.ask(new_openid(), "我要投诉市一医院！顺便问一下12320几点上班")
    assert answer == f"请简单说说发生了什么事情。\n{rasa.LATER_PART}"
    assert rig.rasa.messages == ["我要投诉市一医院"]


async def test_a_forged_msgid_from_another_sender_does_not_get_that_residents_reply(rig):
    resident, forger, msg_id = new_openid(), new_openid(), new_msg_id()
    assert await rig.ask(resident, "我的投诉进度怎么样", msg_id=msg_id) == "收到：我的投诉进度怎么样"
    # Plain mode: anyone who can sign (a leaked token) may send any FromUserName and MsgId.
    assert await rig.ask(forger, "随便问问", msg_id=msg_id) == "收到：随便问问"
    assert rig.rasa.received == [(pseudonym(KEY, resident), "我的投诉进度怎么样"),
                                 (pseudonym(KEY, forger), "随便问问")]
    assert len(_rows(rig, WechatMessage)) == 2


@pytest.mark.parametrize("aes", [False, True], ids=["plain", "safe"])
async def test_a_message_for_another_account_is_refused(rig_factory, aes):
    rig = await rig_factory(aes=aes)
    openid = new_openid()
    status, body = await rig.post(text_xml(openid, "你好", account="gh_another0000"), openid=openid)
    assert (status, body) == (403, "message for another account")
    assert rig.rasa.received == []
    assert await rig.ask(openid, "你好") == "收到：你好"  # ours is answered


async def test_a_nonce_replayed_with_another_body_is_refused(rig):
    resident, forger = new_openid(), new_openid()
    query, body = rig.wechat.callback(text_xml(resident, "鼓楼医院怎么挂号"), openid=resident)
    resp = await rig.client.post("/wechat", params=query, data=body)
    assert resp.status == 200
    first = rig.wechat.read_reply(await resp.text()).content
    # The signed query string (a proxy's access log has it) with a forged body: refused.
    forged = text_xml(resident, "确认提交").encode()
    resp = await rig.client.post("/wechat", params=query, data=forged)
    assert (resp.status, await resp.text()) == (403, "replayed nonce")
    resp = await rig.client.post("/wechat", params=query, data=text_xml(forger, "你好").encode())
    assert resp.status == 403
    # The same delivery sent again as it was is answered as a retry: once, with the same answer.
    resp = await rig.client.post("/wechat", params=query, data=body)
    assert resp.status == 200 and rig.wechat.read_reply(await resp.text()).content == first
    assert rig.rasa.messages == ["鼓楼医院怎么挂号"]


def test_nonces_are_remembered_for_their_window_only():
    protocol = Protocol(TOKEN, account=ACCOUNT, clock=lambda: now)
    now = 1_800_000_000
    assert protocol.nonces.take(str(now), "42", b"a", now)
    assert not protocol.nonces.take(str(now), "42", b"b", now)
    assert protocol.nonces.take(str(now), "43", b"b", now)
    later = now + protocol.max_age + 61  # the timestamp is refused from now on: the pair is forgotten
    assert protocol.nonces.take(str(later), "1", b"c", later) and len(protocol.nonces) == 1


async def test_the_push_failing_twice_loses_no_answer(rig):
    _fast_claims(rig)
    rig.gateway.deadline = FAST
    rig.rasa.slow["慢E"] = 1.0
    rig.api.busy = 2  # WeChat: -1 系统繁忙, twice
    openid = new_openid()
    assert await rig.post(text_xml(openid, "慢E"), openid=openid) == (200, "success")
    sent = await rig.api.wait_sent(1)
    assert [(m["touser"], m["text"]["content"]) for m in sent] == [(openid, "收到：慢E")]
    assert [p for p, _ in rig.api.calls].count("/cgi-bin/message/custom/send") == 3
    await asyncio.sleep(0.5)
    (row,) = _rows(rig, WechatMessage)
    assert (row.state, row.sealed, len(rig.api.sent)) == ("sent", None, 1)


async def test_the_push_failing_longer_than_its_backoff_is_released_and_swept(rig):
    _fast_claims(rig)
    rig.gateway.deadline = FAST
    rig.rasa.slow["慢F"] = 1.0
    rig.api.busy = 7  # more than one claim's five tries
    openid = new_openid()
    assert await rig.post(text_xml(openid, "慢F"), openid=openid) == (200, "success")
    sent = await rig.api.wait_sent(1, timeout=15)
    assert [m["text"]["content"] for m in sent] == ["收到：慢F"]
    # The row is marked sent just after WeChat accepted the push: wait for that write.
    await _eventually(lambda: _rows(rig, WechatMessage)[0].state == "sent", timeout=5)
    (row,) = _rows(rig, WechatMessage)
    assert (row.state, row.attempts) == ("sent", 2)
    assert rig.rasa.messages == ["慢F"]  # the answer was kept: pushed again, not asked again


async def test_an_answer_whose_process_died_is_swept_and_sent_exactly_once(rig_factory, tmp_path):
    rasa = FakeRasa(slow={"慢G": 1.0})
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    dying, other = await rig_factory(database_url=url, rasa=rasa), await rig_factory(database_url=url, rasa=rasa)
    dying.gateway.deadline = FAST
    _fast_claims(other)
    openid = new_openid()
    assert await dying.post(text_xml(openid, "慢G"), openid=openid) == (200, "success")  # handed off
    _die(dying)  # while Rasa is still answering
    sent = await other.api.wait_sent(1)
    assert [(m["touser"], m["text"]["content"]) for m in sent] == [(openid, "收到：慢G")]
    await asyncio.sleep(1.5)  # more sweeps: nothing more is sent, by either
    assert len(other.api.sent) == 1 and dying.api.sent == []
    (row,) = _rows(other, WechatMessage)
    assert (row.state, row.owner, row.attempts, row.sealed) == ("sent", other.gateway.owner, 2, None)


async def test_wechats_retry_takes_over_from_a_process_that_died(rig_factory, tmp_path):
    rasa = FakeRasa(slow={"慢H": 1.0})
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    dying, other = await rig_factory(database_url=url, rasa=rasa), await rig_factory(database_url=url, rasa=rasa)
    other.gateway.stale_after = 0.5
    openid, msg_id = new_openid(), new_msg_id()
    xml = text_xml(openid, "慢H", msg_id=msg_id)
    first = asyncio.ensure_future(dying.post(xml, openid=openid))
    await _eventually(lambda: dying.gateway._working)
    _die(dying)
    with pytest.raises(Exception):  # the connection ends without an answer, as with a dead process
        await first
    status, body = await other.post(xml, openid=openid)  # WeChat's retry, to the other process
    assert status == 200 and other.wechat.read_reply(body).content == "收到：慢H"  # within its 5 s
    assert other.api.sent == [] == dying.api.sent
    (row,) = _rows(other, WechatMessage)
    assert (row.state, row.owner) == ("answered", other.gateway.owner)


async def test_a_retry_does_not_take_over_a_claim_whose_process_is_alive(rig_factory, tmp_path):
    rasa = FakeRasa(slow={"慢I": 2.5})
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    one, two = await rig_factory(database_url=url, rasa=rasa), await rig_factory(database_url=url, rasa=rasa)
    for rig in (one, two):
        _fast_claims(rig)  # stale after 0.6 s without a heartbeat: the live one beats every 0.1 s
    openid, msg_id = new_openid(), new_msg_id()
    xml = text_xml(openid, "慢I", msg_id=msg_id)
    (s1, b1), (s2, b2) = await asyncio.gather(one.post(xml, openid=openid), two.post(xml, openid=openid))
    assert {one.wechat.read_reply(b1).content, two.wechat.read_reply(b2).content} == {"收到：慢I"}
    assert rasa.messages == ["慢I"]


async def test_shutdown_drains_answers_in_progress(rig_factory):
    rig = await rig_factory()
    rig.gateway.deadline = FAST
    rig.rasa.slow["慢J"] = 1.5
    openid = new_openid()
    assert await rig.post(text_xml(openid, "慢J"), openid=openid) == (200, "success")
    await rig.client.close()  # the app stops (SIGTERM): its cleanup waits for the answer
    assert [m["text"]["content"] for m in rig.api.sent] == ["收到：慢J"]
    assert _rows(rig, WechatMessage)[0].state == "sent"


async def test_what_the_drain_cannot_finish_is_released_to_another_process(rig_factory, tmp_path):
    rasa = FakeRasa(slow={"慢K": 3.0})
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    stopping, other = await rig_factory(database_url=url, rasa=rasa), await rig_factory(database_url=url, rasa=rasa)
    stopping.gateway.deadline, stopping.gateway.drain_timeout = FAST, 0.3
    openid = new_openid()
    assert await stopping.post(text_xml(openid, "慢K"), openid=openid) == (200, "success")
    began = time.monotonic()
    await stopping.client.close()
    assert time.monotonic() - began < 2.5  # within its grace, not the answer's 3 s
    _fast_claims(other, stale_after=30.0)  # released claims are taken at once, not after a silence
    sent = await other.api.wait_sent(1, timeout=10)
    assert [(m["touser"], m["text"]["content"]) for m in sent] == [(openid, "收到：慢K")]
    assert stopping.api.sent == []


def test_the_drain_ends_within_the_containers_grace_period():
    import yaml

    compose = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())
    grace = compose["services"]["app"]["stop_grace_period"]
    assert grace.endswith("s")
    drain = Settings(database_url="sqlite://", var_dir=Path("/nonexistent")).wechat_drain_timeout
    requests_in_flight = 5.0  # web/app.py shutdown_timeout
    assert drain + requests_in_flight + 2.0 <= float(grace[:-1])


async def test_the_app_killed_while_answering_loses_no_answer(rig_factory, tmp_path):
    """A real app process (python -m web) SIGKILLed while Rasa answers a message: another app on the
    same store takes the claim over and answers it through the customer-service API, once."""
    import os
    import signal
    import sys

    import aiohttp

    from launcher.stack import Service

    rasa = FakeRasa(slow={"慢L": 1.5})
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    survivor = await rig_factory(database_url=url, rasa=rasa)
    (port,) = free_ports(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "HOTLINE_", "DATABASE_URL"))}
    env.update(PYTHONUNBUFFERED="1", DATABASE_URL=url, HOTLINE_VAR_DIR=str(tmp_path),
               HOTLINE_RASA_URL=survivor.settings.rasa_url, HOTLINE_SECRET_KEY=KEY.decode(),
               HOTLINE_APP_HOST="127.0.0.1", HOTLINE_APP_PORT=str(port), WECHAT_TOKEN=TOKEN, WECHAT_APPID=APPID,
               WECHAT_SECRET=SECRET, WECHAT_API_URL=survivor.settings.wechat_api_url, WECHAT_ACCOUNT=ACCOUNT)
    app = Service("app", [sys.executable, "-m", "web"], env, f"http://127.0.0.1:{port}/healthz", tmp_path / "app.log")
    app.start()
    try:
        deadline = time.monotonic() + 60
        while not await asyncio.to_thread(app.answers):
            assert app.exited() is None and time.monotonic() < deadline, app.log_tail()
            await asyncio.sleep(0.2)
        openid = new_openid()
        query, body = survivor.wechat.callback(text_xml(openid, "慢L"), openid=openid)
        async with aiohttp.ClientSession() as http:
            delivery = asyncio.ensure_future(http.post(f"http://127.0.0.1:{port}/wechat", params=query, data=body))
            assert await _eventually(lambda: rasa.messages == ["慢L"]), app.log_tail()
            app.signal(signal.SIGKILL)  # while Rasa is answering it
            with pytest.raises(aiohttp.ClientError):
                await delivery
        assert await asyncio.to_thread(app.process.wait, 10) == -signal.SIGKILL
        (row,) = _rows(survivor, WechatMessage)
        assert row.state == "answering" and row.owner != survivor.gateway.owner and row.sealed
        _fast_claims(survivor)
        sent = await survivor.api.wait_sent(1)
        assert [(m["touser"], m["text"]["content"]) for m in sent] == [(openid, "收到：慢L")]
        await asyncio.sleep(1.0)
        assert len(survivor.api.sent) == 1
        (row,) = _rows(survivor, WechatMessage)
        assert (row.state, row.owner, row.sealed) == ("sent", survivor.gateway.owner, None)
        assert rasa.messages == ["慢L", "慢L"]  # asked again: the first answer died with its process
    finally:
        app.signal(signal.SIGKILL)
        if app.process is not None:
            app.process.wait(10)
        app.close_log()


def test_the_sealed_envelope_keeps_openid_and_message_out_of_the_store():
    from web.wechat.seal import Envelope, Sealer

    openid = new_openid()
    envelope = Envelope(openid, "ask", "我的电话13912345678")
    sealed = Sealer(KEY).seal("msg:wx-a:1", envelope)
    assert openid not in sealed and "13912345678" not in sealed and "电话".encode() not in sealed.encode()
    assert Sealer(KEY).open("msg:wx-a:1", sealed) == envelope
    assert Sealer(KEY).open("msg:wx-b:1", sealed) is None  # bound to its row
    assert Sealer(b"another-key-0123456789").open("msg:wx-a:1", sealed) is None
    assert Sealer(KEY).open("msg:wx-a:1", "not sealed at all") is None


# --- human handoff (hotline/handoff.py): transfer, held messages, kf events, expiry -----------------

HANDOFF_SAID = "好的，正在为您转接人工坐席，请稍候。"
KF = "kf2001@gh_12320nanjing"


def _store(rig: Rig, work):
    engine = make_engine(rig.settings.database_url, create=False)
    try:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            return work(s)
    finally:
        engine.dispose()


def _entry_of(rig: Rig, openid: str) -> int:
    sender = handoff.sender_of(KEY, pseudonym(KEY, openid))
    return _store(rig, lambda s: handoff.open_entry(s, sender).id)


def _script_handoff(rig: Rig, message: str, **kw) -> None:
    """Rasa answers ``message`` as action_human_handoff does: a queue entry made while it answers,
    the statement and the marker."""
    def answer(sender: str) -> list[dict]:
        entry = _store(rig, lambda s: handoff.request(s, handoff.sender_of(KEY, sender), **kw).id)
        return [{"text": HANDOFF_SAID}, {"custom": {"handoff": True, "entry": entry}}]

    rig.rasa.script[message] = answer


def _reply(rig: Rig, body: str) -> dict[str, str]:
    return rig.wechat.read_fields(body)


async def _send(rig: Rig, openid: str, text: str) -> tuple[int, str]:
    return await rig.post(text_xml(openid, text), openid=openid)


async def test_a_handoff_is_a_transfer_after_the_statement_went_out(rig):
    openid = new_openid()
    _script_handoff(rig, "我要转人工")
    status, body = await _send(rig, openid, "我要转人工")
    entry = _entry_of(rig, openid)
    assert status == 200
    reply = _reply(rig, body)
    assert reply["MsgType"] == "transfer_customer_service" and reply["ToUserName"] == openid
    assert "KfAccount" not in reply  # no account chosen: WeChat offers it to every agent
    # The statement went through the customer-service API, to this resident.
    sent = await rig.api.wait_sent(1)
    assert [(m["touser"], m["text"]["content"]) for m in sent] == [(openid, HANDOFF_SAID)]
    row = _store(rig, lambda s: handoff.get(s, entry))
    assert row.channel == handoff.WECHAT and row.reach and openid not in row.reach  # sealed


async def test_a_chosen_customer_service_account_is_named(rig_factory):
    rig = await rig_factory(wechat_kf_account=KF)
    openid = new_openid()
    _script_handoff(rig, "转人工")
    _, body = await _send(rig, openid, "转人工")
    assert _reply(rig, body)["KfAccount"] == KF


async def test_while_a_person_holds_it_the_assistant_stays_out_but_a_crisis_is_answered(rig):
    _statements(rig)
    openid = new_openid()
    _script_handoff(rig, "转人工")
    await _send(rig, openid, "转人工")
    entry = _entry_of(rig, openid)
    asked = len(rig.rasa.received)
    # Waiting: the resident's message is kept for the agent, and the transfer given again.
    _, body = await _send(rig, openid, "我的电话是13912345678，麻烦快点")
    assert _reply(rig, body)["MsgType"] == "transfer_customer_service"
    # Taken in the console: a note that the agent has it (the agent's answer follows through the API).
    _store(rig, lambda s: handoff.take(s, entry, "wang"))
    assert await rig.ask(openid, "还在吗") == HELD_NOTE
    # A crisis: the crisis reply at once, the entry raised.
    crisis_said = await rig.ask(openid, "我真的撑不下去了，不想活了")
    for number in ("12320", "120", "110"):
        assert number in crisis_said
    assert len(rig.rasa.received) == asked  # the assistant saw none of the three
    row = _store(rig, lambda s: handoff.get(s, entry))
    assert row.crisis and row.crisis_at is not None
    lines = _store(rig, lambda s: [(line.who, line.text, line.crisis) for line in handoff.transcript(s, row)])
    assert ("resident", "我的电话是139****5678，麻烦快点", False) in lines  # masked
    assert ("resident", "我真的撑不下去了，不想活了", True) in lines


async def test_wechats_customer_service_session_takes_and_gives_back_the_conversation(rig):
    openid = new_openid()
    _script_handoff(rig, "转人工")
    await _send(rig, openid, "转人工")
    entry = _entry_of(rig, openid)
    kf = message_xml(openid, "event", Event="kf_create_session", KfAccount=KF)
    assert await rig.post(kf, openid=openid) == (200, "success")
    row = _store(rig, lambda s: handoff.get(s, entry))
    assert (row.state, row.agent) == (handoff.TAKEN, KF)
    # A message reaching us meanwhile goes to that agent.
    _, body = await _send(rig, openid, "你好")
    assert _reply(rig, body)["KfAccount"] == KF
    switch = message_xml(openid, "event", Event="kf_switch_session", FromKfAccount=KF,
                         ToKfAccount="kf2002@gh_12320nanjing", create_time=int(time.time()) + 1)
    await rig.post(switch, openid=openid)
    assert _store(rig, lambda s: handoff.get(s, entry)).agent == "kf2002@gh_12320nanjing"
    close = message_xml(openid, "event", Event="kf_close_session", KfAccount="kf2002@gh_12320nanjing",
                        create_time=int(time.time()) + 2)
    assert await rig.post(close, openid=openid) == (200, "success")
    row = _store(rig, lambda s: handoff.get(s, entry))
    assert row.state == handoff.CLOSED and row.reach is None
    # Back to the assistant.
    assert await rig.ask(openid, "鼓楼医院2023年预约量多少") == "收到：鼓楼医院2023年预约量多少"


HELD_NOTE = "您的消息已转给人工坐席，请稍候。"


def _statements(rig: Rig) -> None:
    from knowledge.models import Statement

    def work(s):
        for topic, text in (("human_handoff_timeout", "坐席都在忙，请拨打12320。"),
                            ("human_handoff_closed", "现在不是人工服务时间，请拨打12320。"),
                            ("human_handoff_held", HELD_NOTE),
                            ("crisis_numbers", "请马上拨打12320；有生命危险拨打120；身边有危险拨打110。")):
            s.add(Statement(topic=topic, text=text, source="test"))
    _store(rig, work)


async def test_nobody_takes_it_in_time_and_the_resident_is_told_with_12320(rig_factory):
    rig = await rig_factory(handoff_wait=0.5)
    _statements(rig)
    openid, crisis_openid = new_openid(), new_openid()
    _script_handoff(rig, "转人工")
    await _send(rig, openid, "转人工")
    entry = _entry_of(rig, openid)
    _script_handoff(rig, "我要人工", crisis=True)
    await _send(rig, crisis_openid, "我要人工")
    sent = await rig.api.wait_sent(4, timeout=15)
    told = {m["touser"]: m["text"]["content"] for m in sent if m["text"]["content"] != HANDOFF_SAID}
    assert told[openid] == "坐席都在忙，请拨打12320。"
    assert "12320" in told[crisis_openid] and "120" in told[crisis_openid] and "110" in told[crisis_openid]
    row = _store(rig, lambda s: handoff.get(s, entry))
    assert (row.state, row.closed_by, row.reach) == (handoff.EXPIRED, handoff.TIMEOUT, None)
    # The conversation is the assistant's again.
    assert await rig.ask(openid, "你好") == "收到：你好"


async def test_outside_the_centres_hours_waiting_residents_are_told_it_is_closed(rig_factory):
    from datetime import time as clock_time

    now = datetime.now(timezone(timedelta(hours=8))).time()
    # A window that ended a minute ago and opens in an hour: now is outside it.
    start = (datetime.combine(datetime.today(), now) + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (datetime.combine(datetime.today(), now) - timedelta(minutes=1)).time().replace(second=0, microsecond=0)
    rig = await rig_factory(handoff_hours=(start, end if end != clock_time(0) else clock_time(0, 1)))
    _statements(rig)
    openid = new_openid()
    _script_handoff(rig, "转人工")
    await _send(rig, openid, "转人工")
    sent = await rig.api.wait_sent(2, timeout=15)
    assert sent[-1]["touser"] == openid and sent[-1]["text"]["content"] == "现在不是人工服务时间，请拨打12320。"
