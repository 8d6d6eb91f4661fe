"""Rasa's own habits on the hotline: ``make actions`` and ``make shell``.

    .venv/bin/python -m launcher.shell actions   the action server alone, on its port, until Ctrl-C
                                                 (for `rasa shell` / `rasa run` in another terminal:
                                                 endpoints.yml names it)
    .venv/bin/python -m launcher.shell shell [RASA SHELL OPTIONS]
                                                 `rasa shell` on the trained model in this terminal,
                                                 with an action server of its own started alongside
                                                 and stopped when the shell ends

Both use the store of the settings (DATABASE_URL, HOTLINE_VAR_DIR: the Makefile gives make run's),
and start the processes as launcher/processes.py defines them. The shell's action server and its
Rasa take free ports, so that ``make shell`` works beside ``make run``.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from hotline.settings import Settings

from launcher import processes
from launcher.endpoints import ConfigurationError, rasa_endpoints
from launcher.stack import (HOST, MODEL, RASA, RASA_ENV_DEFAULTS, RASA_PYTHON, StartupError, action_server,
                            event_broker_url, free_ports, port_in_use)

READY_TIMEOUT = 60.0  # seconds the action server gets to answer


def _env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "DATABASE_URL": settings.database_url,
            "HOTLINE_VAR_DIR": str(settings.var_dir)}


def actions(settings: Settings) -> int:
    port = processes.ACTIONS.port
    if port_in_use(port):
        print(f"port {port} is in use on {HOST} (make run's action server? make stop ends it)", file=sys.stderr)
        return 1
    argv = processes.with_python(processes.actions_argv(port), sys.executable)
    print(f"== action server on {processes.ACTIONS.url(port)} (store {settings.database_url}); Ctrl-C stops it",
          flush=True)
    os.execve(argv[0], argv, {**_env(settings), "SANIC_HOST": HOST})
    return 1  # not reached


def shell(settings: Settings, rasa_options: list[str]) -> int:
    if not MODEL.is_file():
        raise StartupError(f"no trained model at {MODEL}: run make model first")
    if not RASA.is_file():
        raise StartupError(f"{RASA} not found: run make setup first")
    env = _env(settings)
    actions_port, rasa_port = free_ports(2)
    server = action_server(actions_port, env, settings.var_dir / "log" / "shell-actions.log")
    endpoints = rasa_endpoints(
        settings, f"{processes.ACTIONS.url(actions_port)}/webhook",
        broker_url=None if settings.rabbitmq_url else event_broker_url(settings.database_url))
    argv = processes.with_python([*processes.RASA_COMMAND, "shell", "--model", str(MODEL), "--port",
                                  str(rasa_port), "--endpoints", str(endpoints.path(settings.var_dir)),
                                  "--logging-config-file", str(processes.LOGGING_CONFIG), *rasa_options], RASA_PYTHON)
    server.start()
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not server.answers():
            if server.exited() is not None or time.monotonic() > deadline:
                raise StartupError(f"the action server did not start (log: {server.log_path}):\n"
                                   f"{server.log_tail()}")
            time.sleep(0.3)
        print(f"== action server on {server.ready_url} (log {server.log_path}); rasa shell loads the model "
              "(about a minute), /stop or Ctrl-C ends it", flush=True)
        # Ctrl-C belongs to the shell: here it only must not stop the wait (a handler, not SIG_IGN,
        # which the shell would inherit).
        previous = signal.signal(signal.SIGINT, lambda *_: None)
        try:
            return subprocess.call(argv, env={**RASA_ENV_DEFAULTS, **env, **endpoints.env})
        finally:
            signal.signal(signal.SIGINT, previous)
    finally:
        server.signal(signal.SIGTERM)
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.signal(signal.SIGKILL)
            server.process.wait()
        server.close_log()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ("actions", "shell") or (argv[0] == "actions" and argv[1:]):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    settings = Settings.from_env()
    try:
        return actions(settings) if argv[0] == "actions" else shell(settings, argv[1:])
    except (StartupError, ConfigurationError) as exc:
        print(f"== could not start: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
