"""Fixtures: the seed bulletins, parsed once; real stores on SQLite and PostgreSQL.

PostgreSQL tests create a database of their own on the machine's server (127.0.0.1:5432, trust
auth) and drop it afterwards. Without a server they skip and say why; under CI (CI=true) a missing
server is a failure, not a skip.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import actions.db
from database.engine import make_engine
from hotline.models import (
    CallConversation,
    CallLogCursor,
    CallTurn,
    events,
    Ticket,
    TicketChange,
    TicketCounter,
)
from knowledge.bulletin.parser import parse_bulletin
from knowledge.names import load_reference
from hotline.settings import Settings
from knowledge.ingest import ingest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = Path(os.environ.get("HOTLINE_SEEDS", ROOT.parent / "shared" / "seeds"))
SEED_2023 = SEEDS / "000_68f205511abf21ee.txt"
SEED_2019 = SEEDS / "001_579619885f2506f0.txt"
PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def seeds() -> list[Path]:
    if not SEED_2023.is_file() or not SEED_2019.is_file():
        pytest.fail(f"seed bulletins not found under {SEEDS} (set HOTLINE_SEEDS)")
    return [SEED_2023, SEED_2019]


@pytest.fixture(scope="session")
def parsed_2023(seeds):
    return parse_bulletin(SEED_2023.read_bytes(), SEED_2023.name)


@pytest.fixture(scope="session")
def parsed_2019(seeds):
    return parse_bulletin(SEED_2019.read_bytes(), SEED_2019.name)


def _postgres_database():
    """Create a throwaway database; yield its URL; drop it."""
    # pool_pre_ping: the fault tests (tests/prod) restart the server while a session's databases live;
    # the drop at the end must not reuse a connection the restart cut.
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means: no server here
        admin.dispose()
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__}); set HOTLINE_TEST_PG"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        admin.dispose()  # a fresh connection for the drop
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A fresh, empty store on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'hotline.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture(scope="session")
def engine(database_url, parsed_2023, parsed_2019):
    """The store with both seed bulletins ingested, once per backend. Its schema is made by the
    migrations (make_engine create=True), as in production, so every store test exercises them."""
    engine = make_engine(database_url, create=True)
    with Session(engine) as session, session.begin():
        for parsed in (parsed_2023, parsed_2019):
            ingest(session, parsed, load_reference())
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    """A session whose work is rolled back after the test, whatever it committed."""
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            yield session
        transaction.rollback()


@pytest.fixture
def empty_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def action_store(engine, monkeypatch, tmp_path):
    """The action server's store is the test store; whatever an action commits is rolled back."""
    with engine.connect() as connection:
        transaction = connection.begin()
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        monkeypatch.setattr(actions.db, "sessions", lambda: factory)
        monkeypatch.setattr(actions.db, "settings", lambda: Settings.from_env(
            {"HOTLINE_VAR_DIR": str(tmp_path), "DATABASE_URL": str(engine.url)}))
        yield connection
        transaction.rollback()


@pytest.fixture
def wipe(engine):
    """For tests that commit tickets, call-log turns or broker rows to the shared store: empties
    them before the test, after it, and whenever the test calls the fixture's value."""
    def empty() -> None:
        with engine.begin() as conn:
            for table in (CallTurn, CallConversation, CallLogCursor, TicketChange, Ticket, TicketCounter):
                conn.execute(delete(table))
            conn.execute(delete(events))

    empty()
    yield empty
    empty()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """The fault tests (tests/prod) stop and restart PostgreSQL, Redis and RabbitMQ: they run last, after
    pytest has ordered the rest by their fixtures, so that no other test's connections are cut."""
    items.sort(key=lambda item: "/tests/prod/" in str(item.path).replace("\\", "/"))
