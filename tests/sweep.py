"""Searching files, tables and reports for numbers residents typed (the privacy sweeps of tests/e2e
and tests/prod)."""
from __future__ import annotations

import json


def needles(typed: str, digits: str) -> list[bytes]:
    """How a number may sit in a file: as typed, as its digits, JSON-escaped (Rasa's events)."""
    return sorted({typed.encode(), digits.encode(), json.dumps(typed)[1:-1].encode()}, key=len)


def assert_nowhere(content: bytes, where: str, numbers: dict[str, tuple[str, str]]) -> None:
    """None of ``numbers`` ({kind: (as typed, its digits)}) in ``content``."""
    for kind, (typed, digits) in numbers.items():
        for needle in needles(typed, digits):
            assert needle not in content, f"the {kind} ({typed}) in clear in {where}"


def assert_nowhere_in_rows(session, where: str, numbers: dict[str, tuple[str, str]],
                           allowed: tuple[tuple[str, str], ...] = ()) -> int:
    """None of ``numbers`` in any column of any table the session's database has, but the ``allowed``
    (table, column) pairs; how many rows were read."""
    from sqlalchemy import inspect, text

    read = 0
    for table in inspect(session.get_bind()).get_table_names():
        for row in session.execute(text(f'select * from "{table}"')).mappings():
            values = {column: value for column, value in row.items() if (table, column) not in allowed}
            assert_nowhere(json.dumps(values, ensure_ascii=False, default=str).encode(),
                           f"{where}, table {table}", numbers)
            read += 1
    return read
