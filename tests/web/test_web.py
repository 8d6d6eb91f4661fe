"""The app (web/) on its own: /healthz, the call-log consumer's loop, the event broker's URL.
The running system as a whole is tested in tests/e2e."""
from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.orm import Session

from database.engine import make_engine
from knowledge.names import load_reference
from hotline.settings import Settings
from knowledge.ingest import ingest
from web.app import create_app
from web.calllog import CallLogTask
from web.keys import CALL_LOG, ENGINE
from launcher.stack import event_broker_url, free_ports


@pytest.fixture
def store_url(tmp_path, parsed_2023, parsed_2019) -> str:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    engine = make_engine(url, create=True)
    with Session(engine) as session, session.begin():
        for parsed in (parsed_2023, parsed_2019):
            ingest(session, parsed, load_reference())
    engine.dispose()
    return url


def _settings(url: str, tmp_path, rasa_url: str) -> Settings:
    return Settings(database_url=url, var_dir=tmp_path, rasa_url=rasa_url,
                    secret_key_env=b"k" * 32)


async def _client(app: web.Application) -> TestClient:
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_healthz_counts_bulletins_and_says_rasa_is_down(store_url, tmp_path):
    (closed,) = free_ports(1)
    client = await _client(create_app(_settings(store_url, tmp_path, f"http://127.0.0.1:{closed}")))
    try:
        resp = await client.get("/healthz")
        body = await resp.json()
    finally:
        await client.close()
    assert resp.status == 200
    assert body["status"] == "ok" and body["store"] == 2 and body["rasa"] is False


async def test_healthz_sees_rasa(store_url, tmp_path):
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21")

    rasa = web.Application()
    rasa.router.add_get("/", hello)
    fake_rasa = await _client(rasa)
    client = await _client(create_app(_settings(store_url, tmp_path, str(fake_rasa.make_url("")).rstrip("/"))))
    try:
        body = await (await client.get("/healthz")).json()
    finally:
        await client.close()
        await fake_rasa.close()
    assert body["rasa"] is True


async def test_healthz_is_503_when_the_store_does_not_answer(store_url, tmp_path):
    (closed,) = free_ports(1)
    app = create_app(_settings(store_url, tmp_path, f"http://127.0.0.1:{closed}"))
    client = await _client(app)
    try:
        with app[ENGINE].begin() as conn:
            conn.execute(text("alter table bulletin rename to bulletin_gone"))
        resp = await client.get("/healthz")
        body = await resp.json()
    finally:
        await client.close()
    assert resp.status == 503
    # The error's type and place, never its text (a store error's text may quote what was written).
    assert body["status"] == "error" and body["store"].startswith("OperationalError")
    assert "bulletin" not in body["store"] and "no such table" not in body["store"]


async def test_the_app_runs_the_consumer_and_stops_it(store_url, tmp_path):
    (closed,) = free_ports(1)
    app = create_app(_settings(store_url, tmp_path, f"http://127.0.0.1:{closed}"))
    client = await _client(app)
    try:
        for _ in range(50):
            if app[CALL_LOG].rounds:
                break
            await asyncio.sleep(0.1)
        assert app[CALL_LOG].state["state"] == "ok", app[CALL_LOG].state  # hotline.calllog, for real
    finally:
        await client.close()
    assert app[CALL_LOG]._task.done()


async def test_consumer_logs_errors_once_and_keeps_going(caplog):
    calls = []

    def consume(engine, settings):
        calls.append(1)
        if len(calls) <= 3:
            raise RuntimeError("database is locked")
        return 0

    consumer = CallLogTask(None, None, interval=0.01, consume=consume)
    with caplog.at_level(logging.INFO, logger="web.calllog"):
        consumer.start()
        for _ in range(200):
            if len(calls) > 4:
                break
            await asyncio.sleep(0.01)
        await consumer.stop()
    failures = [r for r in caplog.records if "round failed" in r.getMessage()]
    assert len(failures) == 1  # the same error three times: logged once
    assert any("working again after 3 failed rounds" in r.getMessage() for r in caplog.records)
    assert consumer.state["state"] == "ok"


async def test_stopping_waits_for_the_round_in_progress():
    finished = []

    def slow(engine, settings):
        import time
        time.sleep(0.3)
        finished.append(1)

    consumer = CallLogTask(None, None, interval=0.01, consume=slow)
    consumer.start()
    await asyncio.sleep(0.05)
    await consumer.stop()
    assert finished == [1]  # the round ran to its end (its transaction committed) before stop returned


def test_event_broker_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert event_broker_url("sqlite:///var/hotline.db") == f"sqlite:///{tmp_path}/var/hotline.db?timeout=30"
    assert event_broker_url("sqlite:////srv/h.db") == "sqlite:////srv/h.db?timeout=30"
    assert (event_broker_url("postgresql+psycopg://u:p@127.0.0.1:5432/hotline")
            == "postgresql://u:p@127.0.0.1:5432/hotline")
    with pytest.raises(ValueError):
        event_broker_url("sqlite://")


def test_make_run_says_where_agents_and_residents_reach_it(tmp_path):
    from launcher.stack import Stack
    from launcher.supervise import _banner

    plain = _banner(Stack(Settings(database_url=f"sqlite:///{tmp_path}/s.db", var_dir=tmp_path), app_port=8088))
    assert "http://localhost:8088/console/" in plain and "hotline agent add" in plain
    assert "set WECHAT_TOKEN" in plain
    wechat = _banner(Stack(Settings(database_url=f"sqlite:///{tmp_path}/s.db", var_dir=tmp_path,
                                    wechat_token="token"), app_port=8088))
    assert "http://localhost:8088/wechat" in wechat and "set WECHAT_TOKEN" not in wechat


async def test_the_app_deletes_expired_complaint_phones_on_its_own(store_url, tmp_path, monkeypatch):
    """A phone a complaint form kept and nobody used (a form broken off) goes when it expires, without
    waiting for another complaint; one still in use stays."""
    from datetime import timedelta

    from sqlalchemy import select

    import web.app
    from hotline import contacts
    from hotline.models import PendingContact

    engine = make_engine(store_url, create=False)
    with Session(engine) as session, session.begin():
        stale = contacts.keep(session, "13912345678", lifetime=timedelta(minutes=-1))
        live = contacts.keep(session, "13812345678", lifetime=timedelta(minutes=120))
    monkeypatch.setattr(web.app, "CONTACTS_PURGE_EVERY", 0.1)
    (closed,) = free_ports(1)
    client = await _client(create_app(_settings(store_url, tmp_path, f"http://127.0.0.1:{closed}")))
    try:
        for _ in range(50):
            with Session(engine) as session:
                refs = set(session.scalars(select(PendingContact.ref)))
            if stale not in refs:
                break
            await asyncio.sleep(0.1)
        assert stale not in refs and live in refs
    finally:
        await client.close()
        engine.dispose()
