"""The one place that reads the wall clock.

Everything that asks "now" takes a :class:`Clock`, so tests fix time instead of waiting for it.
Instants are always timezone-aware UTC; conversion to UK time happens only for display.
"""

from __future__ import annotations

import re
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


def uk_day_end(day: date) -> datetime:
    """The UTC instant at which a UK calendar day ends: the next day's start, excluded."""
    return uk_day_start(day + timedelta(days=1))


def uk_today(clock: Clock) -> date:
    """Today's date in the UK."""
    return to_uk(clock.now()).date()


def months_before(at: datetime, months: int) -> datetime:
    """The same UK wall-clock time ``months`` calendar months earlier (the day clamped to the
    end of a shorter month: 31 May less 3 months is 28 or 29 February)."""
    local = to_uk(at)
    index = local.year * 12 + local.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in range(local.day, 27, -1):
        try:
            return to_utc(local.replace(year=year, month=month, day=day))
        except ValueError:
            continue
    return to_utc(local.replace(year=year, month=month, day=min(local.day, 28)))


def uk_day_and_minute(at: datetime) -> tuple[date, int]:
    """The UK calendar day of an instant and the minutes after that day's midnight."""
    local = to_uk(at)
    return local.date(), local.hour * 60 + local.minute


_DATE_AND_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def parse_instant(text: str) -> datetime:
    """``YYYY-MM-DD HH:MM`` in UK time, or ISO 8601 with an offset, as a UTC instant.

    Raises ValueError, saying why, for text that is no date and time and for UK times that a
    clock change makes impossible (spring) or ambiguous (autumn).
    """
    try:
        if not _DATE_AND_TIME.match(text):
            raise ValueError(text)
        value = datetime.fromisoformat(text)
        value.astimezone(UTC)  # an offset that takes it past year 9999 fails here, not later
    except (ValueError, OverflowError):
        raise ValueError(f"{text!r} is not a date and time: write YYYY-MM-DD HH:MM (UK time) "
                         "or ISO 8601 with an offset") from None
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    first, second = value.replace(tzinfo=UK, fold=0), value.replace(tzinfo=UK, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    shown = f"{value:%Y-%m-%d %H:%M}"
    if first.astimezone(UTC).astimezone(UK).replace(tzinfo=None) != value:
        raise ValueError(f"{shown} did not happen in the UK: the clocks went forward an hour "
                         "that night")
    raise ValueError(f"{shown} happened twice in the UK (the clocks went back that night): add "
                     f"the offset, {value:%Y-%m-%dT%H:%M}{_offset(first)} for the first or "
                     f"{value:%Y-%m-%dT%H:%M}{_offset(second)} for the second")


def _offset(at: datetime) -> str:
    return at.strftime("%z")[:3] + ":" + at.strftime("%z")[3:]
