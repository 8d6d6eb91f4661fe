"""What the parser produces: figures (future facts) and findings, before anything touches the store."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass
class Figure:
    subject_kind: str  # hospital, district, channel, platform, city, organisation, hotline
    subject: str  # as printed (tidied); resolved to a canonical subject on ingest
    measure: str
    value: str
    number: Decimal | None
    unit: str
    period: str
    scope: str  # period | cumulative
    section: str
    line: int
    group: str = ""  # the table column or prose list it belongs to, for the checks
    role: str = "cell"  # cell, row_total, column_total, parent, item, rank, contact
    flags: list[str] = field(default_factory=list)
    column: int = 0  # table column index; rows sharing a column are compared with each other


@dataclass
class Note:
    severity: str  # error, warning, info
    code: str
    line: int
    message: str


@dataclass
class Parsed:
    source: str
    checksum: str
    series: str
    issue: str | None
    serial: str | None
    published: date | None
    period: str
    figures: list[Figure]
    notes: list[Note]
    centres: dict[str, str]  # platform → its centre hospital, as printed
