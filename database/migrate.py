"""Schema migrations of the store (Alembic; the revisions are in database/migrations/versions).

    upgrade(url_or_engine, revision="head") -> Status   bring a store to a revision (a new one too)
    current(url_or_engine) -> Status                    which revision a store is at
    require_current(url_or_engine)                      raise StoreNotMigrated unless it is at head

The Alembic configuration is built here, not read from an alembic.ini: the caller names the store
and env.py gets its connection. ``hotline db upgrade`` and ``hotline db current`` are the commands;
``python -m database.migrate revision -m MESSAGE`` writes a new revision for developers (below).

Stores made before migrations existed (``Base.metadata.create_all`` at every start) have revision
0001's tables and no ``alembic_version`` table: they are recognised by their ``ticket`` table and
stamped 0001 before the upgrade. One that lacks some of 0001's tables (last started before those
existed) gets them from 0001 itself, which creates only the tables a store does not have.

Rasa's ``events`` table (its SQL event broker's, shared with our call-log consumer) is created by
0001 in Rasa's own shape when missing, as Rasa does; autogenerate ignores it afterwards (RASA_TABLES):
its shape is Rasa's to change, never ours.
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Union

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().with_name("migrations")
BASELINE = "0001"  # the schema create_all made before migrations existed
LEGACY_MARKER = "ticket"  # a table every store made by create_all has
RASA_TABLES = frozenset({"events"})
# One migration at a time per PostgreSQL database (containers may start `db upgrade` together);
# a transaction-level advisory lock, released at commit.
PG_LOCK_KEY = 12320_0001

Target = Union[str, URL, Engine]


class StoreNotMigrated(RuntimeError):
    pass


@dataclass(frozen=True)
class Status:
    revision: str | None  # alembic_version's; None when the store has none
    head: str
    legacy: bool = False  # no alembic_version but tables made by create_all: upgrade stamps it
    known: bool = True  # False: a revision this release does not have (a newer release migrated it)

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head

    def __str__(self) -> str:
        if self.up_to_date:
            return f"{self.revision} (head)"
        if self.revision is None:
            what = "made before migrations (upgrade stamps it 0001)" if self.legacy else "no schema"
            return f"none, {what}; head is {self.head}"
        if not self.known:
            return f"{self.revision}, unknown to this release (newer?); head here is {self.head}"
        return f"{self.revision}, behind head {self.head}"


# --- Alembic's filters (env.py, and the tests' comparisons) --------------------------------------


def include_name(name: str | None, type_: str, parent_names) -> bool:
    """Reflection never looks at Rasa's tables."""
    return not (type_ == "table" and name in RASA_TABLES)


def include_object(obj, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """Nor does the comparison on our metadata's side (hotline/models.py defines `events` too)."""
    if type_ == "table":
        return name not in RASA_TABLES
    table = getattr(obj, "table", None)
    return table is None or table.name not in RASA_TABLES


# --- configuration and connections ---------------------------------------------------------------


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")  # 0002_add_ticket_priority.py
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@contextmanager
def _connect(target: Target, *, begin: bool) -> Iterator[Connection]:
    if isinstance(target, Engine):
        engine, owned = target, False
    else:
        from database.engine import make_engine  # database.engine imports this module

        url = target.render_as_string(hide_password=False) if isinstance(target, URL) else target
        engine, owned = make_engine(url, create=False), True
    try:
        with (engine.begin() if begin else engine.connect()) as conn:
            yield conn
    finally:
        if owned:
            engine.dispose()


def _status(conn: Connection, script: ScriptDirectory) -> Status:
    heads = MigrationContext.configure(conn).get_current_heads()
    revision = ",".join(heads) if heads else None
    known = all(_has_revision(script, h) for h in heads)
    legacy = revision is None and inspect(conn).has_table(LEGACY_MARKER)
    return Status(revision, script.get_current_head(), legacy=legacy, known=known)


def _has_revision(script: ScriptDirectory, rev: str) -> bool:
    try:
        return script.get_revision(rev) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown id
        return False


# --- the operations ---------------------------------------------------------------------------


def current(target: Target) -> Status:
    with _connect(target, begin=False) as conn:
        return _status(conn, ScriptDirectory.from_config(alembic_config()))


def require_current(target: Target) -> Status:
    """For the app and read-only commands: they never change the schema, and cannot work on an old one."""
    status = current(target)
    if status.up_to_date:
        return status
    if status.revision is not None and not status.known:
        # A newer release migrated the store (a rolling upgrade): its changes are meant to be compatible.
        log.warning("store at revision %s", status)
        return status
    raise StoreNotMigrated(f"the store's schema is not current (revision {status}): run `hotline db upgrade`")


def upgrade(target: Target, revision: str = "head") -> Status:
    """Bring the store to ``revision``, in one transaction where the backend allows (PostgreSQL)."""
    with _connect(target, begin=True) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("select pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        cfg = alembic_config(conn)
        script = ScriptDirectory.from_config(cfg)
        if _status(conn, script).legacy:
            _adopt(conn, cfg, script)
        command.upgrade(cfg, revision)
        return _status(conn, script)


def _adopt(conn: Connection, cfg: Config, script: ScriptDirectory) -> None:
    """A store made by create_all before migrations: it has 0001's schema (create_all only ever added
    whole tables), so it is stamped 0001; tables it lacks are created by 0001 (they are checked first)."""
    baseline = script.get_revision(BASELINE).module
    missing = [t for t in baseline.TABLES if not inspect(conn).has_table(t)]
    if missing:
        log.warning("store made before migrations, without %s: revision %s creates them",
                    ", ".join(missing), BASELINE)
        command.upgrade(cfg, BASELINE)
    else:
        log.info("store made before migrations: stamped %s", BASELINE)
        command.stamp(cfg, BASELINE)


# --- for developers: a new revision ----------------------------------------------------------------


def new_revision(message: str, url: str | None = None, *, autogenerate: bool = True) -> Path:
    """Write versions/<NNNN>_<slug>.py: what the models have that a store at head lacks.

    Compared with a scratch SQLite store brought to head (or ``url``, which must be at head: say a
    PostgreSQL one, whose types autogenerate compares more closely). Review what it wrote: renames
    come out as drop + add, and data migrations are never generated.
    """
    with tempfile.TemporaryDirectory() as tmp:
        if url is None:
            url = f"sqlite:///{tmp}/scratch.db"
            upgrade(url)
        else:
            require_current(url)
        with _connect(url, begin=True) as conn:
            cfg = alembic_config(conn)
            rev_id = f"{int(ScriptDirectory.from_config(cfg).get_current_head() or 0) + 1:04d}"
            script = command.revision(cfg, message=message, autogenerate=autogenerate, rev_id=rev_id)
    return Path(script.path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m database.migrate",
                                     description="write a new revision of the store's schema (developers)")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    p = sub.add_parser("revision", help="a new revision from the models' differences with a store at head")
    p.add_argument("-m", "--message", required=True)
    p.add_argument("--database-url", help="compare with this store (at head) instead of a scratch SQLite one")
    p.add_argument("--empty", action="store_true", help="no autogenerate: an empty revision to fill in")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = new_revision(args.message, args.database_url, autogenerate=not args.empty)
    print(f"wrote {path}: review it before committing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
