"""Rasa's endpoints, chosen by the settings: the embedded default or the production backends.

Rasa 3.6 reads its backends from an endpoints file, substitutes ``${VARIABLES}`` in it from its
environment (no defaults) and needs each backend's ``type:`` written in the file. So the choice is
made here, from ``Settings``, in two parts:

- the file: which backends, as ``${VARIABLES}`` only (no host, no password: nothing secret is ever
  written to disk). With none of the production settings it is the checked-in
  ``launcher/endpoints.embedded.yml``, unchanged (the repository's ``endpoints.yml`` is the same with
  ``make run``'s values written in, for Rasa run by hand); with all of them it is exactly the checked-in ``endpoints.prod.yml`` (the one the
  containers and the Helm values use; tests/test_prod_config.py keeps the two equal); any other mix
  is written to ``<var_dir>/endpoints.yml`` by ``launcher/stack.py``.
- the environment of each Rasa process: the values of those variables, split from the settings'
  URLs (Rasa's Redis lock store and RabbitMQ broker take host, port, ... separately).

Backends (docs/configuration.md):

- tracker store (HOTLINE_TRACKER_STORE_URL): shared by all Rasa servers, so any of them continues any
  conversation: Redis (redis://[:password@]host[:port][/db], one key a conversation: the production
  shape's) or PostgreSQL (postgresql://…, Rasa's SQL store, a row an event: slower, see bench/README.md).
  Default: in memory, per server. Every way masked and expiring (bot/server/trackers.py,
  HOTLINE_CONVERSATION_RETENTION_MINUTES).
- lock store (HOTLINE_LOCK_STORE_URL, redis://[:password@]host[:port][/db]): one Redis lock per
  conversation across servers, so two servers never process the same conversation at once.
- event broker (HOTLINE_RABBITMQ_URL, amqp://user:password@host[:port]): Rasa publishes every event
  to a fanout exchange and a durable queue, both named HOTLINE_RABBITMQ_QUEUE; the app's consumer
  (web/broker.py) moves them into the store. Default: Rasa's SQL broker writing into the store.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from sqlalchemy.engine import make_url

from hotline.settings import PROJECT_ROOT, Settings

EMBEDDED = Path(__file__).with_name("endpoints.embedded.yml")
PRODUCTION = PROJECT_ROOT / "endpoints.prod.yml"

# The variables of the files, and what Rasa's processes get in their environment.
ACTION_ENDPOINT = "HOTLINE_ACTION_ENDPOINT_URL"
SQL_BROKER = "HOTLINE_EVENT_BROKER_URL"
# Rasa's SQL broker, one transaction per turn (bot/server/brokers.py; the endpoints files name it too).
SQL_BROKER_TYPE = "bot.server.brokers.TurnSQLEventBroker"
# Rasa's pika broker with a watch that reconnects when aio-pika's own reconnection never comes
PIKA_BROKER_TYPE = "bot.server.brokers.ReconnectingPikaEventBroker"
TRACKER_STORE = "HOTLINE_TRACKER_STORE_URL"
RETENTION, MAX_CONVERSATIONS = "HOTLINE_CONVERSATION_RETENTION_MINUTES", "HOTLINE_TRACKER_MAX_CONVERSATIONS"
# Rasa's tracker stores, masked and expiring (bot/server/trackers.py; the endpoints files name them too).
IN_MEMORY_TYPE = "bot.server.trackers.ExpiringInMemoryTrackerStore"
SQL_TRACKER_TYPE = "bot.server.trackers.ExpiringSQLTrackerStore"
REDIS_TRACKER_TYPE = "bot.server.trackers.ExpiringRedisTrackerStore"
LOCK_HOST, LOCK_PORT, LOCK_DB, LOCK_PASSWORD = (
    "HOTLINE_LOCK_STORE_HOST", "HOTLINE_LOCK_STORE_PORT", "HOTLINE_LOCK_STORE_DB", "HOTLINE_LOCK_STORE_PASSWORD")
RABBIT_HOST, RABBIT_PORT, RABBIT_USER, RABBIT_PASSWORD, RABBIT_QUEUE = (
    "HOTLINE_RABBITMQ_HOST", "HOTLINE_RABBITMQ_PORT", "HOTLINE_RABBITMQ_USERNAME",
    "HOTLINE_RABBITMQ_PASSWORD", "HOTLINE_RABBITMQ_QUEUE")


class ConfigurationError(ValueError):
    """A production setting that cannot work; the message names the variable."""


@dataclass(frozen=True)
class RasaEndpoints:
    config: dict[str, Any] | None  # None: the checked-in EMBEDDED file, as it is
    env: dict[str, str]  # the values of the ${VARIABLES}, for every Rasa process

    @property
    def embedded(self) -> bool:
        return self.config is None

    def text(self) -> str:
        return render(self.config) if self.config is not None else EMBEDDED.read_text()

    def path(self, var_dir: Path) -> Path:
        """The file to give ``rasa run --endpoints``: a checked-in one, or one written to var_dir."""
        if self.config is None:
            return EMBEDDED
        text = self.text()
        if PRODUCTION.is_file() and PRODUCTION.read_text() == text:
            return PRODUCTION
        path = var_dir / "endpoints.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text() != text:
            tmp = path.with_suffix(".yml.tmp")
            tmp.write_text(text)
            tmp.replace(path)  # two stacks sharing a var dir never read half a file
        return path


def is_production(settings: Settings) -> bool:
    return any((settings.tracker_store_url, settings.lock_store_url, settings.rabbitmq_url))


def rasa_endpoints(settings: Settings, action_webhook: str, *, broker_url: str | None) -> RasaEndpoints:
    """The endpoints of a Rasa server reaching the action server at ``action_webhook``.

    ``broker_url``: the store's database as Rasa's SQL broker takes it (launcher/stack.py), used when no
    RabbitMQ is configured.
    """
    env = {ACTION_ENDPOINT: action_webhook, RETENTION: str(settings.conversation_retention_minutes)}
    in_memory = {MAX_CONVERSATIONS: str(settings.tracker_max_conversations)}
    if not is_production(settings):
        if broker_url is None:
            raise ConfigurationError("the embedded configuration needs the store as Rasa's SQL event broker")
        return RasaEndpoints(None, {**env, **in_memory, SQL_BROKER: broker_url})
    config: dict[str, Any] = {"action_endpoint": {"url": _var(ACTION_ENDPOINT)}}
    if settings.tracker_store_url:
        url = tracker_store_url(settings)
        config["tracker_store"] = {"type": REDIS_TRACKER_TYPE if url.startswith("redis:") else SQL_TRACKER_TYPE,
                                   "url": _var(TRACKER_STORE), "retention_minutes": _var(RETENTION)}
        env[TRACKER_STORE] = url
    else:
        config["tracker_store"] = {"type": IN_MEMORY_TYPE, "retention_minutes": _var(RETENTION),
                                   "max_conversations": _var(MAX_CONVERSATIONS)}
        env.update(in_memory)
    if settings.lock_store_url:
        config["lock_store"] = {"type": "redis", "url": _var(LOCK_HOST), "port": _var(LOCK_PORT),
                                "db": _var(LOCK_DB), "password": _var(LOCK_PASSWORD)}
        env.update(_redis_env(settings.lock_store_url))
    if settings.rabbitmq_url:
        config["event_broker"] = {"type": PIKA_BROKER_TYPE, "url": _var(RABBIT_HOST), "port": _var(RABBIT_PORT),
                                  "username": _var(RABBIT_USER), "password": _var(RABBIT_PASSWORD),
                                  "queues": [_var(RABBIT_QUEUE)], "exchange_name": _var(RABBIT_QUEUE)}
        env.update(_rabbit_env(settings.rabbitmq_url, settings.rabbitmq_queue))
    else:
        if broker_url is None:
            raise ConfigurationError("without HOTLINE_RABBITMQ_URL Rasa's events go to the store (SQL broker)")
        config["event_broker"] = {"type": SQL_BROKER_TYPE, "url": _var(SQL_BROKER)}
        env[SQL_BROKER] = broker_url
    return RasaEndpoints(config, env)


def tracker_store_url(settings: Settings) -> str:
    """HOTLINE_TRACKER_STORE_URL as the tracker store takes it: a Redis URL as it is; a PostgreSQL one
    as Rasa's SQLAlchemy 1.4 takes it (psycopg2: plain postgresql://).

    A PostgreSQL database must not be the store's own: Rasa's tracker store and its SQL event broker
    both name their table ``events``, with different columns.
    """
    assert settings.tracker_store_url
    if settings.tracker_store_url.startswith("redis:"):
        _redis_env(settings.tracker_store_url, TRACKER_STORE)  # checked as the lock store's
        return settings.tracker_store_url
    try:
        url = make_url(settings.tracker_store_url)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the same configuration error
        raise ConfigurationError(f"HOTLINE_TRACKER_STORE_URL is not a database URL ({exc})") from None
    if url.get_backend_name() != "postgresql":
        raise ConfigurationError(f"HOTLINE_TRACKER_STORE_URL: Redis or PostgreSQL, not {url.get_backend_name()}")
    store = make_url(settings.database_url)
    if (store.get_backend_name(), store.host, store.port or 5432, store.database) == (
            "postgresql", url.host, url.port or 5432, url.database):
        raise ConfigurationError("HOTLINE_TRACKER_STORE_URL is the store's database (DATABASE_URL): "
                                 "give Rasa's trackers a database of their own (both use a table 'events')")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _redis_env(value: str, variable: str = "HOTLINE_LOCK_STORE_URL") -> dict[str, str]:
    url = urlsplit(value)
    if url.scheme != "redis" or not url.hostname:
        raise ConfigurationError(f"{variable}: redis://[:password@]host[:port][/db]")
    db = url.path.strip("/") or "1"
    try:
        port = url.port or 6379
    except ValueError:
        raise ConfigurationError(f"{variable}: the port is not a number") from None
    if not db.isdigit():
        raise ConfigurationError(f"{variable}: the database {db!r} is not a number")
    return {LOCK_HOST: url.hostname, LOCK_PORT: str(port), LOCK_DB: db,
            LOCK_PASSWORD: unquote(url.password or "")}


def _rabbit_env(value: str, queue: str) -> dict[str, str]:
    url = urlsplit(value)
    if url.scheme != "amqp" or not url.hostname:
        raise ConfigurationError("HOTLINE_RABBITMQ_URL: amqp://user:password@host[:port]")
    if url.path.strip("/"):
        # Rasa's broker connects to the default virtual host when given a host name.
        raise ConfigurationError("HOTLINE_RABBITMQ_URL: only the default virtual host (/) is supported")
    try:
        port = url.port or 5672
    except ValueError:
        raise ConfigurationError("HOTLINE_RABBITMQ_URL: the port is not a number") from None
    if not queue.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise ConfigurationError(f"HOTLINE_RABBITMQ_QUEUE {queue!r}: letters, digits, _ - . only")
    return {RABBIT_HOST: url.hostname, RABBIT_PORT: str(port),
            RABBIT_USER: unquote(url.username or "guest"), RABBIT_PASSWORD: unquote(url.password or "guest"),
            RABBIT_QUEUE: queue}


def _var(name: str) -> str:
    return "${" + name + "}"


HEADER = """\
# Rasa's endpoints for the production shape: tracker store and lock store on Redis (the trackers masked
# and expiring: bot/server/trackers.py), event broker on RabbitMQ (launcher/endpoints.py
# writes this file; launcher/endpoints.embedded.yml is the embedded default). Only ${VARIABLES}:
# Rasa substitutes them from its environment when it starts (launcher/stack.py sets them from the
# HOTLINE_* settings; docker-compose.yml and docs/deploy.md list them). Nothing secret is written here.
"""


def render(config: dict[str, Any]) -> str:
    # Plain (unquoted) scalars: Rasa substitutes ${VARIABLES} only in those.
    body = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return HEADER + body
