"""Engine creation. Callers own the engine's lifetime (CLI run, app cleanup context, test fixture)."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
FILE_MODE = 0o600  # the store holds tickets' phones: readable by the service's user only


def make_engine(url: str, *, create: bool = False) -> Engine:
    """An engine on the store. ``create=True`` first brings its schema to head with the migrations
    (database/migrate.py; for the CLI's writing commands and tests): nothing creates tables at start."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        _private_file(Path(parsed.database))
    # hide_parameters: a failed statement's error (logged, and once shown by /healthz) quotes its SQL
    # but not its values, which are what residents wrote.
    # A server's connection may have been dropped while pooled (pinged first); SQLite's is a file.
    sqlite = parsed.get_backend_name() == "sqlite"
    engine = create_engine(url, pool_pre_ping=not sqlite, hide_parameters=True)
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    if create:
        from database.migrate import upgrade  # it makes engines through this module

        upgrade(engine)
    return engine


def _private_file(path: Path) -> None:
    """The SQLite file, created mode 0600 before SQLite creates it (its -wal and -shm files take the
    file's mode); an existing one of ours is narrowed to 0600."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        try:
            if path.stat().st_uid == os.geteuid() and path.stat().st_mode & 0o077:
                path.chmod(FILE_MODE)
        except OSError:
            pass  # not ours to change (a mounted volume): SQLite still opens it
        return
    os.close(fd)


def checkpoint(connection: Connection) -> None:
    """SQLite: the write-ahead log copied into the file and truncated to nothing, so that rows just
    deleted (broker events, which hold messages in clear) do not linger in it. Other backends: nothing."""
    if connection.dialect.name == "sqlite":
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Several processes write the store file: Rasa's event broker (its own SQLAlchemy 1.4 engine),
    # the app's call-log consumer, ingest. A writer waits up to SQLITE_BUSY_TIMEOUT_MS for the
    # write lock instead of failing with "database is locked" (set first: switching the journal
    # mode may itself wait). WAL (persistent in the file, so Rasa's connections use it too) lets
    # readers work while another process writes. Foreign keys are off by default in SQLite.
    # secure_delete: what a delete frees (the consumed broker rows: messages in clear) is overwritten
    # with zeros, not left in free pages of the file.
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()
