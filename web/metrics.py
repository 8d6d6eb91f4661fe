"""The app process's numbers for the centre's Prometheus (``GET /metrics``, web/routes.py; docs/metrics.md).

Each app process has its own registry: ``create_app`` makes one ``Metrics`` under the app key METRICS,
nothing is registered at import and prometheus_client's global REGISTRY is not used. So two apps in one
test process count apart, and each process of a deployment is a target of its own (its counters start at
0 when it starts; Prometheus' rate() and sum() take care of that).

Every label takes its values from a fixed set (the taxonomy's categories, the crisis tiers, …), all of
them present from the start at 0: never a message, an OpenID, a pseudonym or anything else unbounded.
A value outside its set is a bug: it is logged and the sample dropped, never exposed.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any, Callable, Iterable, Mapping

from aiohttp import web
from prometheus_client import (CollectorRegistry, Counter, Gauge, GCCollector, Histogram, PlatformCollector,
                               ProcessCollector, disable_created_metrics, generate_latest)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import Engine, func, select

from database.work import in_thread
from hotline import calllog, handoff, taxonomy
from hotline.models import Handoff, events
from hotline.privacy import describe_error
from safety.crisis import Tier

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST  # Prometheus' text format, with its version

# The label values, each a fixed set.
RECEIVED_CHANNELS = ("wechat", "console")  # what the app itself takes in (REST goes to Rasa directly)
CATEGORIES = (*taxonomy.CATEGORIES, taxonomy.UNCATEGORISED)  # a turn without a category, as reports name it
# The requests timed: (method, the route's path) → the route label.
TIMED = {("POST", "/wechat"): "/wechat", ("POST", "/console/lookup"): "/console/lookup"}
TIERS = tuple(tier.name.lower() for tier in Tier if tier)  # possible, high
GIVEN_BY = ("assistant", "gateway")  # the assistant's (Rasa) own crisis reply, or the gateway's detector
ANSWER_WAYS = ("passive", "customer_service_api", "transfer")
PUSH_OUTCOMES = ("sent", "retried", "failed")
QUEUE_STATES = handoff.OPEN  # waiting, taken
# WeChat gives up after 5 s (the passive reply's deadline is 4.5 s: web/wechat/gateway.py); the issue's
# targets are p50 <= 60 ms and p99 <= 200 ms: buckets around both.
BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 3.0, 4.5, 5.0, 10.0, 30.0)
STORE_TIMEOUT = 2.0  # seconds a scrape waits for the store's counts (then they read NaN)


class Metrics:
    """The registry of one app process and its metrics; the components count through its methods."""

    def __init__(self) -> None:
        # No *_created series (a second series for every counter, which the text format does not need).
        # prometheus_client's switch is per process, the same for every registry: set here, not at import.
        disable_created_metrics()
        self.registry = registry = CollectorRegistry(auto_describe=True)
        # prometheus_client's default collectors, here on this registry: process_* (CPU, memory, open
        # files, start time), python_info, python_gc_*.
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)

        self.received = Counter(
            "hotline_received_messages", "Messages this app process took in, by channel: a WeChat resident's "
            "message (first deliveries only: WeChat's retries and events are not counted) or a console lookup.",
            ["channel"], registry=registry)
        self.messages = Counter(
            "hotline_messages", "Residents' messages written into the call log by this process's call-log "
            "consumer, by channel (wechat: through the gateway; rest: Rasa's REST channel directly) and the "
            "call category the call log gives them (hotline/taxonomy.py).",
            ["channel", "category"], registry=registry)
        self.latency = Histogram(
            "hotline_request_duration_seconds", "Time from a request's arrival to its response, by route.",
            ["route"], buckets=BUCKETS, registry=registry)
        self.crisis = Counter(
            "hotline_crisis_answers", "Crisis replies given to WeChat residents, by tier (high: the full "
            "protocol; possible: the check-in) and by whom (the assistant, or the gateway's own detector).",
            ["tier", "given_by"], registry=registry)
        self.answers = Counter(
            "hotline_wechat_answers", "The assistant's answers to WeChat residents, by the way they went: the "
            "passive reply, the customer-service API (later than the passive reply's deadline), or a "
            "transfer to a person.", ["way"], registry=registry)
        self.pushes = Counter(
            "hotline_wechat_pushes", "Messages sent through WeChat's customer-service API, by outcome: sent, "
            "retried (a try failed for a passing reason and is tried again), failed (refused, or still "
            "failing after the last try).", ["outcome"], registry=registry)
        self.queue = Gauge(
            "hotline_handoff_queue", "Conversations in the handoff queue (the store's, the same in every "
            "process), by state.", ["state"], registry=registry)
        self.pending = Gauge(
            "hotline_call_log_pending_events", "Rasa's events in the store not yet turned into the call log "
            "(the store's, the same in every process).", registry=registry)
        self.since_success = Gauge(
            "hotline_call_log_seconds_since_success", "Seconds since this process's call-log consumer last "
            "finished a round without error (NaN before its first).", registry=registry)
        self.failed_rounds = Gauge(
            "hotline_call_log_failed_rounds", "Rounds of this process's call-log consumer that failed in a row "
            "(0 after a good round).", registry=registry)

        # Every series from the start, at 0: a first scrape shows what there is to watch, and
        # rate() has its zero.
        for channel in RECEIVED_CHANNELS:
            self.received.labels(channel)
        for channel in calllog.CHANNELS:
            for category in CATEGORIES:
                self.messages.labels(channel, category)
        for route in TIMED.values():
            self.latency.labels(route)
        for tier in TIERS:
            for by in GIVEN_BY:
                self.crisis.labels(tier, by)
        for way in ANSWER_WAYS:
            self.answers.labels(way)
        for outcome in PUSH_OUTCOMES:
            self.pushes.labels(outcome)
        for state in QUEUE_STATES:
            self.queue.labels(state).set(math.nan)
        self.pending.set(math.nan)
        self.since_success.set(math.nan)

    # --- counting -----------------------------------------------------------------------------------
    def receive(self, channel: str) -> None:
        if _allowed("channel", channel, RECEIVED_CHANNELS):
            self.received.labels(channel).inc()

    def count_turns(self, written: Mapping[tuple[str, str | None], int]) -> None:
        """A call-log round's turns, by (channel, category) (hotline.calllog.consume_once's tally)."""
        for (channel, category), n in written.items():
            category = category or taxonomy.UNCATEGORISED
            if _allowed("channel", channel, calllog.CHANNELS) and _allowed("category", category, CATEGORIES):
                self.messages.labels(channel, category).inc(n)

    def crisis_answer(self, tier: Tier, given_by: str) -> None:
        name = tier.name.lower()
        if _allowed("tier", name, TIERS) and _allowed("given_by", given_by, GIVEN_BY):
            self.crisis.labels(name, given_by).inc()

    def answer(self, way: str) -> None:
        if _allowed("way", way, ANSWER_WAYS):
            self.answers.labels(way).inc()

    def push(self, outcome: str) -> None:
        if _allowed("outcome", outcome, PUSH_OUTCOMES):
            self.pushes.labels(outcome).inc()

    # --- what is read when scraped ------------------------------------------------------------------
    def watch_call_log(self, consumer: Any) -> None:
        """This process's call-log consumer (web/calllog.py CallLogTask): its lag, read at each scrape."""
        def since() -> float:
            return math.nan if consumer.last_success is None else max(0.0, time.time() - consumer.last_success)

        self.since_success.set_function(since)
        self.failed_rounds.set_function(lambda: consumer.failures)

    async def read_store(self, engine: Engine) -> None:
        """The store-wide gauges (call-log backlog, handoff queue), counted now; NaN when the store does
        not answer within STORE_TIMEOUT (the scrape itself still answers)."""
        def count(session) -> tuple[int, dict[str, int]]:
            pending = session.scalar(select(func.count()).select_from(events))
            by_state = dict(session.execute(select(Handoff.state, func.count()).where(Handoff.state.in_(QUEUE_STATES))
                                            .group_by(Handoff.state)).all())
            return pending, by_state

        try:
            pending, by_state = await asyncio.wait_for(in_thread(engine, count), STORE_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - the numbers are unknown now, not the scrape a failure
            log.warning("metrics: the store's counts failed: %s", describe_error(exc))
            pending, by_state = math.nan, {state: math.nan for state in QUEUE_STATES}
        self.pending.set(pending)
        for state in QUEUE_STATES:
            self.queue.labels(state).set(by_state.get(state, 0))

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format (reads /proc: call it off the event loop)."""
        return generate_latest(self.registry)


def timed(metrics: Metrics) -> Callable:
    """A middleware timing the TIMED routes into ``hotline_request_duration_seconds`` (whatever the
    response, errors included). On the main app it also times the console's (a sub-application's) routes."""
    @web.middleware
    async def middleware(request: web.Request, handler):
        route = TIMED.get((request.method, _path_of(request)))
        if route is None:
            return await handler(request)
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            metrics.latency.labels(route).observe(time.perf_counter() - started)

    return middleware


def _path_of(request: web.Request) -> str | None:
    """The path of the route a request matched (its resource's canonical form, never the raw URL)."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else None


def _allowed(label: str, value: str, allowed: Iterable[str]) -> bool:
    if value in allowed:
        return True
    # Not the value itself: whatever it is, it does not belong in the log either.
    log.error("metrics: a %s outside its fixed values: not counted", label)
    return False
