"""Alembic's environment for the store.

Run only through database/migrate.py (``hotline db upgrade``, ``python -m database.migrate``), which
passes an open connection in ``config.attributes["connection"]``: no URL is read from an alembic.ini
or the environment, so a migration always runs against the store the caller named.
"""
from __future__ import annotations

from alembic import context

from database.migrate import include_name, include_object
from database.models import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("run the store's migrations through database.migrate (hotline db upgrade), "
                       "which passes the connection; offline (--sql) mode is not supported")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things: batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    # Rasa's `events` table is Rasa's: autogenerate never creates, alters or drops it.
    include_name=include_name,
    include_object=include_object,
    compare_type=True,
)

with context.begin_transaction():
    context.run_migrations()
