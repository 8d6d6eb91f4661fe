"""Schema migrations (database/migrate.py, database/migrations) on SQLite and PostgreSQL.

Each test gets a fresh, empty database of its own. The reference is the models' metadata: Alembic's
autogenerate comparison of a migrated database with it must find nothing, and a store made the way
every deployment before migrations was (``Base.metadata.create_all``) must come through an upgrade
with every row it had.
"""
from __future__ import annotations

import logging
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, Text, event, insert, inspect, select, text
from sqlalchemy.orm import Session

from conftest import _postgres_database
from database import migrate
from database.engine import make_engine
from database.models import metadata
from hotline import tickets
from hotline.cli import main
from hotline.models import CallConversation, CallLogCursor, CallTurn, TicketChange, events
from hotline.settings import Settings
from knowledge.ingest import ingest
from knowledge.names import load_reference
from web.app import create_app

OURS = sorted(t.name for t in metadata.sorted_tables if t.name not in migrate.RASA_TABLES)
LATER_TABLES = {"handoff", "handoff_message"}  # made by 0003_handoff, after the baseline
DDL = re.compile(r"^\s*(create|alter|drop)\b", re.IGNORECASE)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """A fresh, empty database per test (PostgreSQL: created on the test server, dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def engine(url):
    """This module's own (not conftest's shared, migrated store): on the empty database. create=False,
    so nothing is made behind the test's back."""
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _diffs(engine: Engine, *, filtered: bool = True) -> list:
    """What autogenerate would write: the models against the database. ``filtered``: as env.py
    compares (Rasa's events left out); unfiltered: every table of the models, events included."""
    opts = {"compare_type": True}
    if filtered:
        opts.update(include_name=migrate.include_name, include_object=migrate.include_object)
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _version(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(text("select version_num from alembic_version")))


def _snapshot(engine: Engine) -> dict[str, list]:
    """Every row of every table of the models the database has, in a stable order."""
    present = _tables(engine)
    with engine.connect() as conn:
        return {t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
                for t in metadata.sorted_tables if t.name in present}


class Statements:
    """The SQL an engine runs while this is on."""

    def __init__(self, engine: Engine):
        self.engine, self.seen = engine, []

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, *_args) -> None:
        self.seen.append(statement)


def _legacy_store(engine: Engine, parsed, *, tables=None) -> None:
    """A store as create_all made it before migrations, with rows in every part of it."""
    metadata.create_all(engine, tables=tables)
    with Session(engine) as s, s.begin():
        ingest(s, parsed, load_reference())
        now = datetime(2026, 11, 22, 2, 30)
        first = tickets.open_ticket(s, hospital="南京鼓楼医院", description="挂号排队太久", occurred="昨天下午",
                                    phone="13912345678", sender="c0ffee0000000001", now=now)
        tickets.register_work_order(s, kind="市12345工单", hospital="江苏省人民医院", description="退费慢",
                                    occurred="上周", phone=None, actor="agent-wang", now=now)
        s.flush()
        tickets.change_status(s, first.number, "in_progress", actor="agent-wang", note="已联系", now=now)
        conversation = CallConversation(sender="c0ffee0000000001", number=1, started=now, category="投诉",
                                        loop=None, last_category="投诉")
        s.add(conversation)
        s.flush()
        for n, said in enumerate(["我要投诉", "鼓楼医院", "挂号排队太久"]):
            s.add(CallTurn(event_key=f"m{n}", conversation_id=conversation.id, time=now, sender="c0ffee0000000001",
                           channel="wechat", text=said, intent="complain", confidence=0.9, category="投诉",
                           entities=[{"entity": "hospital", "value": "南京鼓楼医院"}], ticket=first.number))
        s.add(CallLogCursor(id=1, consumed=42, last_run=now))
        s.execute(insert(events).values(sender_id="not-yet-consumed", data='{"event": "user"}'))


# --- (a) an empty database upgraded is exactly the models' schema ---------------------------------

def test_upgrade_of_an_empty_database_is_the_models_schema(engine):
    assert not migrate.current(engine).up_to_date and not migrate.current(engine).legacy
    status = migrate.upgrade(engine)
    assert status.up_to_date and status.revision == migrate.head() == _version(engine)[0]
    assert _tables(engine) == {*OURS, "events", "alembic_version"}
    assert _diffs(engine) == []
    # Rasa's events table too, in the shape hotline/models.py copies from Rasa.
    assert _diffs(engine, filtered=False) == []


def test_the_comparison_sees_a_difference(engine):
    # The check above is not vacuous: a missing index, a column of another type and an extra
    # column are all reported (on both backends).
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("drop index ix_fact_lookup"))
        conn.execute(text("alter table agent add column nickname varchar(20)"))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("alter table ticket alter column hospital type varchar(50)"))
    found = {d[0] if isinstance(d, tuple) else d[0][0] for d in _diffs(engine)}
    assert {"add_index", "remove_column"} <= found, _diffs(engine)
    if engine.dialect.name == "postgresql":
        assert "modify_type" in found


def test_autogenerate_never_touches_rasas_events_table(engine):
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("drop table events"))
        conn.execute(text("create table events (id integer primary key, sender_id varchar(255), data text, "
                          "extra integer)"))
    assert _diffs(engine) == []  # whatever shape Rasa gives it: not ours to migrate
    assert _diffs(engine, filtered=False) != []


def test_one_linear_history_from_0001():
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1
    assert [r.revision for r in script.walk_revisions()][-1] == migrate.BASELINE
    baseline = script.get_revision(migrate.BASELINE).module
    # The legacy check's list and the tables of later revisions are the whole schema of today.
    assert sorted({*baseline.TABLES, *LATER_TABLES}) == OURS


# --- (b) a store made before migrations is stamped and loses nothing -----------------------------

def test_a_store_made_by_create_all_is_stamped_and_keeps_every_row(engine, parsed_2019, caplog):
    _legacy_store(engine, parsed_2019)
    before = _snapshot(engine)
    for name in ("ticket", "ticket_change", "ticket_counter", "call_conversation", "call_turn",
                 "call_log_consumer", "events", "fact", "bulletin"):
        assert before[name], name
    assert len(before[TicketChange.__tablename__]) == 3  # two openings, one move
    status = migrate.current(engine)
    assert status.legacy and status.revision is None

    caplog.set_level(logging.INFO)
    with Statements(engine) as seen:
        status = migrate.upgrade(engine)
    assert status.up_to_date and _version(engine) == [migrate.head()]
    # Stamped, not rebuilt: 0001 did not run, the only table created is Alembic's own.
    assert "store made before migrations: stamped 0001" in caplog.messages
    assert not any(m.startswith("Running upgrade  -> 0001") for m in caplog.messages), caplog.messages
    created = [s for s in seen if DDL.match(s)]
    assert len(created) == 1 and "alembic_version" in created[0], created
    assert _snapshot(engine) == before
    assert _diffs(engine) == [] and _diffs(engine, filtered=False) == []


def test_a_store_older_than_some_tables_gets_them(engine, parsed_2019, caplog):
    # Last started before the console and the WeChat gateway existed: create_all never made their tables.
    later = {"agent", "console_session", "login_failure", "ticket_audit", "wechat_message", "wechat_choice"}
    _legacy_store(engine, parsed_2019, tables=[t for t in metadata.sorted_tables if t.name not in later])
    before = _snapshot(engine)
    assert migrate.upgrade(engine).up_to_date
    assert any(m.startswith("store made before migrations, without agent") for m in caplog.messages)
    assert _tables(engine) == {*OURS, "events", "alembic_version"}
    after = _snapshot(engine)
    assert {name: after[name] for name in before} == before
    assert all(after[name] == [] for name in later)
    assert _diffs(engine) == []


def test_events_made_by_rasa_first_are_kept(engine):
    # Rasa's SQL broker may create its table (and write to it) before the first `hotline db upgrade`.
    rasa = Table("events", MetaData(), Column("id", Integer, primary_key=True),  # as rasa/core/brokers/sql.py
                 Column("sender_id", String(255)), Column("data", Text))
    rasa.create(engine)
    with engine.begin() as conn:
        conn.execute(insert(rasa).values(sender_id="s1", data="{}"))
    assert not migrate.current(engine).legacy  # no ticket table: a new store, not an old one
    assert migrate.upgrade(engine).up_to_date
    with engine.connect() as conn:
        assert conn.execute(text("select sender_id, data from events")).all() == [("s1", "{}")]
    assert _diffs(engine, filtered=False) == []


# --- (c) upgrading twice is a no-op ------------------------------------------------------------

@pytest.mark.parametrize("made_by", ["migrations", "create_all"])
def test_upgrading_twice_changes_nothing(engine, parsed_2019, made_by):
    if made_by == "create_all":
        _legacy_store(engine, parsed_2019)
    migrate.upgrade(engine)
    before, version = _snapshot(engine), _version(engine)
    with Statements(engine) as seen:
        status = migrate.upgrade(engine)
    assert status.up_to_date
    assert [s for s in seen if DDL.match(s) or re.match(r"^\s*(insert|update|delete)\b", s, re.I)] == []
    assert _snapshot(engine) == before and _version(engine) == version
    assert _diffs(engine) == []


# --- who refuses an old schema, and the commands -------------------------------------------------

def test_make_engine_creates_nothing_unless_asked(url):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        assert _tables(engine) == set()
    finally:
        engine.dispose()
    engine = make_engine(url, create=True)
    try:
        assert migrate.current(engine).up_to_date
    finally:
        engine.dispose()


async def test_the_app_refuses_a_store_whose_schema_is_behind(url, tmp_path):
    settings = Settings(database_url=url, var_dir=tmp_path, rasa_url="http://127.0.0.1:9", secret_key_env=b"k" * 32)
    server = TestServer(create_app(settings))
    with pytest.raises(migrate.StoreNotMigrated, match="hotline db upgrade"):
        await server.start_server()
    await server.close()


def test_db_commands(url, capsys):
    db = ["--database-url", url]
    assert main([*db, "db", "current"]) == 1
    assert "none, no schema" in capsys.readouterr().out
    assert main([*db, "tickets"]) == 1  # reading commands do not migrate, and say what to do
    assert "run `hotline db upgrade`" in capsys.readouterr().err
    assert main([*db, "db", "upgrade"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"none -> {migrate.head()} (head)")
    assert main([*db, "db", "current"]) == 0
    assert f"{migrate.head()} (head)" in capsys.readouterr().out
    assert main([*db, "tickets"]) == 0


def test_db_upgrade_says_it_stamped_an_old_store(engine, url, capsys, parsed_2019):
    _legacy_store(engine, parsed_2019)
    assert main(["--database-url", url, "db", "current"]) == 1
    assert "made before migrations" in capsys.readouterr().out
    assert main(["--database-url", url, "db", "upgrade"]) == 0
    assert f"(made before migrations: stamped 0001) -> {migrate.head()} (head)" in capsys.readouterr().out


def test_writing_commands_migrate_a_new_store_first(url):
    assert main(["--database-url", url, "work-order", "--kind", "市12345工单", "--hospital", "南京鼓楼医院",
                 "--description", "退费慢", "--occurred", "上周", "--actor", "agent-wang"]) == 0
    assert migrate.current(url).up_to_date


def test_concurrent_upgrades_of_one_postgresql_store_take_turns(url):
    # Containers may run `hotline db upgrade` at the same time: an advisory lock serialises them.
    # Processes, as in production (Alembic's op/context proxies are per process, not per thread).
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: a SQLite store is upgraded by one `make run`")
    hotline = Path(sys.executable).with_name("hotline")
    runs = [subprocess.Popen([str(hotline), "--database-url", url, "db", "upgrade"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(4)]
    done = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    assert [code for code, _, _ in done] == [0] * 4, done
    assert all(out.rstrip().endswith(f"-> {migrate.head()} (head)") for _, out, _ in done), done
    engine = make_engine(url)
    try:
        assert _version(engine) == [migrate.head()] and _diffs(engine) == []
    finally:
        engine.dispose()
