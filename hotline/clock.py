"""Time as the hotline reads it: the store keeps naive UTC datetimes (the same on SQLite and
PostgreSQL); a person reads Nanjing time (UTC+8, no daylight saving time in China): ticket numbers,
report periods, the console's lists."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

NANJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def utc(moment: datetime | None = None) -> datetime:
    """A naive UTC datetime (how the store keeps times), now by default; naive input is taken as UTC already."""
    if moment is None:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    if moment.tzinfo is not None:
        return moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def local(moment: datetime) -> datetime:
    """A naive UTC datetime of the store as an aware Nanjing datetime."""
    return moment.replace(tzinfo=timezone.utc).astimezone(NANJING)


def local_date(moment: datetime) -> date:
    """The Nanjing date of a naive UTC datetime."""
    return local(moment).date()


def today() -> date:
    """Today's date in Nanjing."""
    return datetime.now(NANJING).date()


def day_start(day: date) -> datetime:
    """Midnight of a Nanjing day, as the store's naive UTC."""
    return datetime.combine(day, time(0), NANJING).astimezone(timezone.utc).replace(tzinfo=None)


def minutes(moment: datetime) -> str:
    """A naive UTC datetime as a person reads it: 2026-11-22 14:05 (Nanjing)."""
    return local(moment).strftime("%Y-%m-%d %H:%M")
