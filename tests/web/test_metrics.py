"""GET /metrics on the real app (web/metrics.py, docs/metrics.md): driven through /wechat (a fake Rasa and a
fake customer-service API, as tests/web/test_wechat.py), the console's lookup box and the call log, then
scraped and read back with prometheus_client's own parser: every counter moved by exactly what was sent,
the histograms hold the requests, every label value is one of its fixed set, and no message, OpenID or
pseudonym is in the scrape."""
from __future__ import annotations

import asyncio
import json
import math
import time
import uuid

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert
from sqlalchemy.orm import Session

from database.engine import make_engine
from hotline import agents, handoff, taxonomy
from hotline.calllog import CHANNELS
from hotline.models import events
from safety.replies import checkin_reply, crisis_reply
from test_console import Console
import test_wechat
from test_wechat import FAST, KEY, FakeRasa, Rig, _fast_claims
from wechat_fake import new_openid, text_xml
from web import metrics as m
from web.app import create_app
from web.keys import CALL_LOG, METRICS
from web.wechat.gateway import pseudonym

CRISIS = "我不想活了，今晚就结束"  # the gateway's detector: the full protocol (tests/web/test_wechat.py)
HOPELESS = "活着真没意思"  # a possible crisis: the check-in
AGENT, PASSWORD = "zhaoliu", "correct horse battery"
rig_factory = test_wechat.rig_factory  # the fixture: the real app, a fake Rasa and WeChat API


def scrape_of(text: str) -> dict[str, dict[tuple, float]]:
    """{sample name: {sorted label pairs: value}} of a scrape, read by prometheus_client's parser."""
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


async def scrape(client, **kw) -> tuple[str, dict[str, dict[tuple, float]]]:
    resp = await client.get("/metrics", **kw)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"].startswith("text/plain; version="), resp.headers["Content-Type"]
    text = await resp.text()
    return text, scrape_of(text)


def value(samples, name: str, **labels: str) -> float:
    return samples[name][tuple(sorted(labels.items()))]


def intent_of(category: str) -> str:
    """An intent the taxonomy counts under ``category`` (hotline/intents.py)."""
    return next(intent for intent, c in taxonomy.INTENT_CATEGORY.items() if c == category)


def publish(database_url: str, turns: list[tuple[str, str, str]]) -> None:
    """User events into the store's events table, as Rasa's event broker writes them: (sender id, text, intent)."""
    engine = make_engine(database_url, create=False)
    try:
        with engine.begin() as conn:
            for n, (sender, text, intent) in enumerate(turns):
                event = {"event": "user", "sender_id": sender, "timestamp": time.time() + n * 0.01, "text": text,
                         "message_id": uuid.uuid4().hex, "input_channel": "rest", "metadata": {},
                         "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": [], "text": text}}
                conn.execute(insert(events).values(sender_id=sender, data=json.dumps(event, ensure_ascii=False)))
    finally:
        engine.dispose()


def store(database_url: str, work) -> None:
    engine = make_engine(database_url, create=False)
    try:
        with Session(engine) as session, session.begin():
            work(session)
    finally:
        engine.dispose()


async def eventually(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.05)


async def test_the_scrape_counts_exactly_what_was_sent(rig_factory):
    rasa = FakeRasa(script={CRISIS: [{"text": crisis_reply().text}], HOPELESS: [{"text": checkin_reply().text}]})
    rig: Rig = await rig_factory(rasa=rasa)
    _fast_claims(rig)  # quick backoff for the busy push below
    url = rig.settings.database_url
    _, before = await scrape(rig.client)
    assert all(v == 0 for k, v in before["hotline_received_messages_total"].items())
    assert value(before, "hotline_call_log_pending_events") == 0

    # WeChat: two ordinary messages (one of them retried by WeChat), the assistant's own crisis protocol
    # and check-in, a crisis the assistant missed (the gateway puts the protocol first), a slow answer
    # through the customer-service API while WeChat is busy once.
    openids = [new_openid() for _ in range(6)]
    said = ["鼓楼医院怎么挂号", "儿童医院几点开门", CRISIS, HOPELESS, "我真的不想活了，药都准备好了", "慢慢的问题"]
    assert await rig.ask(openids[0], said[0]) == f"收到：{said[0]}"
    xml = text_xml(openids[1], said[1])
    assert (await rig.post(xml, openid=openids[1]))[0] == 200
    assert (await rig.post(xml, openid=openids[1]))[0] == 200  # WeChat's retry: not a message more
    assert await rig.ask(openids[2], CRISIS) == crisis_reply().text
    assert await rig.ask(openids[3], HOPELESS) == checkin_reply().text
    assert await rig.ask(openids[4], said[4]) == f"{crisis_reply().text}\n\n收到：{said[4]}"
    rig.gateway.deadline = FAST
    rasa.slow[said[5]] = 1.0
    rig.api.busy = 1
    assert await rig.post(text_xml(openids[5], said[5]), openid=openids[5]) == (200, "success")
    await rig.api.wait_sent(1)
    wechat_posts = 7

    # The console: an agent's two lookups (the fake Rasa answers them).
    store(url, lambda s: agents.add_agent(s, AGENT, PASSWORD))
    console = Console(rig.client)
    assert (await console.login(AGENT, PASSWORD)).status == 303
    await console.page("/console/")
    lookups = ["第一医院电话", "公积金怎么取"]
    for question in lookups:
        resp = await console.post("/console/lookup", {"question": question})
        assert resp.status == 200 and f"收到：{question}" in await resp.text()

    # The call log: what Rasa's broker would have written for these conversations (the fake Rasa
    # writes none): a WeChat resident's complaint and its thanks (the complaint's category), another's
    # greeting alone (no category), a REST caller's question, and an agent's lookup (not a call).
    complaint, question = intent_of("医疗投诉"), intent_of("咨询类")
    wx, wx2 = pseudonym(KEY, openids[0]), pseudonym(KEY, openids[1])
    publish(url, [(wx, "我要投诉鼓楼医院", complaint), (wx, "谢谢", "thanks"), (wx2, "你好", "greet"),
                  ("rest-caller-1", "南京有几家三甲医院", question), ("console-abc", "查一下", question)])
    # And one resident waiting in the handoff queue, one with an agent.
    store(url, lambda s: handoff.request(s, "waiting-one", channel=handoff.WECHAT))
    store(url, lambda s: handoff.take(s, handoff.request(s, "taken-one").id, AGENT))
    registry = rig.app[METRICS].registry
    await eventually(lambda: rig.app[CALL_LOG].rounds > 0 and
                     sum(registry.get_sample_value("hotline_messages_total", {"channel": c, "category": k})
                         for c in CHANNELS for k in m.CATEGORIES) == 4)

    text, after = await scrape(rig.client)
    assert value(after, "hotline_received_messages_total", channel="wechat") == 6
    assert value(after, "hotline_received_messages_total", channel="console") == 2
    messages = {labels: v for labels, v in after["hotline_messages_total"].items() if v}
    assert messages == {(("category", "医疗投诉"), ("channel", "wechat")): 2,
                        (("category", taxonomy.UNCATEGORISED), ("channel", "wechat")): 1,
                        (("category", "咨询类"), ("channel", "rest")): 1}
    crises = {dict(labels)["tier"] + "/" + dict(labels)["given_by"]: v
              for labels, v in after["hotline_crisis_answers_total"].items() if v}
    assert crises == {"high/assistant": 1, "possible/assistant": 1, "high/gateway": 1}
    assert value(after, "hotline_wechat_answers_total", way="passive") == 5
    assert value(after, "hotline_wechat_answers_total", way="customer_service_api") == 1
    assert value(after, "hotline_wechat_answers_total", way="transfer") == 0
    assert value(after, "hotline_wechat_pushes_total", outcome="retried") == 1
    assert value(after, "hotline_wechat_pushes_total", outcome="sent") == 1
    assert value(after, "hotline_wechat_pushes_total", outcome="failed") == 0
    assert value(after, "hotline_handoff_queue", state="waiting") == 1
    assert value(after, "hotline_handoff_queue", state="taken") == 1
    assert value(after, "hotline_call_log_pending_events") == 0
    assert 0 <= value(after, "hotline_call_log_seconds_since_success") < 5
    assert value(after, "hotline_call_log_failed_rounds") == 0

    # The histograms: one observation a request, each within its bucket.
    for route, requests in (("/wechat", wechat_posts), ("/console/lookup", len(lookups))):
        assert value(after, "hotline_request_duration_seconds_count", route=route) == requests
        assert value(after, "hotline_request_duration_seconds_bucket", route=route, le="+Inf") == requests
        assert value(after, "hotline_request_duration_seconds_sum", route=route) > 0
    assert value(after, "hotline_request_duration_seconds_bucket", route="/wechat", le="0.5") <= wechat_posts - 1
    assert value(after, "hotline_request_duration_seconds_bucket", route="/wechat", le="0.5") >= 1

    # prometheus_client's process and platform collectors, for this process.
    assert value(after, "process_cpu_seconds_total") > 0 and value(after, "process_resident_memory_bytes") > 0
    assert "python_info" in after

    # Every label value from its fixed set.
    fixed = {"channel": {*m.RECEIVED_CHANNELS, *CHANNELS}, "category": set(m.CATEGORIES),
             "route": set(m.TIMED.values()), "tier": set(m.TIERS), "given_by": set(m.GIVEN_BY),
             "way": set(m.ANSWER_WAYS), "outcome": set(m.PUSH_OUTCOMES), "state": set(m.QUEUE_STATES)}
    for name, series in after.items():
        if not name.startswith("hotline_"):
            continue
        for labels in series:
            for label, v in labels:
                if label != "le":
                    assert v in fixed[label], (name, label, v)
    # No user text, OpenID or pseudonym (the gateway's nor the call log's) anywhere in the scrape.
    for secret in [*said, *lookups, "我要投诉鼓楼医院", "南京有几家三甲医院", *openids, wx, wx2, "rest-caller-1",
                   AGENT, "waiting-one"]:
        assert secret not in text, secret


async def test_a_refused_push_is_counted_failed(rig_factory):
    rig = await rig_factory(api_secret="the-secret-was-reset")  # WeChat: 40125 invalid appsecret
    rig.gateway.deadline = FAST
    rig.rasa.slow["慢D"] = 1.0
    openid = new_openid()
    assert await rig.post(text_xml(openid, "慢D"), openid=openid) == (200, "success")
    registry = rig.app[METRICS].registry
    await eventually(lambda: registry.get_sample_value("hotline_wechat_pushes_total", {"outcome": "failed"}) == 1)
    _, samples = await scrape(rig.client)
    assert value(samples, "hotline_wechat_pushes_total", outcome="failed") == 1
    assert value(samples, "hotline_wechat_pushes_total", outcome="sent") == 0
    assert value(samples, "hotline_wechat_answers_total", way="customer_service_api") == 1


async def test_two_apps_in_one_process_count_apart(rig_factory):
    one, two = await rig_factory(), await rig_factory()
    assert one.app[METRICS].registry is not two.app[METRICS].registry
    assert await one.ask(new_openid(), "你好") == "收到：你好"
    _, first = await scrape(one.client)
    _, second = await scrape(two.client)
    assert value(first, "hotline_received_messages_total", channel="wechat") == 1
    assert value(second, "hotline_received_messages_total", channel="wechat") == 0
    assert value(second, "hotline_request_duration_seconds_count", route="/wechat") == 0
    # Nothing of ours went to prometheus_client's global registry.
    from prometheus_client import REGISTRY
    assert not [name for name in REGISTRY._names_to_collectors if name.startswith("hotline_")]


async def test_with_a_token_the_scrape_wants_it(rig_factory):
    rig = await rig_factory(metrics_token="scrape-me-0123456789")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "scrape-me-0123456789"}):
        resp = await rig.client.get("/metrics", headers=headers)
        assert resp.status == 401 and resp.headers["WWW-Authenticate"] == "Bearer"
        assert "hotline_" not in await resp.text()
    _, samples = await scrape(rig.client, headers={"Authorization": "Bearer scrape-me-0123456789"})
    assert "hotline_received_messages_total" in samples


async def test_the_store_down_the_scrape_still_answers(tmp_path):
    from aiohttp.test_utils import TestClient, TestServer
    from database import migrate
    from hotline.settings import Settings
    from web.keys import ENGINE

    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    migrate.upgrade(url)
    app = create_app(Settings(database_url=url, var_dir=tmp_path, secret_key_env=KEY))
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        db = tmp_path / "hotline.db"
        # A background worker's thread may open (and so re-create) the file between the two
        # steps: retry until a directory stands where the database was.
        for _ in range(100):
            app[ENGINE].dispose()
            db.unlink(missing_ok=True)
            try:
                db.mkdir()  # not a database any more
                break
            except FileExistsError:
                continue
        assert db.is_dir()
        app[ENGINE].dispose()
        _, samples = await scrape(client)
        assert math.isnan(value(samples, "hotline_call_log_pending_events"))
        assert math.isnan(value(samples, "hotline_handoff_queue", state="waiting"))
    finally:
        await client.close()
