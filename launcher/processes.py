"""The three processes of the running system: how each is started and where it listens, written once.

launcher/stack.py starts them from these (``make run``, ``make run-prod``, ``make shell``, tests/e2e,
tests/prod, bench/loadtest.py); hotline/settings.py takes the app's default port and the default Rasa
URL from here. The Dockerfile and docker-compose.yml cannot import Python: they spell the same argv
and ports, and tests/launcher/test_container.py compares them with these.

Every command starts with ``python``: the interpreter of the process's environment (.venv for the
action server and the app, .venv-rasa for Rasa; in the images /opt/venv/bin/python, on PATH).
Importing this module has no side effect and needs nothing beyond the standard library.
"""
from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Union

LOOPBACK = "127.0.0.1"
PYTHON = "python"


@dataclass(frozen=True)
class Process:
    name: str  # as the stack and its messages call it
    port: int  # the default port
    health_path: str  # answers 200 once the process is ready

    def url(self, port: int | None = None, host: str = LOOPBACK) -> str:
        return f"http://{host}:{self.port if port is None else port}"

    def health_url(self, port: int | None = None, host: str = LOOPBACK) -> str:
        return self.url(port, host) + self.health_path


ACTIONS = Process("action server", 5055, "/health")
RASA = Process("Rasa server", 5005, "/")  # answers once the model is loaded
APP = Process("app", 8080, "/healthz")

# `rasa` as the hotline runs it: Rasa's own command line (same sub-commands, options, exit status)
# with one repair made first (bot/server/). The Rasa image's ENTRYPOINT: container args start at `run`.
RASA_COMMAND = (PYTHON, "-m", "bot.server")

StrPath = Union[str, "PathLike[str]"]
# Rasa's logging config, for every Rasa process: it silences the loggers that write messages in clear.
LOGGING_CONFIG = Path(__file__).resolve().parent.parent / "rasa-logging.yml"


def actions_argv(port: int = ACTIONS.port) -> list[str]:
    """rasa_sdk's action server on actions/ (needs SQLAlchemy 2: .venv or the app image)."""
    return [PYTHON, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]


def rasa_argv(*, model: StrPath, endpoints: StrPath, credentials: StrPath, interface: str,
              port: int = RASA.port, logging_config: StrPath = LOGGING_CONFIG) -> list[str]:
    """`rasa run`. The HTTP API stays off (no --enable-api): only the channels of credentials.yml.
    Always with rasa-logging.yml, which keeps what residents wrote out of Rasa's log."""
    return [*RASA_COMMAND, "run", "--model", str(model), "--interface", interface, "--port", str(port),
            "--credentials", str(credentials), "--endpoints", str(endpoints),
            "--logging-config-file", str(logging_config)]


def app_argv() -> list[str]:
    """Our app (web/): the WeChat gateway, the agent console, /healthz. The same as `hotline-app`."""
    return [PYTHON, "-m", "web"]


def with_python(argv: list[str], python: StrPath) -> list[str]:
    """``argv`` run by a given interpreter instead of the ``python`` on PATH."""
    assert argv[0] == PYTHON, argv
    return [str(python), *argv[1:]]
