"""Before ``make run-prod`` starts anything: the databases it needs exist, the services answer.

    .venv/bin/python -m launcher.provision

From the settings (the environment): the PostgreSQL databases of the store (DATABASE_URL) and, when
they are on PostgreSQL, of Rasa's trackers (HOTLINE_TRACKER_STORE_URL) are created when missing (on
the same server, through its ``postgres`` database); Redis (HOTLINE_LOCK_STORE_URL, and the trackers'
when they are there) and RabbitMQ (HOTLINE_RABBITMQ_URL) must answer. One line each; exit code 1 with the reason when one does not.
"""
from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hotline.settings import Settings, normalise_url

from launcher.endpoints import ConfigurationError, rasa_endpoints, tracker_store_url


class ProvisionError(RuntimeError):
    pass


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database of ``url`` when it does not exist; True when it was created."""
    target = make_url(normalise_url(url))
    if target.get_backend_name() != "postgresql":
        return False
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.scalar(text("select 1 from pg_database where datname = :name"), {"name": target.database}):
                return False
            # A name cannot be a bind parameter: quoted as an identifier.
            conn.execute(text('create database "{}"'.format(target.database.replace('"', '""'))))
            return True
    except Exception as exc:  # noqa: BLE001 - reported with the server's own message
        raise ProvisionError(f"PostgreSQL at {target.host}:{target.port or 5432}: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0]}") from exc
    finally:
        admin.dispose()


def check_redis(url: str) -> None:
    """PING over the Redis protocol (RESP), by hand: the app's environment has no Redis client."""
    parts = urlsplit(url)
    answer = redis_command(url, "PING", select=False)
    if answer != "PONG":
        raise ProvisionError(f"Redis at {parts.hostname}: answered {answer!r} to PING")


# Rasa's conversations in a Redis tracker store (bot/server/trackers.py: keys tracker:<sender>).
_TRACKER_KEYS = "tracker:*"
# One command for all of them: KEYS and DEL inside Redis (a throw-away run's database holds a few).
_DELETE_KEYS = ("local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do "
                "redis.call('DEL', k) n = n + 1 end return n")


def redis_command(url: str, *words: str, select: bool = True) -> Any:
    """One command to the Redis of ``url`` (AUTH with its password, SELECT its database first): its
    reply (str, int, bytes for bulk strings, list, None). A Redis error raises ProvisionError."""
    parts = urlsplit(url)
    commands = []
    if parts.password:
        commands.append(("AUTH", *([unquote(parts.username)] if parts.username else []), unquote(parts.password)))
    if select and parts.path.strip("/"):
        commands.append(("SELECT", parts.path.strip("/")))
    commands.append(words)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=5) as sock:
            reader = sock.makefile("rb")
            sock.sendall(b"".join(_resp(*command) for command in commands))
            replies = [_reply(reader) for _ in commands]
    except OSError as exc:
        raise ProvisionError(f"Redis at {parts.hostname}:{parts.port or 6379}: {exc}") from exc
    for reply in replies:
        if isinstance(reply, _RedisError):
            raise ProvisionError(f"Redis at {parts.hostname}: {reply}")
    return replies[-1]


class _RedisError(str):
    pass


def _reply(reader) -> Any:
    line = reader.readline()
    if not line.endswith(b"\r\n"):
        raise OSError("the connection closed mid-reply")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        return _RedisError(rest.decode(errors="replace"))
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else reader.read(size + 2)[:-2]
    if kind == b"*":
        size = int(rest)
        return None if size < 0 else [_reply(reader) for _ in range(size)]
    raise OSError(f"not a Redis reply: {line[:40]!r}")


def _resp(*words: str) -> bytes:
    out = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def check_rabbitmq(url: str) -> None:
    import aio_pika

    async def connect() -> None:
        connection = await aio_pika.connect(url, timeout=5)
        await connection.close()

    try:
        asyncio.run(connect())
    except Exception as exc:  # noqa: BLE001 - reported, without the URL's password
        parts = urlsplit(url)
        raise ProvisionError(f"RabbitMQ at {parts.hostname}:{parts.port or 5672}: "
                             f"{type(exc).__name__}: {exc}") from exc


def deprovision(settings: Settings) -> None:
    """Undo ``provision`` for a throw-away run (tests/prod, bench/loadtest.py): drop the store's and
    the trackers' PostgreSQL databases (or their keys in Redis), and delete the RabbitMQ queue and exchange."""
    if settings.tracker_store_url and settings.tracker_store_url.startswith("redis:"):
        redis_command(settings.tracker_store_url, "EVAL", _DELETE_KEYS, "0", _TRACKER_KEYS)
    for url in (settings.database_url, settings.tracker_store_url):
        target = make_url(normalise_url(url)) if url else None
        if target is None or target.get_backend_name() != "postgresql":
            continue
        admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text('drop database if exists "{}" with (force)'.format(
                    target.database.replace('"', '""'))))
        finally:
            admin.dispose()
    if settings.rabbitmq_url:
        asyncio.run(_delete_queue(settings.rabbitmq_url, settings.rabbitmq_queue))


async def _delete_queue(url: str, queue: str) -> None:
    import aio_pika

    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)
        await channel.exchange_delete(queue)


def provision(settings: Settings, say=print) -> None:
    # The configuration as Rasa will get it, checked before anything is created.
    rasa_endpoints(settings, "http://127.0.0.1/webhook", broker_url=None if settings.rabbitmq_url else "-")
    for what, url in (("store", settings.database_url), ("Rasa trackers", settings.tracker_store_url)):
        if url and make_url(normalise_url(url)).get_backend_name() == "postgresql":
            if what == "Rasa trackers":
                tracker_store_url(settings)  # not the store's own database
            name = make_url(normalise_url(url)).database
            say(f"   PostgreSQL database {name} ({what}): {'created' if ensure_database(url) else 'exists'}")
    for what, url in (("Rasa trackers", settings.tracker_store_url), ("Rasa's locks", settings.lock_store_url)):
        if url and url.startswith("redis:"):
            check_redis(url)
            say(f"   Redis {urlsplit(url).hostname} ({what}): answers")
    if settings.rabbitmq_url:
        check_rabbitmq(settings.rabbitmq_url)
        say(f"   RabbitMQ {urlsplit(settings.rabbitmq_url).hostname} (Rasa's events, queue "
            f"{settings.rabbitmq_queue}): answers")


def main() -> int:
    try:
        provision(Settings.from_env())
    except (ProvisionError, ConfigurationError) as exc:
        print(f"== cannot run: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
