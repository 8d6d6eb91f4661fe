"""The action server over HTTP, in process: Rasa's request in, events and messages out."""
from __future__ import annotations

import socket

import aiohttp
import pytest
from rasa_sdk.endpoint import create_app
from sanic import Sanic


@pytest.fixture
async def action_server(action_store, monkeypatch):
    monkeypatch.setattr(Sanic, "test_mode", True)  # one app per test under the same name
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app("actions")
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.start_serving()
    yield f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


def request(action: str, text: str, intent: str, entities: list, slots: dict | None = None) -> dict:
    """What Rasa 3.6 posts to the action endpoint (rasa/core/actions/action.py RemoteAction)."""
    return {
        "next_action": action,
        "sender_id": "resident-http",
        "version": "3.6.21",
        "domain": {"slots": {}, "responses": {}, "intents": [], "entities": [], "forms": {}},
        "tracker": {
            "sender_id": "resident-http", "slots": slots or {},
            "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.98},
                               "entities": entities, "intent_ranking": []},
            "events": [], "paused": False, "followup_action": None,
            "active_loop": {}, "latest_action_name": "action_listen",
        },
    }


async def test_statistics_over_http(action_server):
    body = request("action_statistics", "鼓楼医院预约量多少", "ask_statistics",
                   [{"entity": "hospital", "value": "南京鼓楼医院"}, {"entity": "measure", "value": "小计"}])
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{action_server}/webhook", json=body) as response:
            assert response.status == 200
            answer = await response.json()
    assert "385480次" in answer["responses"][0]["text"]
    assert {"event": "slot", "timestamp": None, "name": "stats_subject",
            "value": "hospital|南京鼓楼医院"} in answer["events"]


async def test_an_unknown_action_is_a_clear_error(action_server):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{action_server}/webhook",
                             json=request("action_nonexistent", "x", "greet", [])) as response:
            assert response.status == 404
            assert "action_nonexistent" in (await response.json())["error"]
