"""The store's engine (database/engine.py): no user text in its errors, nothing left behind by a
delete, a file only its owner reads. On SQLite and PostgreSQL where it applies (the `engine` fixture)."""
from __future__ import annotations

import json
import stat

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from database.engine import make_engine
from hotline import calllog, privacy
from hotline.models import CallTurn, events

PHONE = "13912345678"
ID_CARD = "320102199001011234"
KEY = b"engine-test-key-0123456789"


def test_a_failed_statement_does_not_quote_its_values(engine):
    with pytest.raises(DBAPIError) as failed:
        with engine.begin() as conn:
            conn.execute(text("insert into no_such_table (said) values (:said)"), {"said": f"我的电话{PHONE}"})
    assert PHONE not in str(failed.value)
    assert "parameters hidden" in str(failed.value)  # said so, rather than left out silently


def test_the_describe_error_of_a_store_error_is_its_type_and_place(engine):
    with pytest.raises(DBAPIError) as failed:
        with engine.begin() as conn:
            conn.execute(text("insert into no_such_table (said) values (:said)"), {"said": PHONE})
    shown = privacy.describe_error(failed.value)
    assert shown.split()[0] in ("OperationalError", "ProgrammingError") and "no_such_table" not in shown


def _rasa_event(text_: str) -> dict:
    return {"sender_id": "oWx_z", "data": json.dumps({
        "event": "user", "timestamp": 1_700_000_000, "text": text_, "message_id": "m-engine-1",
        "parse_data": {"intent": {"name": "inform", "confidence": 0.9}, "entities": []}, "input_channel": "wechat"})}


def test_consumed_broker_rows_leave_no_trace_in_the_sqlite_file_or_its_log(tmp_path):
    path = tmp_path / "store.db"
    engine = make_engine(f"sqlite:///{path}", create=True)
    try:
        with engine.begin() as conn:
            conn.execute(insert(events), [_rasa_event(f"电话{PHONE}，身份证{ID_CARD}")])
        assert calllog.consume_once(engine, KEY) == 1
        with engine.connect() as conn:
            assert conn.scalar(select(CallTurn.text)) == "电话139****5678，身份证320102********1234"
            assert conn.scalar(select(events.c.id)) is None
        on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("store.db"))
    finally:
        engine.dispose()
    assert PHONE.encode() not in on_disk and ID_CARD.encode() not in on_disk
    assert b"139****5678" in on_disk  # the masked turn is there: the search would have seen text


def test_the_sqlite_store_and_its_log_are_readable_by_their_owner_only(tmp_path):
    path = tmp_path / "var" / "store.db"
    engine = make_engine(f"sqlite:///{path}", create=True)
    try:
        with engine.begin() as conn:
            conn.execute(insert(events), [_rasa_event("你好")])
        files = [p for p in path.parent.iterdir() if p.name.startswith("store.db")]
        assert {p.name for p in files} >= {"store.db", "store.db-wal"}
        for p in files:
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    finally:
        engine.dispose()
    path.chmod(0o644)  # made by an older version: narrowed when the store is opened again
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
