"""Before ``make run-prod`` starts anything: the databases it needs exist, the services answer.

    .venv/bin/python -m launcher.provision

From the settings (the environment): the PostgreSQL databases of the store (DATABASE_URL) and of
Rasa's trackers (HOTLINE_TRACKER_STORE_URL) are created when missing (on the same server, through
its ``postgres`` database); Redis (HOTLINE_LOCK_STORE_URL) and RabbitMQ (HOTLINE_RABBITMQ_URL) must
answer. One line each; exit code 1 with the reason when one does not.
"""
from __future__ import annotations

import asyncio
import socket
import sys
from urllib.parse import urlsplit

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
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=3) as sock:
            if parts.password:
                sock.sendall(_resp("AUTH", *([parts.username] if parts.username else []), parts.password))
                if not sock.recv(256).startswith(b"+OK"):
                    raise ProvisionError(f"Redis at {parts.hostname}: AUTH refused")
            sock.sendall(_resp("PING"))
            answer = sock.recv(256)
    except OSError as exc:
        raise ProvisionError(f"Redis at {parts.hostname}:{parts.port or 6379}: {exc}") from exc
    if not answer.startswith(b"+PONG"):
        raise ProvisionError(f"Redis at {parts.hostname}: answered {answer[:80]!r} to PING")


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
    the trackers' PostgreSQL databases, and delete the RabbitMQ queue and exchange."""
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
    if settings.lock_store_url:
        check_redis(settings.lock_store_url)
        say(f"   Redis {urlsplit(settings.lock_store_url).hostname} (Rasa's locks): answers")
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
