"""The WeChat gateway's XML handling under bad input, generated (hypothesis), on the real app through
the aiohttp test client (the rig of tests/web/test_wechat.py: loopback fake of Rasa's REST channel that
answers 收到：<message>, callbacks signed and encrypted with wechatpy as WeChat's servers do).

In plain and in safe (AES) mode, correctly signed callbacks carry: random Unicode, control
characters, very long text; malformed and truncated XML, random elements and nesting, DTDs, random
bytes. Always a clear 4xx (400, 403, 413) or a proper reply, never a 500, never an exception in the
log; a well-formed message reaches the assistant exactly once, as sent (nothing lost), and its
answer comes back intact. Example counts are bounded for CI's time (HYPOTHESIS_PROFILE=thorough:
more).
"""
from __future__ import annotations

import logging
import os

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from test_wechat import Rig, rig_factory  # noqa: F401 - the fixture, shared with the gateway's tests
from wechat_fake import ACCOUNT, cdata, message_xml, new_msg_id, new_openid, text_xml
from safety.replies import checkin_reply, crisis_reply
from web.wechat import messages
from web.wechat.protocol import MAX_BODY

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
FUZZ = settings(max_examples=300 if THOROUGH else 40, deadline=None, derandomize=not THOROUGH,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
MODES = pytest.mark.parametrize("aes", [False, True], ids=["plain", "safe"])
CLEAR_REFUSALS = {400, 403, 413}

# What XML 1.0 can carry (WeChat's XML never holds anything else): any Unicode but surrogates and
# the control characters XML forbids. Tab, newline, carriage return and C1 controls stay.
XML_CHARS = st.characters(codec="utf-8", exclude_categories=["Cs"],
                          exclude_characters="".join(map(chr, [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20),
                                                               0xFFFE, 0xFFFF])))
ANY_CHARS = st.characters(codec="utf-8", exclude_categories=["Cs"])
CONTENT = st.one_of(
    st.text(XML_CHARS, min_size=1, max_size=200),
    st.text(st.sampled_from(list("鼓楼医院投诉挂号]]><>&\"'\t\r\n 　\u200b\x85\u2028１２3")), min_size=1, max_size=40),
    # Very long: up to what still fits the body limit encrypted (base64 adds a third).
    st.builds(lambda chunk, n: (chunk * n)[:12_000], st.text(XML_CHARS, min_size=1, max_size=8),
              st.integers(500, 12_000)),
)
NAMES = st.sampled_from(["xml", "ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId",
                         "Event", "Encrypt", "Recognition", "a", "x-y", "中文"])


@st.composite
def element(draw, depth: int = 0) -> str:
    """A random XML element: known and unknown names, text, CDATA, children, attributes."""
    name = draw(NAMES)
    attrs = "".join(f' a{i}="{v}"' for i, v in enumerate(draw(st.lists(st.sampled_from(["1", "&amp;", "x y"]),
                                                                         max_size=2))))
    if depth >= 4 or draw(st.booleans()):
        body = draw(st.one_of(st.text(XML_CHARS, max_size=30).map(lambda t: t.replace("<", "&lt;").replace("&", "&amp;")),
                              st.text(XML_CHARS, max_size=30).map(cdata), st.integers().map(str)))
    else:
        body = "".join(draw(st.lists(element(depth + 1), max_size=4)))
    return f"<{name}{attrs}>{body}</{name}>"


# Generated bodies say OPENID and MSGID; each example gets a new OpenID and MsgId for them (drawn
# outside hypothesis, which needs generation to be repeatable; a MsgId seen before is WeChat
# retrying: the same answer, not asked again).
OPENID, MSGID, NOW = "OPENID", "MSGID", "1700000000"


def fill(body: bytes, openid: str) -> bytes:
    return body.replace(OPENID.encode(), openid.encode()).replace(MSGID.encode(), str(new_msg_id()).encode())


def message_fields() -> st.SearchStrategy[str]:
    """A message with WeChat's fields, some missing, repeated, of the wrong type, or random."""
    field = st.sampled_from([
        f"<ToUserName>{cdata(ACCOUNT)}</ToUserName>", f"<FromUserName>{cdata(OPENID)}</FromUserName>",
        f"<CreateTime>{NOW}</CreateTime>", "<CreateTime>soon</CreateTime>",
        "<MsgType>text</MsgType>", "<MsgType>event</MsgType>", "<MsgType><![CDATA[voice]]></MsgType>",
        "<MsgType>无</MsgType>", "<Content>你好</Content>", "<Content/>", f"<MsgId>{MSGID}</MsgId>",
        f"<MsgId>-{MSGID}</MsgId>", "<MsgId>1e99</MsgId>", "<Event>subscribe</Event>", "<Event>CLICK</Event>",
        "<Recognition></Recognition>", "<FromUserName>o'1\"<</FromUserName>",
        f"<FromUserName>{'o' * 200}</FromUserName>", "<FromUserName><a>o1</a></FromUserName>",
    ])
    return st.lists(st.one_of(field, element()), max_size=10).map(lambda parts: "<xml>" + "".join(parts) + "</xml>")


@st.composite
def bad_body(draw) -> bytes:
    """What a broken or hostile sender might put in a correctly signed callback."""
    kind = draw(st.sampled_from(["fields", "element", "truncated", "deep", "doctype", "bytes", "text",
                                 "controls", "encoding"]))
    event(f"body: {kind}")
    if kind == "fields":
        return draw(message_fields()).encode("utf-8")
    if kind == "element":
        return draw(element()).encode("utf-8")
    if kind == "truncated":
        whole = text_xml(OPENID, draw(CONTENT), create_time=int(NOW), msg_id=MSGID).encode("utf-8")
        return whole[:draw(st.integers(0, len(whole) - 1))]
    if kind == "deep":  # nesting as deep as the body limit allows
        depth = draw(st.integers(100, 6_000))
        return ("<xml>" + "<a>" * depth + "x" + "</a>" * depth + "</xml>").encode("utf-8")
    if kind == "doctype":
        decl = draw(st.sampled_from(['<!DOCTYPE xml [<!ENTITY e "x">]>', '<!DOCTYPE xml SYSTEM "file:///etc/passwd">',
                                     '<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:1/">%p;]>']))
        return (decl + text_xml(OPENID, "&e;", create_time=int(NOW), msg_id=MSGID)).encode("utf-8")
    if kind == "bytes":
        return draw(st.binary(max_size=2_000))
    if kind == "text":
        return draw(st.text(ANY_CHARS, max_size=500)).encode("utf-8")
    if kind == "controls":  # characters XML cannot carry, inside an otherwise good message
        content = draw(st.text(st.characters(codec="utf-8", categories=["Cc"]), min_size=1, max_size=20))
        return text_xml(OPENID, "你好" + content, create_time=int(NOW), msg_id=MSGID).encode("utf-8")
    # Declared and actual encodings disagree, a byte-order mark, UTF-16.
    xml = text_xml(OPENID, draw(CONTENT), create_time=int(NOW), msg_id=MSGID)
    return draw(st.sampled_from([
        ('<?xml version="1.0" encoding="GBK"?>' + xml).encode("utf-8"), ("\ufeff" + xml).encode("utf-8"),
        xml.encode("utf-16"), ('<?xml version="1.0" encoding="UTF-16"?>' + xml).encode("utf-8")]))


class Errors(logging.Handler):
    """Every ERROR (an exception in a handler, aiohttp's 'Error handling request') while it is on."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def rig_of(rig_factory):
    """The test's rig, made on its first example: hypothesis runs all the examples of a test within
    one call of its fixtures, so the app and its store are shared by them (as WeChat's callbacks
    share one running gateway)."""
    made: dict[bool, Rig] = {}

    async def get(aes: bool) -> Rig:
        if aes not in made:
            made[aes] = await rig_factory(aes=aes)
        return made[aes]

    return get


@pytest.fixture
def errors():
    handler = Errors()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def _no_exception(errors: Errors) -> None:
    assert not errors.records, [r.getMessage() + (f"\n{r.exc_text or ''}") for r in errors.records]


async def _reply(rig: Rig, status: int, body: str) -> str | None:
    """The passive reply's content (None for ``success``); fails on anything but 200 or a clear 4xx."""
    assert status == 200 or status in CLEAR_REFUSALS, (status, body[:300])
    if status != 200:
        assert body and len(body) < 200 and "Traceback" not in body, body[:300]  # the reason, briefly
        return None
    if body == "success":
        return None
    reply = rig.wechat.read_reply(body)  # well-formed, signed and decryptable, as WeChat checks it
    assert reply.type == "text" and reply.content, body[:300]
    return reply.content


@MODES
@FUZZ
@given(content=CONTENT)
async def test_any_text_is_answered_and_reaches_the_assistant_as_sent(rig_of, errors, aes, content):
    rig = await rig_of(aes)
    openid = new_openid()
    seen = len(rig.rasa.received)
    status, body = await rig.post(text_xml(openid, content, msg_id=new_msg_id()), openid=openid)
    answer = await _reply(rig, status, body)
    # As WeChat's XML carries it: line ends normalised by the parser; the ends stripped.
    said = content.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not said:
        assert answer == messages.PLEASE_TYPE and len(rig.rasa.received) == seen
    else:
        assert status == 200, body[:300]
        assert [m for _, m in rig.rasa.received[seen:]] == [said]  # once, unchanged
        # The assistant's answer, unchanged; behind the crisis reply when the crisis detector flags
        # the text (the gateway makes sure a crisis is answered, web/wechat/gateway.py).
        crisis_replies = ("", f"{crisis_reply().text}\n\n", f"{checkin_reply().text}\n\n")
        assert answer in {f"{before}收到：{said}" for before in crisis_replies}
    _no_exception(errors)


@MODES
@FUZZ
@given(data=st.data())
async def test_a_bad_body_is_a_clear_4xx_or_a_proper_reply(rig_of, errors, aes, data):
    rig = await rig_of(aes)
    openid = new_openid()
    body = fill(data.draw(bad_body()), openid)
    seen = len(rig.rasa.received)
    query, payload = rig.wechat.callback(body, openid=openid)  # signed (and encrypted) as WeChat would
    assume(len(payload) <= MAX_BODY or not aes)
    resp = await rig.client.post("/wechat", params=query, data=payload)
    text = await resp.text()
    event(f"HTTP {resp.status}: {text[:40] if resp.status != 200 else 'reply'}")  # --hypothesis-show-statistics
    answer = await _reply(rig, resp.status, text)
    if answer is not None and answer != messages.PLEASE_TYPE:
        # It was a message after all (random fields can make one): asked once, answered with it.
        assert len(rig.rasa.received) == seen + 1
        assert answer == f"收到：{rig.rasa.received[-1][1]}" or rig.rasa.received[-1][1] == "/greet"
    else:
        assert len(rig.rasa.received) == seen
    _no_exception(errors)


@MODES
@settings(FUZZ, max_examples=60 if THOROUGH else 20)
@given(raw=st.one_of(st.binary(max_size=3_000), st.text(ANY_CHARS, max_size=3_000).map(str.encode)),
       query=st.dictionaries(st.sampled_from(["signature", "timestamp", "nonce", "openid", "encrypt_type",
                                              "msg_signature", "echostr", "x"]),
                             st.text(ANY_CHARS, max_size=50), max_size=6))
async def test_an_unsigned_callback_is_refused_whatever_it_holds(rig_of, errors, aes, raw, query):
    rig = await rig_of(aes)
    resp = await rig.client.post("/wechat", params=query, data=raw)
    assert resp.status in (403, 413), (resp.status, (await resp.text())[:300])
    resp = await rig.client.get("/wechat", params=query)
    assert resp.status in (400, 403), (resp.status, (await resp.text())[:300])
    assert rig.rasa.received == []
    _no_exception(errors)


async def test_the_gateway_still_answers_after_the_fuzzing(rig_factory, errors):
    # One rig, every kind of bad body in turn, then an ordinary message: nothing was left broken.
    rig = await rig_factory(aes=True)
    openid = new_openid()
    for body in [b"", b"\xff\xfe\x00", b"<xml>" * 5000, ("<xml>" + "<a>" * 6000 + "</a>" * 6000 + "</xml>").encode(),
                 text_xml(openid, "你好")[:-7].encode(), message_xml(openid, "text", Content="\x00").encode()]:
        query, payload = rig.wechat.callback(body, openid=openid)
        resp = await rig.client.post("/wechat", params=query, data=payload)
        assert resp.status in CLEAR_REFUSALS, (resp.status, await resp.text())
    assert await rig.ask(openid, "鼓楼医院怎么预约") == "收到：鼓楼医院怎么预约"
    _no_exception(errors)


