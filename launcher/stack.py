"""The running system: action server, Rasa server and our app, as three child processes.

Each is started as launcher/processes.py defines it (command line, default port, health URL), in
its venv; ``make run`` (``supervise.py``), tests/e2e, tests/prod and bench/loadtest.py all start
them through ``Stack``, on the default ports or on free ones. Everything a process needs comes from
the ``Settings`` it is given and the three ports: the children read the same store
(``DATABASE_URL``, ``HOTLINE_VAR_DIR``), Rasa finds the action server and the event broker through
the variables of its endpoints file (launcher/endpoints.py).

Each child runs in a session of its own (a Ctrl-C in the terminal reaches only the supervisor,
which stops them in order) and is killed by the kernel if the process that started it dies
(``PR_SET_PDEATHSIG``): no server outlives its supervisor or test run.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Mapping

from sqlalchemy.engine import make_url

from hotline.settings import PROJECT_ROOT, Settings

from launcher import processes
from launcher.endpoints import rasa_endpoints

RASA = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = RASA.with_name("python")  # runs processes.RASA_COMMAND (Rasa needs its own venv)
MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
CREDENTIALS = PROJECT_ROOT / "credentials.yml"
RASA_LOGGING = processes.LOGGING_CONFIG  # every Rasa process gets it (no message text in its log)
HOST = processes.LOOPBACK
# SQLite: how long Rasa's broker waits for the write lock (seconds; ours: database/engine.py).
BROKER_SQLITE_TIMEOUT = 30
STOP_TIMEOUT = 15.0  # seconds a process gets to stop after SIGTERM before it is killed

# What the Makefile exports for every Rasa process, for a Rasa started from elsewhere (tests).
RASA_ENV_DEFAULTS = {
    "RASA_TELEMETRY_ENABLED": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}


# A serving Rasa process runs one small message at a time: TensorFlow's thread pools (one thread per
# core each, spinning while they wait) only compete with the other processes, another Rasa server's
# included. One thread each (training, `make model`, keeps them all).
RASA_SERVE_ENV = {
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}


class StartupError(RuntimeError):
    """A process exited or did not answer in time; the message ends with the tail of its log."""


def action_server(port: int, env: Mapping[str, str], log_path: Path) -> "Service":
    """The action server on loopback, in this interpreter's venv (.venv: actions/ need SQLAlchemy 2)."""
    return Service(processes.ACTIONS.name,
                   processes.with_python(processes.actions_argv(port), sys.executable),
                   {**env, "SANIC_HOST": HOST}, processes.ACTIONS.health_url(port), log_path)


def free_ports(n: int) -> list[int]:
    """n distinct ports free on the loopback interface now (all bound at once, then released)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((HOST, port)) == 0


def event_broker_url(database_url: str) -> str:
    """The store's URL as Rasa's SQL event broker (SQLAlchemy 1.4, psycopg2) takes it.

    SQLite: an absolute path (Rasa may run in another directory) and a busy timeout.
    PostgreSQL: the same database through psycopg2, the driver of Rasa's environment.
    """
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise ValueError("the store is an in-memory SQLite database: Rasa cannot write events to it")
        path = Path(url.database).resolve()
        return f"sqlite:///{path}?timeout={BROKER_SQLITE_TIMEOUT}"
    if backend == "postgresql":
        return url.set(drivername="postgresql").render_as_string(hide_password=False)
    raise ValueError(f"no event broker for a {backend} store")


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _truncate(path: Path) -> None:
    try:
        os.truncate(path, 0)
    except FileNotFoundError:
        pass


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready_url: str
    log_path: Path
    process: subprocess.Popen | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self, *, append: bool = False) -> None:
        """Start the process (again, after it exited: ``append`` keeps the log it wrote before)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.close_log()
        # Mode 0600: a log may hold what a process could not help writing (a traceback's values).
        # Always O_APPEND: after rotate() truncates the file, the process writes at its new end.
        if not append:
            _truncate(self.log_path)
        self._log = open(self.log_path, "ab", opener=_private)
        os.chmod(self.log_path, 0o600)
        self.process = subprocess.Popen(
            self.argv, cwd=PROJECT_ROOT, env=self.env, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.ready_url, timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def rotate(self, max_bytes: int, backups: int) -> bool:
        """Past ``max_bytes``, the log is copied to ``<log>.1`` (older ones shifted up to ``backups``,
        the oldest dropped) and emptied in place, the process writing on (copy and truncate: the
        processes keep their file; what a process writes between the two is lost). Whether it did."""
        try:
            if self.log_path.stat().st_size <= max_bytes:
                return False
        except FileNotFoundError:
            return False
        for n in range(backups - 1, 0, -1):
            older = self.log_path.with_name(f"{self.log_path.name}.{n}")
            if older.exists():
                older.replace(self.log_path.with_name(f"{self.log_path.name}.{n + 1}"))
        first = self.log_path.with_name(f"{self.log_path.name}.1")
        with open(self.log_path, "rb") as source, open(first, "wb", opener=_private) as copy:
            shutil.copyfileobj(source, copy)
        os.chmod(first, 0o600)
        _truncate(self.log_path)
        return True

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass

    def close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass
class Stack:
    """The three processes; ``start()`` then ``wait_ready()``, and ``stop()`` in any case."""

    settings: Settings
    actions_port: int = processes.ACTIONS.port
    rasa_port: int = processes.RASA.port
    app_port: int = processes.APP.port
    log_dir: Path | None = None  # default: <var_dir>/log
    model: Path = MODEL
    base_env: Mapping[str, str] | None = None  # default: os.environ
    # More Rasa servers (make run-prod: two), on these ports, with the same model and endpoints: the
    # app spreads conversations over all of them (HOTLINE_RASA_URLS, web/rasa.py). They share the
    # conversations only through a tracker store and a lock store (settings, launcher/endpoints.py).
    extra_rasa_ports: tuple[int, ...] = ()
    services: list[Service] = field(default_factory=list, init=False)

    @property
    def actions_url(self) -> str:
        return processes.ACTIONS.url(self.actions_port)

    @property
    def rasa_url(self) -> str:
        return processes.RASA.url(self.rasa_port)

    @property
    def app_url(self) -> str:
        return processes.APP.url(self.app_port)

    @property
    def rasa_urls(self) -> list[str]:
        return [processes.RASA.url(port) for port in (self.rasa_port, *self.extra_rasa_ports)]

    def service(self, name: str) -> Service:
        """One of the processes by name ("action server", "Rasa server", "Rasa server 2", "app")."""
        return next(s for s in self.services if s.name == name)

    def _services(self) -> list[Service]:
        log_dir = self.log_dir or self.settings.var_dir / "log"
        env = dict(os.environ if self.base_env is None else self.base_env)
        env.update(PYTHONUNBUFFERED="1", DATABASE_URL=self.settings.database_url,
                   HOTLINE_VAR_DIR=str(self.settings.var_dir))
        endpoints = rasa_endpoints(
            self.settings, f"{self.actions_url}/webhook",
            broker_url=None if self.settings.rabbitmq_url else event_broker_url(self.settings.database_url))
        rasa_env = {**RASA_ENV_DEFAULTS, **RASA_SERVE_ENV, **env, **endpoints.env}
        endpoints_file = endpoints.path(self.settings.var_dir)
        app_env = {**env, "HOTLINE_APP_HOST": HOST, "HOTLINE_APP_PORT": str(self.app_port),
                   "HOTLINE_RASA_URL": self.rasa_url}
        if self.extra_rasa_ports:
            app_env["HOTLINE_RASA_URLS"] = ",".join(self.rasa_urls)

        def rasa(name: str, port: int, log: str) -> Service:
            argv = processes.rasa_argv(
                model=self.model, endpoints=endpoints_file, credentials=CREDENTIALS, interface=HOST, port=port)
            return Service(name, processes.with_python(argv, RASA_PYTHON), rasa_env,
                           processes.RASA.health_url(port), log_dir / log)

        return [
            action_server(self.actions_port, env, log_dir / "actions.log"),
            rasa(processes.RASA.name, self.rasa_port, "rasa.log"),
            *(rasa(f"{processes.RASA.name} {n}", port, f"rasa-{n}.log")
              for n, port in enumerate(self.extra_rasa_ports, start=2)),
            Service(processes.APP.name, processes.with_python(processes.app_argv(), sys.executable), app_env,
                    processes.APP.health_url(self.app_port), log_dir / "app.log"),
        ]

    def start(self) -> None:
        if not self.model.is_file():
            raise StartupError(f"no trained model at {self.model}: run make model first")
        if not RASA.is_file():
            raise StartupError(f"{RASA} not found: run make setup first")
        busy = [p for p in (self.actions_port, self.rasa_port, *self.extra_rasa_ports, self.app_port)
                if port_in_use(p)]
        if busy:
            raise StartupError(f"port(s) {', '.join(map(str, busy))} already in use on {HOST} "
                               "(another make run? make stop ends it)")
        self.services = self._services()
        for service in self.services:
            service.start()

    def wait_ready(self, timeout: float = 300.0, *, report=None) -> dict[str, float]:
        """Until every service answers; seconds each took. Raises StartupError (with its log)."""
        started = time.monotonic()
        took: dict[str, float] = {}
        while len(took) < len(self.services):
            for service in self.services:
                if service.name in took:
                    continue
                if service.answers():
                    took[service.name] = time.monotonic() - started
                    if report:
                        report(service, took[service.name])
                elif (code := service.exited()) is not None:
                    raise StartupError(f"{service.name} exited with code {code} while starting "
                                       f"(log: {service.log_path}):\n{service.log_tail()}")
            if time.monotonic() - started > timeout:
                late = [s for s in self.services if s.name not in took]
                raise StartupError("\n".join(
                    f"{s.name} did not answer {s.ready_url} within {timeout:.0f} s "
                    f"(log: {s.log_path}):\n{s.log_tail()}" for s in late))
            time.sleep(0.5)
        return took

    def check_running(self) -> Service | None:
        """The first service that has exited, if any."""
        return next((s for s in self.services if s.exited() is not None), None)

    def stop(self) -> None:
        """SIGTERM to all, then SIGKILL to whatever still runs after STOP_TIMEOUT seconds."""
        for service in reversed(self.services):
            service.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for service in reversed(self.services):
            if service.process is None:
                continue
            try:
                service.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                service.signal(signal.SIGKILL)
                service.process.wait()
            service.close_log()


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (Linux; elsewhere nothing)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
