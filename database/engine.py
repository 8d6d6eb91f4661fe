"""Engine creation. Callers own the engine's lifetime (CLI run, app cleanup context, test fixture)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, *, create: bool = False) -> Engine:
    """An engine on the store. ``create=True`` first brings its schema to head with the migrations
    (database/migrate.py; for the CLI's writing commands and tests): nothing creates tables at start."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if create:
        from database.migrate import upgrade  # it makes engines through this module

        upgrade(engine)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Several processes write the store file: Rasa's event broker (its own SQLAlchemy 1.4 engine),
    # the app's call-log consumer, ingest. A writer waits up to SQLITE_BUSY_TIMEOUT_MS for the
    # write lock instead of failing with "database is locked" (set first: switching the journal
    # mode may itself wait). WAL (persistent in the file, so Rasa's connections use it too) lets
    # readers work while another process writes. Foreign keys are off by default in SQLite.
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()
