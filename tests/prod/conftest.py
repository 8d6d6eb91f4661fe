"""The production shape, running for real on this machine's PostgreSQL, Redis and RabbitMQ.

``prod`` (module scope: its processes go when its tests are done) provisions what one test run needs, under names no other run uses: a
PostgreSQL database (the store), a Redis database number for Rasa's trackers and locks, a
RabbitMQ queue (and fanout exchange) for Rasa's events. It ingests the seed bulletins into the
store, then starts the real processes as ``make run-prod`` does (launcher/stack.py): the action server,
two Rasa servers with models/current.tar.gz and the app, whose event-broker consumer reads the
queue. At the end everything is stopped and the database, the trackers' keys, the queue and the exchange are dropped.

Without PostgreSQL, Redis or RabbitMQ the tests skip and say why; under CI (CI=true) they fail.
The fault tests stop and start those services: PostgreSQL and RabbitMQ are always started again,
also when a test fails.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import aiohttp
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hotline.calllog import pseudonym
from database.engine import make_engine
from hotline.settings import Settings
from web import rasa
from launcher.provision import ProvisionError, check_rabbitmq, check_redis, deprovision, provision
from launcher.stack import MODEL, Stack, StartupError, free_ports

PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS", "redis://127.0.0.1:6379")
RABBITMQ_URL = os.environ.get("HOTLINE_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672")
START_TIMEOUT = float(os.environ.get("HOTLINE_START_TIMEOUT", 300))
SERVICE_TIMEOUT = 60.0  # seconds PostgreSQL or RabbitMQ get to come back


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "prod: the production shape on PostgreSQL, Redis and RabbitMQ")
    config.addinivalue_line("markers", "e2e: needs the running system (deselect with -m 'not e2e')")


def _unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class ProdSystem:
    settings: Settings
    engine: Engine
    stack: Stack
    startup: dict[str, float] = field(default_factory=dict)

    @property
    def rasa_urls(self) -> list[str]:
        return self.stack.rasa_urls

    @staticmethod
    def new_sender(prefix: str = "prod") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    async def ask(self, sender: str, message: str) -> list[rasa.Reply]:
        """One message the way the app sends it: spread over the Rasa servers (web/rasa.py)."""
        async with aiohttp.ClientSession() as http:
            return await rasa.ask(http, self.rasa_urls, sender, message, timeout=60)

    @staticmethod
    def text(replies: list[rasa.Reply]) -> str:
        return "\n".join(r.text for r in replies)

    def pseudonym(self, sender: str) -> str:
        return pseudonym(self.settings.secret_key, sender)

    def log_tail(self, name: str, lines: int = 30) -> str:
        return self.stack.service(name).log_tail(lines)

    def kill(self, name: str) -> None:
        import signal

        service = self.stack.service(name)
        service.signal(signal.SIGKILL)
        service.process.wait(10)

    def restart(self, name: str, timeout: float = START_TIMEOUT) -> None:
        service = self.stack.service(name)
        service.start(append=True)
        deadline = time.monotonic() + timeout
        while not service.answers():
            if service.exited() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{name} did not come back:\n{service.log_tail()}")
            time.sleep(0.3)

    async def eventually(self, check: Callable[[Session], Any], timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with Session(self.engine) as session:
                    result = await asyncio.to_thread(check, session)
            except Exception as exc:  # noqa: BLE001 - the store may be coming back
                result = exc
            if (result and not isinstance(result, Exception)) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.3)
        assert result and not isinstance(result, Exception), f"still {result!r} after {timeout} s"
        return result

    # The services themselves (functions below): stopped by the fault tests, always started again.
    stop_postgres = staticmethod(lambda: stop_postgres())
    ensure_postgres_running = staticmethod(lambda: ensure_postgres_running())
    stop_rabbitmq = staticmethod(lambda: stop_rabbitmq())
    ensure_rabbitmq_running = staticmethod(lambda: ensure_rabbitmq_running())

    def hotline(self, *args: str) -> subprocess.CompletedProcess:
        """The `hotline` command on this system's store."""
        command = [str(Path(sys.executable).with_name("hotline")), "--database-url",
                   self.settings.database_url, *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "HOTLINE_VAR_DIR": str(self.settings.var_dir)})


@pytest.fixture(scope="module")
def prod(tmp_path_factory, seeds) -> Iterator[ProdSystem]:
    if not MODEL.is_file():
        pytest.fail(f"no trained model at {MODEL}: run make model first")
    try:
        admin = create_engine(PG_ADMIN_URL)
        with admin.connect() as conn:
            conn.execute(text("select 1"))
        admin.dispose()
        check_redis(REDIS_URL)
        check_rabbitmq(RABBITMQ_URL)
    except (ProvisionError, Exception) as exc:  # noqa: BLE001 - any failure: the service is not here
        _unavailable(f"the production shape needs PostgreSQL, Redis and RabbitMQ ({exc}); "
                     "set HOTLINE_TEST_PG, HOTLINE_TEST_REDIS, HOTLINE_TEST_RABBITMQ")
    started = time.monotonic()
    run = uuid.uuid4().hex[:10]
    pg = make_url(PG_ADMIN_URL)
    store_url = pg.set(database=f"hotline_prod_{run}").render_as_string(hide_password=False)
    # A Redis database of its own (1..15) for Rasa's trackers and locks (as make run-prod) and a queue
    # of its own: parallel runs do not meet.
    redis_url = f"{REDIS_URL.rstrip('/')}/{1 + int(run, 16) % 15}"
    var_dir = tmp_path_factory.mktemp("prodvar")
    env = {**os.environ, "HOTLINE_VAR_DIR": str(var_dir), "DATABASE_URL": store_url,
           "HOTLINE_TRACKER_STORE_URL": redis_url, "HOTLINE_LOCK_STORE_URL": redis_url,
           "HOTLINE_RABBITMQ_URL": RABBITMQ_URL, "HOTLINE_RABBITMQ_QUEUE": f"hotline_test_{run}"}
    settings = Settings.from_env(env)
    stack = Stack(settings, base_env=env)
    engine = None
    try:
        provision(settings, say=lambda _line: None)
        ingest = subprocess.run([str(Path(sys.executable).with_name("hotline")), "--database-url", store_url,
                                 "ingest", *map(str, seeds)], capture_output=True, text=True, env=env)
        if ingest.returncode:
            pytest.fail(f"hotline ingest failed:\n{ingest.stdout}\n{ingest.stderr}")
        actions_port, rasa_port, rasa_port_2, app_port = free_ports(4)
        stack = Stack(settings, actions_port=actions_port, rasa_port=rasa_port, app_port=app_port,
                      extra_rasa_ports=(rasa_port_2,), base_env=env)
        engine = make_engine(settings.database_url, create=False)
        stack.start()
        startup = stack.wait_ready(START_TIMEOUT)
        startup["fixture"] = time.monotonic() - started
        yield ProdSystem(settings, engine, stack, startup=startup)
    except StartupError as exc:
        pytest.fail(f"the production shape did not start: {exc}")
    finally:
        stack.stop()
        if engine is not None:
            engine.dispose()
        _drop(settings)


def _drop(settings: Settings) -> None:
    """The run's databases, queue and exchange (whatever of them exists)."""
    ensure_postgres_running()
    ensure_rabbitmq_running()
    try:
        deprovision(settings)
    except Exception as exc:  # noqa: BLE001 - leftovers are harmless, say so and go on
        print(f"could not remove the run's databases or queue {settings.rabbitmq_queue}: {exc}", file=sys.stderr)


# --- the services themselves ------------------------------------------------------------------

def _pg_cluster(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
                   check=True, capture_output=True, timeout=SERVICE_TIMEOUT)


def postgres_ready() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], timeout=10).returncode == 0


def stop_postgres() -> None:
    _pg_cluster("stop")


def ensure_postgres_running() -> None:
    if postgres_ready():
        return
    try:
        _pg_cluster("start")
    except subprocess.CalledProcessError:
        pass  # already starting: wait for it below
    deadline = time.monotonic() + SERVICE_TIMEOUT
    while not postgres_ready():
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not come back (pg_ctlcluster start): start it by hand")
        time.sleep(0.5)


def stop_rabbitmq() -> None:
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=SERVICE_TIMEOUT)


def ensure_rabbitmq_running() -> None:
    subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=SERVICE_TIMEOUT)
    subprocess.run(["rabbitmqctl", "await_startup"], check=True, capture_output=True, timeout=SERVICE_TIMEOUT)
