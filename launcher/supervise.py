"""``make run``: the action server, the Rasa server and the app, until Ctrl-C or SIGTERM.

    .venv/bin/python -m launcher.supervise [--actions-port P] [--rasa-port P] [--app-port P]
                                           [--rasa-servers N] [--extra-rasa-port P ...]

The ports default to launcher/processes.py's. Rasa servers: one per CPU core by default
(HOTLINE_RASA_SERVERS), on the Rasa port and the ports after it; ``make run-prod`` runs two that share
conversations through PostgreSQL and Redis, the default shape's each keep their own (web/rasa.py).

Starts the three (launcher/stack.py), waits until each answers, says where to talk to the assistant and
where the logs are, then watches them: when one exits, or on SIGINT / SIGTERM (``make stop`` sends
it to the pid in <var>/run.pid), all three are stopped and the supervisor exits.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from hotline.settings import PROJECT_ROOT, Settings

from launcher import processes
from launcher.endpoints import ConfigurationError, is_production
from launcher.stack import Stack, StartupError

START_TIMEOUT = float(os.environ.get("HOTLINE_START_TIMEOUT", 300))


class Stop(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m launcher.supervise", description=__doc__.splitlines()[0])
    parser.add_argument("--actions-port", type=int, default=processes.ACTIONS.port)
    parser.add_argument("--rasa-port", type=int, default=processes.RASA.port)
    parser.add_argument("--app-port", type=int, default=settings.app_port)
    parser.add_argument("--rasa-servers", type=int, default=settings.rasa_server_count, metavar="N",
                        help="N Rasa servers, on --rasa-port and the N-1 ports after it (default: "
                             "HOTLINE_RASA_SERVERS, else one per CPU core)")
    parser.add_argument("--extra-rasa-port", type=int, action="append", default=[],
                        help="one more Rasa server on this port")
    args = parser.parse_args(argv)
    if args.rasa_servers < 1:
        parser.error("--rasa-servers: at least 1")
    # Without a shared tracker store each server keeps its conversations in memory: the app keeps
    # each sender on one server and tells a resident whose conversation had to move (web/rasa.py).
    args.extra_rasa_port = [*range(args.rasa_port + 1, args.rasa_port + args.rasa_servers), *args.extra_rasa_port]

    pid_file = settings.var_dir / "run.pid"
    if (other := _running_pid(pid_file)) is not None:
        print(f"already running (pid {other}, {pid_file}): make stop ends it", file=sys.stderr)
        return 1
    stack = Stack(settings, actions_port=args.actions_port, rasa_port=args.rasa_port, app_port=args.app_port,
                  extra_rasa_ports=tuple(args.extra_rasa_port))

    def stop(signum, _frame):
        raise Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(f"{os.getpid()}\n")
    code = 0
    try:
        store = _store_identity(settings)
        stack.start()
        logs = sorted({_show(s.log_path.parent) for s in stack.services})
        rasa_ports = ", :".join(map(str, (args.rasa_port, *args.extra_rasa_port)))
        print(f"== starting: action server :{args.actions_port}, Rasa server :{rasa_ports} "
              f"(loads the model: about a minute), app :{args.app_port}; logs in {', '.join(logs)}",
              flush=True)
        stack.wait_ready(START_TIMEOUT, report=lambda s, took: print(
            f"   {s.name} ready after {took:.0f} s ({s.ready_url}, log {_show(s.log_path)})", flush=True))
        print(_banner(stack), flush=True)
        code = _watch(stack, settings, store)
    except (StartupError, ConfigurationError) as exc:
        print(f"== could not start: {exc}", file=sys.stderr, flush=True)
        code = 1
    except Stop as why:
        print(f"\n== {why}: stopping", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not interrupt the stop
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        pid_file.unlink(missing_ok=True)
        print(f"== stopped: {', '.join(s.name for s in stack.services) or 'nothing was started'}", flush=True)
    return code


def _watch(stack: Stack, settings: Settings, store: tuple[int, int] | None) -> int:
    """Until a process exits or the store file is replaced (exit code 1); a signal raises Stop."""
    while (gone := stack.check_running()) is None:
        if _store_identity(settings) != store:
            # The processes would no longer agree on which file is the store (pooled connections
            # keep the old one open, new connections open the new one): nothing they do is right.
            print(f"== the store {make_url(settings.database_url).database} was deleted or replaced "
                  "while running: stopping; run make run again", file=sys.stderr, flush=True)
            return 1
        for service in stack.services:  # var/log kept to a known size (docs/privacy.md)
            service.rotate(settings.log_max_mb * 1024 * 1024, settings.log_backups)
        time.sleep(1)
    print(f"== {gone.name} exited with code {gone.exited()} (log {_show(gone.log_path)}):\n"
          f"{gone.log_tail(15)}", file=sys.stderr, flush=True)
    return 1


def _banner(stack: Stack) -> str:
    if stack.extra_rasa_ports and not stack.settings.conversations_shared:
        return _banner_spread(stack)
    if stack.extra_rasa_ports or is_production(stack.settings):
        return _banner_prod(stack)
    return f"""
== the assistant is running. Talk to it (REST channel of the Rasa server):
   curl -s {stack.rasa_url.replace('http://127.0.0.1', 'localhost')}/webhooks/rest/webhook -d '{{"sender":"me","message":"你好"}}'
   health: curl -s {stack.app_url.replace('http://127.0.0.1', 'localhost')}/healthz
{_channels(stack)}
   Ctrl-C here (or make stop) stops all three."""


def _channels(stack: Stack) -> str:
    """Where agents and residents reach it: the console, and the WeChat gateway when configured."""
    app = stack.app_url.replace("127.0.0.1", "localhost")
    wechat = (f"{app}/wechat (point the official account's server URL here, through HTTPS)"
              if stack.settings.wechat_token else "/wechat is off: set WECHAT_TOKEN (docs/wechat.md)")
    return (f"   agent console: {app}/console/ (create an agent first: .venv/bin/hotline agent add NAME)\n"
            f"   WeChat: {wechat}")


def _banner_spread(stack: Stack) -> str:
    """The default shape with several Rasa servers (a core each): each keeps its own conversations."""
    first = stack.rasa_url.replace("http://127.0.0.1", "localhost")
    return f"""
== the assistant is running: {len(stack.rasa_urls)} Rasa servers, each keeping its own
   conversations; the app keeps each resident on one of them (web/rasa.py). Residents and agents come in
   through the app only. To try one server by hand (REST channel, keep to one server per sender):
   curl -s {first}/webhooks/rest/webhook -d '{{"sender":"me","message":"你好"}}'
   health: curl -s {stack.app_url.replace('http://127.0.0.1', 'localhost')}/healthz
{_channels(stack)}
   Ctrl-C here (or make stop) stops them all."""


def _banner_prod(stack: Stack) -> str:
    s = stack.settings
    rasa = "\n".join(f"   curl -s {url.replace('http://127.0.0.1', 'localhost')}/webhooks/rest/webhook "
                     f"-d '{{\"sender\":\"me\",\"message\":\"你好\"}}'" for url in stack.rasa_urls)
    backends = [f"store {_safe(s.database_url)}",
                f"trackers {_safe(s.tracker_store_url) if s.tracker_store_url else 'in memory (each Rasa server its own)'}",
                f"locks {_safe(s.lock_store_url) if s.lock_store_url else 'in memory'}",
                f"events {'RabbitMQ queue ' + s.rabbitmq_queue if s.rabbitmq_url else 'SQL broker into the store'}"]
    return f"""
== the assistant is running ({'; '.join(backends)}).
   The app spreads conversations over {len(stack.rasa_urls)} Rasa server(s) (web/rasa.py); any of them answers any
   conversation from the shared tracker store:
{rasa}
   health: curl -s {stack.app_url.replace('http://127.0.0.1', 'localhost')}/healthz
{_channels(stack)}
   Ctrl-C here (or make stop) stops them all."""


def _safe(url: str) -> str:
    """A URL as printed: without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def _store_identity(settings: Settings) -> tuple[int, int] | None:
    """(device, inode) of an SQLite store file, to notice it being replaced; None otherwise."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    try:
        st = os.stat(url.database)
    except FileNotFoundError:
        return (0, 0)
    return st.st_dev, st.st_ino


def _running_pid(pid_file: Path) -> int | None:
    """The pid of a supervisor still running, from its pid file (not a stale file's reused pid)."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"launcher.supervise" in cmdline else None


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
