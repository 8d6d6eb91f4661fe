"""`make loadtest`: simulated residents talking to the real system through WeChat, on loopback.

    .venv/bin/python bench/loadtest.py --config default            # or: --config prod
    .venv/bin/python bench/loadtest.py --residents 20 --warmup 10 --duration 60 --no-latency-gate

It starts the real processes on free loopback ports (launcher/stack.py, as tests/e2e and tests/prod do):
``default`` is the embedded shape of ``make run`` (SQLite store in a temporary HOTLINE_VAR_DIR, one
Rasa server); ``prod`` the shape of ``make run-prod`` (two Rasa servers; the store in a PostgreSQL database
of its own, a Redis database for Rasa's conversations and locks, a RabbitMQ queue of its own, all
removed afterwards; ``--trackers-on-postgresql``: the conversations in a PostgreSQL database too). The app runs the WeChat gateway in safe (AES) mode, its customer-service
API pointed at a loopback fake (tests/wechat_fake.py): nothing leaves the machine.

N residents (``--residents``, default 20) then talk at once, each looping over realistic multi-turn
scripts (SCRIPTS), each script run as a new resident (a new OpenID): signed and encrypted callbacks
with unique MsgIds to ``/wechat``, answered by the passive reply, exactly the way residents reach
the assistant.

Together they offer ``--rate`` messages per second (default 50, the issue's target): each resident
sends a message every residents/rate seconds (0.4 s for 20 at 50/s), or at once when the answer to
its last one came later than that; a resident never has two messages waiting. The targets can only
be met this way: with no pause at all (``--rate 0``), 20 residents keep 20 messages in the system at
every moment, so by Little's law the mean latency is 20 / throughput (400 ms at 50 messages/s, 50 ms
only at 400/s). ``--rate 0`` measures the capacity: the most messages per second the system answers.

The run is bounded: ``--warmup`` seconds whose latencies are not counted, then
``--duration`` seconds; no message is sent after that, the processes are stopped, whatever happens.

Per message it measures the latency (client side, request to passive reply); an error is a non-200,
an empty or ``success`` body (no passive reply: the answer was slower than WeChat's 5 s), the
temporary-failure text, a timeout. Afterwards it checks against the store: every answered message
is in the call log (CallTurn, by the resident's pseudonym), in the order it was sent; every completed
complaint has its ticket (reply, ticket row, call log); every crisis message got the crisis answer
(the store's statement). It prints each target with PASS/FAIL, where the CPU time went (per process,
from /proc), and writes results/loadtest-<config>.json.

Exit status: 1 when a check of correctness fails (errors, lost turn, out of order, missing ticket,
crisis unanswered) or a latency/throughput target is missed (``--no-latency-gate``: reported only);
2 when the system could not be started.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import re
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hotline import calllog, tickets
from database.engine import make_engine
from safety.replies import crisis_reply
from hotline.privacy import mask_text
from hotline.models import CallTurn
from hotline.settings import PROJECT_ROOT, Settings
from web.rasa import TEMPORARY_FAILURE
from launcher.provision import ProvisionError, check_rabbitmq, check_redis, deprovision, provision
from launcher.stack import MODEL, Stack, StartupError, free_ports
from web.wechat.gateway import pseudonym as wechat_pseudonym

sys.path.insert(0, str(PROJECT_ROOT / "tests"))
from wechat_fake import FakeWechatApi, WechatServer, new_msg_id, new_openid, text_xml  # noqa: E402

SEEDS = Path(os.environ.get("HOTLINE_SEEDS", PROJECT_ROOT.parent / "shared" / "seeds"))
PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS", "redis://127.0.0.1:6379")
RABBITMQ_URL = os.environ.get("HOTLINE_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672")
START_TIMEOUT = float(os.environ.get("HOTLINE_START_TIMEOUT", 300))
MESSAGE_TIMEOUT = 15.0  # seconds the client waits for one reply (the gateway answers within 4.5)
CALL_LOG_TIMEOUT = 60.0  # seconds the call log gets to catch up after the run
APPID = "wx5c9f0e1d2b3a4c5d"

# The targets (2 cores): embedded default, 20 concurrent conversations.
TARGETS = {"p50_ms": 50.0, "p99_ms": 250.0, "messages_per_s": 50.0}
TICKET = re.compile(r"TS-\d{8}-\d{4}")


# --- what residents say ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    say: str
    expect: str = ""  # a regex the answer should match (else counted "off script": the NLU's, not an error)
    logged: str | None = None  # what the call log holds when not the masked text (a choice's payload)


@dataclass(frozen=True)
class Script:
    name: str
    steps: tuple[Step, ...]


def scripts(phone: str) -> list[Script]:
    """The conversations residents have; ``phone``: the complaint's (one per run of the script)."""
    return [
        Script("booking_howto", (Step("鼓楼医院怎么预约挂号", "南京鼓楼医院"),)),
        Script("booking_form", (Step("怎么挂号啊", "哪家医院"), Step("省人医", "江苏省人民医院"))),
        Script("statistics", (Step("鼓楼医院预约量多少", "南京鼓楼医院.*2023年"),
                              Step("2019年10月的呢", "南京鼓楼医院.*2019年10月"),
                              Step("省人医呢", "江苏省人民医院.*2019年10月"))),
        Script("complaint", (Step("我要投诉鼓楼医院", "发生了什么"),
                             Step("挂号窗口的工作人员态度很差还骂人", "什么时候"),
                             Step("昨天下午三点左右", "电话"),
                             Step(f"我的电话是{phone}", r"确认.*\*\*\*\*"),
                             # The numbered choice of the confirm buttons: Rasa gets its payload.
                             Step("1", TICKET.pattern, logged="/affirm"))),
        Script("crisis", (Step("我真的撑不下去了，不想活了"),)),
    ]


def new_phone() -> str:
    return "139" + "".join(secrets.choice("0123456789") for _ in range(8))


# --- what happened ----------------------------------------------------------------------------------

@dataclass
class Message:
    conversation: int
    step: int
    said: str
    started: float  # seconds since the run's start
    latency_ms: float
    status: int | None
    reply: str
    error: str | None = None  # None: a passive reply that is an answer
    off_script: bool = False


@dataclass
class Conversation:
    id: int
    script: str
    openid: str
    phone: str
    messages: list[Message] = field(default_factory=list)
    completed: bool = False  # every step was sent and answered


# --- the residents --------------------------------------------------------------------------------

class Residents:
    def __init__(self, app_url: str, wechat: WechatServer, *, residents: int, warmup: float,
                 duration: float, rate: float) -> None:
        self.app_url = app_url
        self.wechat = wechat
        self.residents = residents
        self.warmup = warmup
        self.duration = duration
        # Seconds between one resident's messages (0: none, as fast as answers come).
        self.interval = residents / rate if rate else 0.0
        self.conversations: list[Conversation] = []
        self.t0 = 0.0

    async def run(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.residents * 2)
        timeout = aiohttp.ClientTimeout(total=MESSAGE_TIMEOUT)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            self.t0 = time.monotonic()
            deadline = self.t0 + self.warmup + self.duration
            await asyncio.gather(*(self._resident(http, n, deadline) for n in range(self.residents)))

    async def _resident(self, http: aiohttp.ClientSession, n: int, deadline: float) -> None:
        round_ = 0
        # Residents start spread over one interval, so the rate is even rather than in bursts.
        next_at = time.monotonic() + self.interval * n / self.residents
        while time.monotonic() < deadline:
            phone = new_phone()
            all_scripts = scripts(phone)
            script = all_scripts[(n + round_) % len(all_scripts)]  # an even mix at any moment
            round_ += 1
            conversation = Conversation(len(self.conversations), script.name, new_openid(), phone)
            self.conversations.append(conversation)
            for i, step in enumerate(script.steps):
                if next_at > time.monotonic():
                    await asyncio.sleep(next_at - time.monotonic())
                if time.monotonic() >= deadline:
                    return  # bounded: nothing is sent after the deadline, even mid-conversation
                # Late answers are not caught up on with a burst: the next message waits an interval.
                next_at = max(next_at + self.interval, time.monotonic())
                message = await self._send(http, conversation, i, step)
                conversation.messages.append(message)
                if message.error:
                    break  # the resident gives up on this conversation (and starts another)
            else:
                conversation.completed = True

    async def _send(self, http: aiohttp.ClientSession, conversation: Conversation, i: int,
                    step: Step) -> Message:
        openid = conversation.openid
        query, body = self.wechat.callback(text_xml(openid, step.say, msg_id=new_msg_id()), openid=openid)
        started = time.monotonic()
        status, reply, error = None, "", None
        try:
            async with http.post(self.app_url + "/wechat", params=query, data=body) as resp:
                status, raw = resp.status, await resp.text()
            latency = time.monotonic() - started
            if status != 200:
                error = f"HTTP {status}"
            elif not raw.strip() or raw == "success":
                error = "no passive reply (success)"
            else:
                reply = str(self.wechat.read_reply(raw).content or "")
                if not reply.strip():
                    error = "empty reply"
                elif reply == TEMPORARY_FAILURE:
                    error = "temporary failure"
        except asyncio.TimeoutError:
            latency, error = time.monotonic() - started, "timeout"
        except aiohttp.ClientError as exc:
            latency, error = time.monotonic() - started, f"{type(exc).__name__}"
        off = bool(not error and step.expect and not re.search(step.expect, reply, re.S))
        return Message(conversation.id, i, step.say, started - self.t0, latency * 1000, status, reply,
                       error, off)


# --- the system -----------------------------------------------------------------------------------

@dataclass
class System:
    config: str
    settings: Settings
    stack: Stack
    env: dict[str, str]
    api_port: int


def _ingest(database_url: str, seeds: list[Path], env: dict[str, str]) -> None:
    hotline = Path(sys.executable).with_name("hotline")
    done = subprocess.run([str(hotline), "--database-url", database_url, "ingest", *map(str, seeds)],
                          capture_output=True, text=True, env=env)
    if done.returncode:
        raise StartupError(f"hotline ingest failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def build(config: str, var_dir: Path, seeds: list[Path], say, cleanup: list,
          rasa_servers: int | None = None, trackers_on_postgresql: bool = False) -> System:
    """The environment and Stack of a configuration (its databases provisioned); not started yet.
    What has to be removed afterwards goes into ``cleanup`` as soon as it exists."""
    (api_port,) = free_ports(1)
    env = {**os.environ, "HOTLINE_VAR_DIR": str(var_dir),
           "HOTLINE_SECRET_KEY": secrets.token_hex(32),
           "WECHAT_TOKEN": secrets.token_hex(16), "WECHAT_APPID": APPID,
           "WECHAT_AES_KEY": base64.b64encode(secrets.token_bytes(32)).decode("ascii")[:-1],
           "WECHAT_SECRET": secrets.token_hex(16), "WECHAT_API_URL": f"http://127.0.0.1:{api_port}"}
    if config == "default":
        env["DATABASE_URL"] = f"sqlite:///{var_dir / 'hotline.db'}"
        settings = Settings.from_env(env)
        # As make run starts it: a Rasa server per core (HOTLINE_RASA_SERVERS), each its own conversations.
        n = rasa_servers or settings.rasa_server_count
        actions, app, rasa, *more = free_ports(2 + n)
        stack = Stack(settings, actions_port=actions, rasa_port=rasa, app_port=app,
                      extra_rasa_ports=tuple(more), base_env=env)
    else:
        run = uuid.uuid4().hex[:10]
        pg = make_url(PG_ADMIN_URL)
        # A Redis database (Rasa's conversations and locks, as make run-prod) and a queue of its own:
        # a test run at the same time does not meet it. --trackers-on-postgresql: the former shape.
        redis_db = f"{REDIS_URL.rstrip('/')}/{1 + int(run, 16) % 15}"
        trackers = (pg.set(database=f"hotline_load_{run}_rasa").render_as_string(hide_password=False)
                    if trackers_on_postgresql else redis_db)
        env.update({
            "DATABASE_URL": pg.set(database=f"hotline_load_{run}").render_as_string(hide_password=False),
            "HOTLINE_TRACKER_STORE_URL": trackers,
            "HOTLINE_LOCK_STORE_URL": redis_db,
            "HOTLINE_RABBITMQ_URL": RABBITMQ_URL, "HOTLINE_RABBITMQ_QUEUE": f"hotline_load_{run}"})
        settings = Settings.from_env(env)
        check_redis(REDIS_URL)
        check_rabbitmq(RABBITMQ_URL)
        cleanup.append(lambda: deprovision(settings))
        provision(settings, say=lambda line: say(line.strip()))
        actions, rasa, rasa_2, app = free_ports(4)
        stack = Stack(settings, actions_port=actions, rasa_port=rasa, app_port=app,
                      extra_rasa_ports=(rasa_2,), base_env=env)
    _ingest(settings.database_url, seeds, env)
    return System(config, settings, stack, env, api_port)


async def warm_up(stack: Stack) -> None:
    """One message to each Rasa server, not timed: the first one after loading the model warms
    TensorFlow up (seconds), which no resident should wait for."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        for url in stack.rasa_urls:
            async with http.post(url + "/webhooks/rest/webhook",
                                 json={"sender": f"loadtest-warmup-{uuid.uuid4().hex[:8]}",
                                       "message": "你好"}) as resp:
                await resp.read()


# --- CPU time per process (/proc): where the time goes ------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def cpu_snapshot(stack: Stack) -> dict[str, float]:
    """CPU seconds so far: each service with its descendants, the backing services (PostgreSQL,
    Redis, RabbitMQ: every process of theirs on the machine), this client, and the machine."""
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _proc_stat(int(entry))):
            procs[int(entry)] = stat
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _) in procs.items():
        children[ppid].append(pid)

    def tree(pid: int) -> float:
        total, todo = 0.0, [pid]
        while todo:
            p = todo.pop()
            total += procs.get(p, (0, 0.0))[1]
            todo += children.get(p, [])
        return total

    out = {s.name: tree(s.process.pid) for s in stack.services if s.process is not None}
    backing = {"postgres": "PostgreSQL", "redis-server": "Redis", "beam.smp": "RabbitMQ"}
    for pid, (_, cpu) in procs.items():
        name = backing.get(_comm(pid))
        if name:
            out[name] = out.get(name, 0.0) + cpu
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["load client"] = usage.ru_utime + usage.ru_stime
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    idle = ticks[3] + ticks[4]
    out["machine busy"] = (sum(ticks) - idle) / CLK_TCK
    out["machine total"] = sum(ticks) / CLK_TCK
    return out


# --- the checks -------------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def expected_log(conversation: Conversation, script: Script) -> list[str]:
    """The call log's texts of a conversation's answered messages, in the order they were sent."""
    return [script.steps[m.step].logged or mask_text(m.said)
            for m in conversation.messages if m.status == 200]


def check_store(system: System, residents: Residents, engine) -> dict[str, Any]:
    key = system.settings.secret_key
    convs = residents.conversations
    senders = {c.id: calllog.pseudonym(key, wechat_pseudonym(key, c.openid)) for c in convs}
    expected = {c.id: [] for c in convs}
    for c in convs:
        # The complaint's phone is masked in the log (expected_log masks the script's text too).
        expected[c.id] = expected_log(c, next(s for s in scripts(c.phone) if s.name == c.script))

    def logged(session: Session) -> dict[str, list[CallTurn]]:
        rows = session.scalars(select(CallTurn).where(CallTurn.sender.in_(set(senders.values())))
                               .order_by(CallTurn.time, CallTurn.id))
        grouped: dict[str, list[CallTurn]] = defaultdict(list)
        for row in rows:
            grouped[row.sender].append(row)
        return grouped

    deadline = time.monotonic() + CALL_LOG_TIMEOUT
    started = time.monotonic()
    while True:
        with Session(engine) as session:
            turns = logged(session)
        missing = {c.id: [t for t in expected[c.id] if t not in [r.text for r in turns.get(senders[c.id], [])]]
                   for c in convs}
        missing = {cid: m for cid, m in missing.items() if m}
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    caught_up = time.monotonic() - started

    out_of_order = []
    for c in convs:
        texts = [r.text for r in turns.get(senders[c.id], [])]
        wanted = expected[c.id]
        seen = [t for t in texts if t in wanted]
        if not missing.get(c.id) and seen[:len(wanted)] != wanted:
            out_of_order.append({"conversation": c.id, "sent": wanted, "logged": texts})

    missing_tickets, tickets_ok = [], 0
    with Session(engine) as session:
        crisis_text = crisis_reply().text
        for c in convs:
            if c.script != "complaint" or not c.completed:
                continue
            found = TICKET.search(c.messages[-1].reply)
            problem = None
            if not found:
                problem = "no ticket number in the confirmation"
            else:
                try:
                    ticket = tickets.get_ticket(session, found.group(0))
                except tickets.TicketNotFound:
                    ticket = None
                if ticket is None:
                    problem = f"{found.group(0)} is not in the store"
                elif (ticket.hospital, ticket.phone) != ("南京鼓楼医院", c.phone):
                    problem = f"{found.group(0)} has another hospital or phone"
                elif found.group(0) not in [r.ticket for r in turns.get(senders[c.id], [])]:
                    problem = f"{found.group(0)} is not linked in the call log"
            if problem:
                missing_tickets.append({"conversation": c.id, "problem": problem,
                                        "reply": c.messages[-1].reply[:200]})
            else:
                tickets_ok += 1
    crisis = [m for c in convs if c.script == "crisis" for m in c.messages if not m.error]
    crisis_missed = [m.reply[:200] for m in crisis if crisis_text not in m.reply]
    return {
        "turns_expected": sum(len(v) for v in expected.values()),
        "turns_missing": sum(len(v) for v in missing.values()),
        "missing_examples": [{"conversation": cid, "texts": m} for cid, m in list(missing.items())[:5]],
        "call_log_caught_up_s": round(caught_up, 1),
        "out_of_order": len(out_of_order), "out_of_order_examples": out_of_order[:5],
        "complaints_completed": tickets_ok + len(missing_tickets), "tickets_ok": tickets_ok,
        "tickets_missing": len(missing_tickets), "ticket_problems": missing_tickets[:5],
        "crisis_messages": len(crisis), "crisis_unanswered": len(crisis_missed),
        "crisis_examples": crisis_missed[:3],
    }


# --- the run ----------------------------------------------------------------------------------------

def summarise(residents: Residents) -> dict[str, Any]:
    messages = [m for c in residents.conversations for m in c.messages]
    measured = [m for m in messages if m.started >= residents.warmup]
    # Every measured message, errors too (a late answer's 4.5 s is what the resident waited).
    latencies = [m.latency_ms for m in measured]
    errors = Counter(m.error for m in messages if m.error)
    window = residents.duration
    off = Counter(f"{residents.conversations[m.conversation].script}#{m.step + 1}"
                  for m in messages if m.off_script)
    per_script = defaultdict(list)
    for m in measured:
        per_script[residents.conversations[m.conversation].script].append(m.latency_ms)
    return {
        "messages": len(messages), "measured_messages": len(measured),
        "conversations": len(residents.conversations),
        "p50_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "messages_per_s": round(len(measured) / window, 1) if window else None,
        "errors": sum(errors.values()), "error_rate": round(sum(errors.values()) / max(len(messages), 1), 4),
        "errors_by_kind": dict(errors),
        "off_script": dict(off),
        # What the NLU made of them (the first few, with the conversation so far): a place to look.
        "off_script_examples": [
            {"script": residents.conversations[m.conversation].script, "conversation": m.conversation,
             "said": m.said, "reply": m.reply[:300],
             "before": [(p.said, p.reply[:120]) for p in residents.conversations[m.conversation].messages[:m.step]]}
            for m in messages if m.off_script][:8],
        "p50_ms_by_script": {k: round(percentile(v, 50), 1) for k, v in sorted(per_script.items())},
    }


def cpu_report(before: dict[str, float], after: dict[str, float], messages: int, window: float) -> dict:
    used = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    busy, total = used.pop("machine busy"), used.pop("machine total")
    ours = sum(used.values())
    report = {name: {"cpu_s": round(s, 1), "ms_per_message": round(1000 * s / max(messages, 1), 1)}
              for name, s in sorted(used.items(), key=lambda kv: -kv[1]) if s >= 0.05}
    report["other processes on the machine"] = {"cpu_s": round(busy - ours, 1)}
    report["machine"] = {"cores": os.cpu_count(), "busy_fraction": round(busy / total, 3) if total else None,
                         "window_s": round(window, 1)}
    return report


def offered(rate: float) -> str:
    return f"offering {rate:g} messages/s" if rate else "with no pause (capacity)"


async def run_load(system: System, args, say) -> tuple[Residents, dict]:
    api = FakeWechatApi(APPID, system.env["WECHAT_SECRET"])
    runner = web.AppRunner(api.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", system.api_port)
    await site.start()
    try:
        await warm_up(system.stack)
        s = system.settings
        residents = Residents(system.stack.app_url, WechatServer(s.wechat_token, s.wechat_appid, s.wechat_aes_key),
                              residents=args.residents, warmup=args.warmup, duration=args.duration,
                              rate=args.rate)
        say(f"== {args.residents} residents {offered(args.rate)}, {args.warmup:.0f} s warm-up + "
            f"{args.duration:.0f} s measured")
        cpu = {}

        async def sample_cpu() -> None:
            await asyncio.sleep(args.warmup)
            cpu["before"] = await asyncio.to_thread(cpu_snapshot, system.stack)
            await asyncio.sleep(args.duration)
            cpu["after"] = await asyncio.to_thread(cpu_snapshot, system.stack)

        await asyncio.gather(residents.run(), sample_cpu())
        cpu["late_answers_sent_by_api"] = len(api.sent)
        return residents, cpu
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=["default", "prod"], default="default")
    parser.add_argument("--residents", type=int, default=20, help="concurrent conversations (20)")
    parser.add_argument("--rasa-servers", type=int, default=None,
                        help="default shape: Rasa servers (default: as make run, one per core)")
    parser.add_argument("--trackers-on-postgresql", action="store_true",
                        help="prod: Rasa's conversations in PostgreSQL (Rasa's SQL store), not Redis")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds not measured (10)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds measured (60)")
    parser.add_argument("--rate", type=float, default=TARGETS["messages_per_s"],
                        help="messages per second all residents offer together (50; 0: no pause, the capacity)")
    parser.add_argument("--no-latency-gate", action="store_true",
                        help="a missed latency or throughput target is reported, not an exit status 1")
    parser.add_argument("--seeds", type=Path, nargs="*", help="bulletins to ingest (default: HOTLINE_SEEDS/*.txt)")
    parser.add_argument("--out", type=Path, help="JSON result (default results/loadtest-<config>.json)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary HOTLINE_VAR_DIR (logs)")
    args = parser.parse_args(argv)
    if not (0 < args.residents <= 200 and 0 < args.duration <= 3600 and 0 <= args.warmup <= 600
            and 0 <= args.rate <= 10_000):
        parser.error("--residents 1..200, --duration up to 3600 s, --warmup up to 600 s, --rate 0..10000")
    out = args.out or PROJECT_ROOT / "results" / f"loadtest-{args.config}.json"
    seeds = args.seeds or sorted(SEEDS.glob("*.txt"))
    if not seeds:
        parser.error(f"no seed bulletins in {SEEDS} (set HOTLINE_SEEDS or --seeds)")
    if not MODEL.is_file():
        print(f"no trained model at {MODEL}: run make model first", file=sys.stderr)
        return 2

    def say(line: str) -> None:
        print(line, flush=True)

    var_dir = Path(tempfile.mkdtemp(prefix=f"hotline-loadtest-{args.config}-"))
    system = None
    engine = None
    cleanup: list = []
    try:
        say(f"== loadtest, {args.config} configuration: starting the system (var: {var_dir})")
        started = time.monotonic()
        system = build(args.config, var_dir, seeds, say, cleanup, rasa_servers=args.rasa_servers,
                       trackers_on_postgresql=args.trackers_on_postgresql)
        system.stack.start()
        system.stack.wait_ready(START_TIMEOUT, report=lambda s, t: say(f"   {s.name} ready after {t:.0f} s"))
        say(f"   started in {time.monotonic() - started:.0f} s")
        engine = make_engine(system.settings.database_url, create=False)
        residents, cpu = asyncio.run(run_load(system, args, say))
        stopped = system.stack.check_running()
        summary = summarise(residents)
        say("== checking the store (call log, tickets, crisis answers)")
        checks = check_store(system, residents, engine)
    except (StartupError, ProvisionError) as exc:
        print(f"== the {args.config} configuration could not be started: {exc}", file=sys.stderr)
        return 2
    finally:
        if engine is not None:
            engine.dispose()
        if system is not None:
            system.stack.stop()
        for undo in cleanup:
            try:
                undo()
            except Exception as exc:  # noqa: BLE001 - leftovers are harmless: say so
                print(f"cleanup: {type(exc).__name__}: {exc}", file=sys.stderr)

    cpu_use = cpu_report(cpu["before"], cpu["after"], summary["measured_messages"], args.duration) \
        if "after" in cpu else {}
    gates = [
        # (name, measured, target text, passed, is correctness)
        ("errors", summary["errors"], "0", summary["errors"] == 0, True),
        ("turns missing from the call log", checks["turns_missing"], "0", checks["turns_missing"] == 0, True),
        ("conversations logged out of order", checks["out_of_order"], "0", checks["out_of_order"] == 0, True),
        ("completed complaints without their ticket", checks["tickets_missing"], "0",
         checks["tickets_missing"] == 0, True),
        ("crisis messages without the crisis answer", checks["crisis_unanswered"], "0",
         checks["crisis_unanswered"] == 0, True),
        ("a process exited during the run", stopped.name if stopped else "none", "none", stopped is None, True),
        ("p50 latency (ms)", summary["p50_ms"], f"<= {TARGETS['p50_ms']:.0f}",
         summary["p50_ms"] <= TARGETS["p50_ms"], False),
        ("p99 latency (ms)", summary["p99_ms"], f"<= {TARGETS['p99_ms']:.0f}",
         summary["p99_ms"] <= TARGETS["p99_ms"], False),
        ("messages per second", summary["messages_per_s"], f">= {TARGETS['messages_per_s']:.0f}",
         (summary["messages_per_s"] or 0) >= TARGETS["messages_per_s"], False),
    ]
    say(f"\n== loadtest {args.config}: {args.residents} concurrent conversations {offered(args.rate)}, "
        f"{args.duration:.0f} s "
        f"measured after {args.warmup:.0f} s warm-up; {summary['messages']} messages in "
        f"{summary['conversations']} conversations")
    say(f"   latency p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} ms, p99 {summary['p99_ms']} ms, "
        f"max {summary['max_ms']} ms; {summary['messages_per_s']} messages/s; error rate "
        f"{summary['error_rate']:.2%} {summary['errors_by_kind'] or ''}")
    say(f"   p50 by script (ms): {summary['p50_ms_by_script']}")
    if summary["off_script"]:
        say(f"   answers off script (the NLU's understanding, not errors): {summary['off_script']}")
    say(f"   call log: {checks['turns_expected']} turns expected, {checks['turns_missing']} missing "
        f"(caught up {checks['call_log_caught_up_s']} s after the run); tickets: {checks['tickets_ok']} of "
        f"{checks['complaints_completed']} completed complaints; crisis: {checks['crisis_messages']} answered")
    if cpu_use:
        say("   CPU during the measured window (ms per message): " + ", ".join(
            f"{k} {v['ms_per_message']}" for k, v in cpu_use.items() if "ms_per_message" in v)
            + f"; other processes {cpu_use['other processes on the machine']['cpu_s']} s; machine busy "
            f"{cpu_use['machine']['busy_fraction']:.0%} of {cpu_use['machine']['cores']} cores")
    failed_correctness = failed_latency = False
    for name, value, target, passed, correctness in gates:
        say(f"   {'PASS' if passed else 'FAIL'}  {name}: {value} (target {target})")
        if not passed:
            failed_correctness |= correctness
            failed_latency |= not correctness
    result = {
        "config": args.config, "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "load_average_after": os.getloadavg()},
        "parameters": {"residents": args.residents, "warmup_s": args.warmup, "duration_s": args.duration,
                       "offered_messages_per_s": args.rate, "rasa_servers": len(system.stack.rasa_urls)},
        "targets": TARGETS, "summary": summary, "checks": checks, "cpu": cpu_use,
        "late_answers_sent_by_api": cpu.get("late_answers_sent_by_api"),
        "gates": [{"name": n, "value": v, "target": t, "passed": p, "correctness": c} for n, v, t, p, c in gates],
        "transcripts": _transcripts(residents),
        "errors_sample": [asdict(m) for c in residents.conversations for m in c.messages if m.error][:20],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    say(f"   result: {out}")
    if args.keep:
        say(f"   logs: {var_dir / 'log'}")
    else:
        import shutil

        shutil.rmtree(var_dir, ignore_errors=True)
    if failed_correctness:
        return 1
    if failed_latency and not args.no_latency_gate:
        return 1
    return 0


def _transcripts(residents: Residents) -> dict[str, list[dict[str, str]]]:
    """The first completed conversation of each script, as said and answered (phones masked)."""
    out: dict[str, list[dict[str, str]]] = {}
    for c in residents.conversations:
        if c.completed and c.script not in out:
            out[c.script] = [{"said": mask_text(m.said), "answer": mask_text(m.reply),
                              "ms": f"{m.latency_ms:.0f}"} for m in c.messages]
    return out


if __name__ == "__main__":
    sys.exit(main())
