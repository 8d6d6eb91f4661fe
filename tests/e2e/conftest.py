"""End-to-end fixture: the real running system, started once per test session.

``system`` (session scope) builds a fresh knowledge store with ``hotline ingest`` from the seed
bulletins in a temporary HOTLINE_VAR_DIR (SQLite), then starts the three real processes on free
loopback ports, exactly as ``make run`` does (launcher/stack.py): the action server (.venv), the Rasa
server with models/current.tar.gz (.venv-rasa, REST channel, event broker into that store) and our
app (web/, with its call-log consumer). It waits until each answers (Rasa loads the model: about a
minute on two cores), and stops all three at the end of the session, also after failures (and the
kernel kills them if pytest itself dies). Without a trained model it fails: run ``make model`` first
(``make test-app`` trains it when missing or stale).

API of the object it yields (``RunningSystem``)::

    async def test_something(system):
        sender = system.new_sender()                   # a conversation no other test touches
        replies = await system.send(sender, "你好")     # POST /webhooks/rest/webhook → list of dicts:
        # [{"recipient_id": sender, "text": "...", "buttons": [{"title", "payload"}], "custom": {...}}]
        text = system.text(replies)                    # every "text" of the replies, joined by "\n"
        status, body = await system.get("/healthz")    # GET on our app: (HTTP status, JSON or text)
        rows = await system.eventually(lambda session: ..., timeout=5)
        # ^ calls the function with a fresh SQLAlchemy Session on the store every 0.2 s until it
        #   returns something truthy (returned), else fails the test showing the last value

    system.engine        # SQLAlchemy 2 Engine on the store the three processes share
    system.database_url  # its URL (sqlite:///<tmp>/hotline.db)
    system.settings      # hotline.settings.Settings the processes were started with
    system.var_dir       # the temporary HOTLINE_VAR_DIR (store, logs under log/)
    system.rasa_url, system.actions_url, system.app_url   # http://127.0.0.1:<port>
    system.logs          # {"action server": Path, "Rasa server": Path, "app": Path}
    system.log_tail("action server", 30)   # the end of one, for assertion messages
    system.startup       # seconds until each answered, and "fixture": the whole start (store too)

Rasa keeps every conversation (tracker, in memory) for the whole session: use ``new_sender()`` in
each test so forms and slots of one test never leak into another.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import aiohttp
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from database.engine import make_engine
from hotline.settings import Settings
from launcher.stack import MODEL, Stack, StartupError, free_ports

START_TIMEOUT = float(os.environ.get("HOTLINE_START_TIMEOUT", 300))
SEND_TIMEOUT = 60.0  # seconds for one message (the first one warms TensorFlow up)


@dataclass
class RunningSystem:
    settings: Settings
    engine: Engine
    stack: Stack
    startup: dict[str, float] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    @property
    def var_dir(self) -> Path:
        return self.settings.var_dir

    @property
    def rasa_url(self) -> str:
        return self.stack.rasa_url

    @property
    def actions_url(self) -> str:
        return self.stack.actions_url

    @property
    def app_url(self) -> str:
        return self.stack.app_url

    @property
    def logs(self) -> dict[str, Path]:
        return {s.name: s.log_path for s in self.stack.services}

    def log_tail(self, name: str, lines: int = 30) -> str:
        """The end of a process's log ("action server", "Rasa server", "app"), for failure messages."""
        return next(s.log_tail(lines) for s in self.stack.services if s.name == name)

    @staticmethod
    def new_sender(prefix: str = "e2e") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    async def send(self, sender: str, message: str) -> list[dict[str, Any]]:
        """One user message through Rasa's REST channel; the assistant's replies."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT)) as http:
            async with http.post(f"{self.rasa_url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": message}) as resp:
                body = await resp.text()
                assert resp.status == 200, f"REST channel answered {resp.status}: {body[:500]}"
                return json.loads(body)

    def send_now(self, sender: str, message: str) -> list[dict[str, Any]]:
        """``send`` for synchronous tests (a real browser's): the same message, the same replies."""
        request = urllib.request.Request(f"{self.rasa_url}/webhooks/rest/webhook", method="POST",
                                         data=json.dumps({"sender": sender, "message": message}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as resp:
            return json.load(resp)

    @staticmethod
    def text(replies: list[dict[str, Any]]) -> str:
        return "\n".join(r["text"] for r in replies if r.get("text"))

    async def get(self, path: str) -> tuple[int, Any]:
        """GET on our app; the body as JSON when it is JSON."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            async with http.get(self.app_url + path) as resp:
                if resp.content_type == "application/json":
                    return resp.status, await resp.json()
                return resp.status, await resp.text()

    async def eventually(self, check: Callable[[Session], Any], timeout: float = 5.0,
                         interval: float = 0.2) -> Any:
        """``check(session)`` until it returns something truthy (the consumer runs every 0.5 s)."""
        deadline = time.monotonic() + timeout
        while True:
            with Session(self.engine) as session:
                result = await asyncio.to_thread(check, session)
            if result or time.monotonic() > deadline:
                break
            await asyncio.sleep(interval)
        assert result, f"still {result!r} after {timeout} s"
        return result


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "e2e: needs the running system (deselect with -m 'not e2e')")


def _ingest(database_url: str, seeds: list[Path]) -> None:
    hotline = Path(sys.executable).with_name("hotline")
    done = subprocess.run([str(hotline), "--database-url", database_url, "ingest", *map(str, seeds)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"hotline ingest failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _wechat_env() -> dict[str, str]:
    """The app's WeChat gateway (tests/e2e/test_wechat_e2e.py) in safe mode, with a token and AES key
    made for this run; its customer-service API is a loopback port where a test may start the fake
    (tests/wechat_fake.py). ``system.settings.wechat_*`` holds them for the tests."""
    import base64
    import secrets

    (api_port,) = free_ports(1)
    return {"WECHAT_TOKEN": secrets.token_hex(16), "WECHAT_APPID": "wx5c9f0e1d2b3a4c5d",
            "WECHAT_AES_KEY": base64.b64encode(secrets.token_bytes(32)).decode("ascii")[:-1],
            "WECHAT_SECRET": secrets.token_hex(16), "WECHAT_API_URL": f"http://127.0.0.1:{api_port}"}


@pytest.fixture(scope="session")
def system(tmp_path_factory, seeds) -> Iterator[RunningSystem]:
    started = time.monotonic()
    if not MODEL.is_file():
        pytest.fail(f"no trained model at {MODEL}: run make model first")
    var_dir = tmp_path_factory.mktemp("var")
    env = {**os.environ, "HOTLINE_VAR_DIR": str(var_dir),
           "DATABASE_URL": f"sqlite:///{var_dir / 'hotline.db'}", **_wechat_env()}
    settings = Settings.from_env(env)
    _ingest(settings.database_url, seeds)
    actions_port, rasa_port, app_port = free_ports(3)
    stack = Stack(settings, actions_port=actions_port, rasa_port=rasa_port, app_port=app_port, base_env=env)
    engine = make_engine(settings.database_url, create=False)
    try:
        stack.start()
        startup = stack.wait_ready(START_TIMEOUT)
        startup["fixture"] = time.monotonic() - started  # store, processes, readiness
        yield RunningSystem(settings, engine, stack, startup)
    except StartupError as exc:
        pytest.fail(f"the running system did not start: {exc}")
    finally:
        stack.stop()
        engine.dispose()
