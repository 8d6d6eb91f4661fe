"""The default shape's Rasa servers, one per core, each keeping its conversations in its own memory:
the app keeps each resident on one, and when that one dies the resident's next message is answered by
another, the polite note first (web/rasa.py Placement), through /wechat as residents reach it.

A second Rasa server (the same model, endpoints and in-memory stores as the system's) and a second app
process (WeChat plain mode) that spreads conversations over both are started here; the second Rasa
server is killed with SIGKILL, as a crash would."""
from __future__ import annotations

import signal
import sys
import time
from typing import Iterator

import aiohttp
import pytest

from launcher import processes
from launcher.stack import HOST, Service, free_ports
from web import rasa
from web.wechat.gateway import pseudonym
from wechat_fake import WechatServer, new_openid, text_xml

pytestmark = pytest.mark.e2e


def _wait(service: Service, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not service.answers():
        if service.exited() is not None or time.monotonic() > deadline:
            pytest.fail(f"{service.name} did not start:\n{service.log_tail()}")
        time.sleep(0.5)


def _stop(service: Service) -> None:
    service.signal(signal.SIGTERM)
    if service.process is not None:
        service.process.wait(20)
    service.close_log()


@pytest.fixture(scope="module")
def spread(system) -> Iterator[tuple[str, Service, list[str]]]:
    """(the second app's URL, the second Rasa server, both servers' URLs)."""
    rasa_port, app_port = free_ports(2)
    first = system.stack.service(processes.RASA.name)
    argv = list(first.argv)  # the same model, endpoints and credentials, on another port
    argv[argv.index("--port") + 1] = str(rasa_port)
    second = Service("Rasa server 2", argv, dict(first.env),
                     processes.RASA.health_url(rasa_port), system.var_dir / "log" / "rasa-2.log")
    urls = [system.rasa_url, processes.RASA.url(rasa_port)]
    env = {**system.stack.base_env, "PYTHONUNBUFFERED": "1", "HOTLINE_APP_HOST": HOST,
           "HOTLINE_APP_PORT": str(app_port), "HOTLINE_RASA_URL": urls[0], "HOTLINE_RASA_URLS": ",".join(urls)}
    env.pop("WECHAT_AES_KEY")
    app = Service("app (two Rasa servers)", processes.with_python(processes.app_argv(), sys.executable), env,
                  processes.APP.health_url(app_port), system.var_dir / "log" / "app-spread.log")
    second.start()
    try:
        _wait(second, 300)
        app.start()
        try:
            _wait(app, 60)
            yield f"http://{HOST}:{app_port}", second, urls
        finally:
            _stop(app)
    finally:
        _stop(second)


async def _ask(url: str, wechat: WechatServer, openid: str, text: str) -> str:
    query, body = wechat.callback(text_xml(openid, text), openid=openid)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        async with http.post(url + "/wechat", params=query, data=body) as resp:
            answer = await resp.text()
    assert resp.status == 200 and answer != "success", answer
    return wechat.read_reply(answer).content


async def test_a_resident_whose_rasa_server_dies_is_told_and_answered_by_the_other(system, spread):
    app_url, second, urls = spread
    wechat = WechatServer(system.settings.wechat_token, system.settings.wechat_appid)
    # Warm the second server up (TensorFlow's first call takes seconds), not through WeChat.
    async with aiohttp.ClientSession() as http:
        await rasa.ask(http, urls[1], "warm-up", "你好", timeout=120)
    # A resident whose conversation the app keeps on the second server.
    openid = next(o for o in (new_openid() for _ in range(200))
                  if rasa.route(urls, pseudonym(system.settings.secret_key, o))[0] == urls[1])
    started = await _ask(app_url, wechat, openid, "我要投诉")
    assert rasa.CONVERSATION_MOVED not in started
    assert rasa.CONVERSATION_MOVED not in await _ask(app_url, wechat, openid, "鼓楼医院")

    second.signal(signal.SIGKILL)
    second.process.wait(10)
    moved = await _ask(app_url, wechat, openid, "挂号窗口的工作人员态度很差")
    assert moved.startswith(rasa.CONVERSATION_MOVED), moved
    assert len(moved) > len(rasa.CONVERSATION_MOVED) + 4, moved  # and the other server's answer after it
    # Told once: the conversation goes on where it now lives.
    assert rasa.CONVERSATION_MOVED not in await _ask(app_url, wechat, openid, "你好")
