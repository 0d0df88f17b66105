"""The one place that reads the wall clock.

Everything that asks "now" takes a :class:`Clock`, so tests fix time instead of waiting for it.
Instants are always timezone-aware UTC; conversion to UK time happens only for display.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, at: datetime) -> None:
        self._at = to_utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = to_utc(at)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def to_utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()} has no time zone")
    return at.astimezone(UTC)


def to_uk(at: datetime) -> datetime:
    return to_utc(at).astimezone(UK)


def uk_day_start(day: date) -> datetime:
    """The UTC instant at which a UK calendar day begins (midnight is never skipped in the UK)."""
    return datetime.combine(day, time(0), tzinfo=UK).astimezone(UTC)


def uk_day_and_minute(at: datetime) -> tuple[date, int]:
    """The UK calendar day of an instant and the minutes after that day's midnight."""
    local = to_uk(at)
    return local.date(), local.hour * 60 + local.minute
