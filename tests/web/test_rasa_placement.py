"""The default shape's Rasa servers share no conversations (web/rasa.py Placement): each sender stays on
one, and a resident whose conversation had to move is told so before the answer, once.

Two small servers on loopback speak the REST channel's protocol (a list of messages) and say which
server answered; one is stopped and started again as a Rasa process would be."""
from __future__ import annotations

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from web import rasa


async def _server(name: str, port: int | None = None) -> TestServer:
    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "text": f"{name}: {body['message']}"}])

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa")

    app = web.Application()
    app.router.add_post(rasa.WEBHOOK, webhook)
    app.router.add_get("/", hello)
    server = TestServer(app, port=port) if port else TestServer(app)
    await server.start_server()
    return server


def _texts(replies: list[rasa.Reply]) -> list[str]:
    return [r.text for r in replies]


async def test_a_conversation_that_moves_is_told_once_and_one_that_stays_is_not():
    a, b = await _server("A"), await _server("B")
    urls = [str(a.make_url("")).rstrip("/"), str(b.make_url("")).rstrip("/")]
    placement = rasa.Placement()
    try:
        async with aiohttp.ClientSession() as http:
            sender = next(f"r{i}" for i in range(100) if rasa.route(urls, f"r{i}")[0] == urls[0])
            first = await rasa.ask(http, urls, sender, "我要投诉", placement=placement)
            assert _texts(first) == ["A: 我要投诉"]
            again = await rasa.ask(http, urls, sender, "鼓楼医院", placement=placement)
            assert _texts(again) == ["A: 鼓楼医院"]  # the same server: nothing to tell

            port = a.port
            await a.close()  # its server dies: the conversation moves to B, which never saw it
            moved = await rasa.ask(http, urls, sender, "昨天下午", placement=placement)
            assert _texts(moved) == [rasa.CONVERSATION_MOVED, "B: 昨天下午"]
            assert moved[0].custom == {"conversation_moved": True}
            stays = await rasa.ask(http, urls, sender, "13912345678", placement=placement)
            assert _texts(stays) == ["B: 13912345678"]  # told once, not at every message

            a = await _server("A", port)  # back, with nothing in memory: the sender goes home, told again
            await rasa.probe(http, urls, placement)  # seen up again
            home = await rasa.ask(http, urls, sender, "确认", placement=placement)
            assert _texts(home) == [rasa.CONVERSATION_MOVED, "A: 确认"]

            # A new resident is told nothing, and without a placement (shared conversations) nobody is.
            assert _texts(await rasa.ask(http, urls, "someone new", "你好", placement=placement))[0] != rasa.CONVERSATION_MOVED
            assert rasa.CONVERSATION_MOVED not in _texts(await rasa.ask(http, urls, sender, "你好"))
    finally:
        await a.close()
        await b.close()


async def test_a_restart_between_two_messages_is_noticed_by_the_probe():
    """Nobody wrote while the server was down: the probe saw it go, the next answer says so."""
    a = await _server("A")
    url = str(a.make_url("")).rstrip("/")
    placement = rasa.Placement()
    try:
        async with aiohttp.ClientSession() as http:
            assert _texts(await rasa.ask(http, [url], "r", "我要投诉", placement=placement)) == ["A: 我要投诉"]
            port = a.port
            await a.close()
            await rasa.probe(http, [url], placement)
            a = await _server("A", port)
            await rasa.probe(http, [url], placement)
            assert _texts(await rasa.ask(http, [url], "r", "鼓楼医院", placement=placement)) == [
                rasa.CONVERSATION_MOVED, "A: 鼓楼医院"]
    finally:
        await a.close()


def test_an_old_conversation_is_not_told_and_memory_stays_bounded():
    now = [0.0]
    placement = rasa.Placement(recent_for=60.0, max_senders=2, clock=lambda: now[0])
    assert not placement.moved("r", "http://a")
    now[0] = 120.0
    assert not placement.moved("r", "http://b")  # after the session: a new conversation anyway
    placement.moved("s", "http://a")
    placement.moved("t", "http://a")
    assert not placement.moved("r", "http://a")  # r was forgotten (the oldest of three)


async def test_a_dropped_connection_is_asked_again_on_the_same_server_and_nothing_moves():
    """A kept-alive connection found closed (the request never reached the server) is no sign the
    server is gone: its conversations stay with it, and the resident is told nothing."""
    drops = {"left": 2}

    async def webhook(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if drops["left"]:
            drops["left"] -= 1
            request.transport.close()  # the connection closes with no answer
            return web.Response()
        return web.json_response([{"recipient_id": body["sender"], "text": f"home: {body['message']}"}])

    app = web.Application()
    app.router.add_post(rasa.WEBHOOK, webhook)
    home, other = TestServer(app), await _server("other")
    await home.start_server()
    urls = [str(home.make_url("")).rstrip("/"), str(other.make_url("")).rstrip("/")]
    sender = next(s for s in (f"r{i}" for i in range(100)) if rasa.route(urls, s)[0] == urls[0])
    placement = rasa.Placement()
    try:
        async with aiohttp.ClientSession() as http:
            drops["left"] = 0
            assert _texts(await rasa.ask(http, urls, sender, "我要投诉", placement=placement)) == ["home: 我要投诉"]
            drops["left"] = 2
            assert _texts(await rasa.ask(http, urls, sender, "鼓楼医院", placement=placement)) == ["home: 鼓楼医院"]
            assert placement.moved(sender, urls[0]) is False  # still the same server, in the same life
    finally:
        await home.close()
        await other.close()


async def test_a_server_seen_down_while_starting_gets_its_conversations_once_it_answers():
    """The probe saw a server down (still loading its model); as soon as it answers, its residents'
    messages go to it, not to the other server for a while and back (two fresh starts)."""
    a, b = await _server("A"), await _server("B")
    urls = [str(a.make_url("")).rstrip("/"), str(b.make_url("")).rstrip("/")]
    sender = next(f"r{i}" for i in range(100) if rasa.route(urls, f"r{i}")[0] == urls[0])
    placement = rasa.Placement()
    try:
        async with aiohttp.ClientSession() as http:
            port = a.port
            await a.close()
            await rasa.probe(http, urls, placement)  # A is down (starting)
            a = await _server("A", port)  # up, before the probe looks again
            assert _texts(await rasa.ask(http, urls, sender, "我要投诉", placement=placement)) == ["A: 我要投诉"]
            assert _texts(await rasa.ask(http, urls, sender, "鼓楼医院", placement=placement)) == ["A: 鼓楼医院"]
    finally:
        await a.close()
        await b.close()
