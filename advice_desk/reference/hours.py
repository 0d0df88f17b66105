"""Opening hours: is the line open at an instant, when does it close, when does it next open.

Pure functions of an explicit instant and a policy: weekly sessions in the line's time zone,
bank holidays from the ``holidays`` package, and closure dates a supervisor adds. Sessions are
wall-clock times in the line's zone, so 09:30 stays 09:30 across clock changes; every comparison
is done in UTC, because Python compares datetimes of one zone by wall time and ignores ``fold``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache, cached_property
from itertools import pairwise
from typing import TYPE_CHECKING, TypedDict, cast
from zoneinfo import ZoneInfo

from advice_desk.clock import to_utc
from advice_desk.json_value import JSONObject
from advice_desk.resources import resource_path
from advice_desk.validation import FieldError

if TYPE_CHECKING:
    import holidays

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LOOK_AHEAD_DAYS = 400  # how far ahead to look for the next opening before saying "none"


@cache
def _bank_holidays(country: str, subdivision: str | None) -> holidays.HolidayBase:
    """One calendar per place for the whole run: building one costs ~15 ms, a call save's
    budget is 20 ms, and every saved call needs it. ``holidays`` is imported here, not with
    this module: loading it and its every country takes ~100 ms, too long before the window's
    first paint."""
    import holidays

    return holidays.country_holidays(country, subdiv=subdivision)


@dataclass(frozen=True, order=True)
class OpeningSession:
    weekday: int  # 0 = Monday
    opens: time
    closes: time


@dataclass(frozen=True)
class Closure:
    day: date
    reason: str


class LineState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # outside the weekly sessions
    HOLIDAY = "holiday"  # a bank holiday on a day with sessions
    CLOSURE = "closure"  # a closure date set by a supervisor


@dataclass(frozen=True)
class LineStatus:
    state: LineState
    reason: str | None  # the holiday's name or the closure's reason, for today
    closes_at: datetime | None  # while open: the end of this opening (UTC)
    next_opening: datetime | None  # while closed: the next opening (UTC), None if never

    @property
    def is_open(self) -> bool:
        return self.state is LineState.OPEN


@dataclass(frozen=True)
class HoursPolicy:
    sessions: tuple[OpeningSession, ...]
    time_zone: str = "Europe/London"
    holiday_country: str = "GB"
    holiday_subdivision: str | None = "ENG"
    closures: tuple[Closure, ...] = field(default=())

    def __post_init__(self) -> None:
        # One order, so two policies with the same sessions and closures are equal.
        object.__setattr__(self, "sessions", tuple(sorted(self.sessions)))
        object.__setattr__(self, "closures", tuple(sorted(self.closures, key=lambda c: c.day)))

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def _holidays(self) -> holidays.HolidayBase:
        return _bank_holidays(self.holiday_country, self.holiday_subdivision)

    @cached_property
    def _closures(self) -> dict[date, str]:
        return {c.day: c.reason for c in self.closures}

    # --- days -----------------------------------------------------------------------------

    def closed_reason(self, day: date) -> tuple[LineState, str] | None:
        """Why the line is shut all of ``day`` though sessions may be set, if it is."""
        if day in self._closures:
            return LineState.CLOSURE, self._closures[day]
        name = self._holidays.get(day)
        return (LineState.HOLIDAY, name) if name else None

    @cached_property
    def _openings(self) -> dict[date, list[tuple[datetime, datetime]]]:
        return {}  # a cache: checking a million calls touches only a few hundred days

    def openings_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The UTC intervals the line is open on a local ``day``; touching sessions merge."""
        cached = self._openings.get(day)
        if cached is None:
            cached = self._openings[day] = self._compute_openings(day)
        return cached

    def open_day_from(self, day: date) -> date:
        """The first day from ``day`` on which the line opens (``day`` itself if it does): a
        follow-up promised for a Saturday or a bank holiday is made on the next open day.
        ``day`` when the line does not open within a year."""
        for offset in range(LOOK_AHEAD_DAYS):
            if self.openings_on(later := day + timedelta(days=offset)):
                return later
        return day

    def _compute_openings(self, day: date) -> list[tuple[datetime, datetime]]:
        if self.closed_reason(day) is not None:
            return []
        intervals: list[tuple[datetime, datetime]] = []
        for session in sorted(s for s in self.sessions if s.weekday == day.weekday()):
            opens = self._instant(day, session.opens)
            closes = self._instant(day, session.closes)
            if closes <= opens:
                continue  # the whole session falls in the hour skipped when the clocks go forward
            if intervals and intervals[-1][1] >= opens:
                intervals[-1] = (intervals[-1][0], max(intervals[-1][1], closes))
            else:
                intervals.append((opens, closes))
        return intervals

    def _instant(self, day: date, at: time) -> datetime:
        """The first instant at which the line's wall clock reads ``at`` or later on ``day``."""
        wall = datetime.combine(day, at)
        instant = wall.replace(tzinfo=self.zone).astimezone(UTC)
        if instant.astimezone(self.zone).replace(tzinfo=None) == wall:
            return instant
        # ``at`` is skipped when the clocks go forward; the wall clock passes it at the jump, which
        # lies after the reading with the later offset (fold=1) and at or before ``instant``.
        low = int(wall.replace(tzinfo=self.zone, fold=1).astimezone(UTC).timestamp())
        high = int(instant.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, self.zone).replace(tzinfo=None) < wall:
                low = middle
            else:
                high = middle
        return datetime.fromtimestamp(high, UTC)

    def local_day(self, at: datetime) -> date:
        return to_utc(at).astimezone(self.zone).date()

    # --- instants -------------------------------------------------------------------------

    def _opening_at(self, at: datetime) -> tuple[datetime, datetime] | None:
        at = to_utc(at)
        day = self.local_day(at)
        for opens, closes in self.openings_on(day):
            if opens <= at < closes:
                return opens, closes
        return None

    def is_open(self, at: datetime) -> bool:
        return self._opening_at(at) is not None

    def closes_at(self, at: datetime) -> datetime | None:
        """When the current opening ends, or None while closed."""
        opening = self._opening_at(at)
        return opening[1] if opening else None

    def next_opening(self, at: datetime) -> datetime | None:
        """The first instant after ``at`` at which the line opens, or None within a year."""
        at = to_utc(at)
        day = self.local_day(at)
        for offset in range(LOOK_AHEAD_DAYS):
            for opens, _ in self.openings_on(day + timedelta(days=offset)):
                if opens > at:
                    return opens
        return None

    def status(self, at: datetime) -> LineStatus:
        opening = self._opening_at(at)
        if opening is not None:
            return LineStatus(LineState.OPEN, None, opening[1], None)
        day = self.local_day(at)
        shut: tuple[LineState, str | None] | None = self.closed_reason(day)
        if shut is None or not any(s.weekday == day.weekday() for s in self.sessions):
            shut = (LineState.CLOSED, None)  # a holiday on a day the line never opens
        state, reason = shut
        return LineStatus(state, reason, None, self.next_opening(at))

    # --- checking and storing -------------------------------------------------------------

    def problems(self) -> list[FieldError]:
        """What is wrong with the policy, each naming the session or date."""
        errors = []
        for s in self.sessions:
            if s.closes <= s.opens:
                errors.append(FieldError(
                    "sessions", f"{WEEKDAYS[s.weekday].title()} {s.opens:%H:%M}–{s.closes:%H:%M}: "
                                "the end must be after the start"))
        for weekday in range(7):
            day = sorted(s for s in self.sessions if s.weekday == weekday)
            for before, after in pairwise(day):
                if after.opens < before.closes:
                    errors.append(FieldError(
                        "sessions", f"{WEEKDAYS[weekday].title()}: {before.opens:%H:%M}–"
                                    f"{before.closes:%H:%M} overlaps {after.opens:%H:%M}–"
                                    f"{after.closes:%H:%M}"))
        seen: set[date] = set()
        for closure in self.closures:
            if closure.day in seen:
                errors.append(FieldError("closures", f"{closure.day} is listed twice"))
            seen.add(closure.day)
            if not closure.reason.strip():
                errors.append(FieldError("closures", f"{closure.day}: give a reason"))
        return errors

    def to_dict(self) -> JSONObject:
        return {
            "time_zone": self.time_zone,
            "holiday_country": self.holiday_country,
            "holiday_subdivision": self.holiday_subdivision,
            "sessions": {name: [[f"{s.opens:%H:%M}", f"{s.closes:%H:%M}"]
                                for s in sorted(self.sessions) if s.weekday == i]
                         for i, name in enumerate(WEEKDAYS)},
            "closures": [{"day": c.day.isoformat(), "reason": c.reason}
                         for c in sorted(self.closures, key=lambda c: c.day)],
        }


class _Places(TypedDict, total=False):
    time_zone: str
    holiday_country: str
    holiday_subdivision: str | None


def policy_from_dict(data: JSONObject) -> HoursPolicy:
    """The policy :meth:`HoursPolicy.to_dict` stored, or ``resources/hours.toml`` describes:
    data of that shape is trusted, and a part that does not fit fails where it is used."""
    times_by_day = cast(dict[str, list[list[str]]], data["sessions"])
    sessions = tuple(
        OpeningSession(WEEKDAYS.index(name), time.fromisoformat(opens), time.fromisoformat(closes))
        for name, times in times_by_day.items() for opens, closes in times)
    closures = tuple(Closure(date.fromisoformat(c["day"]), c["reason"])
                     for c in cast(list[dict[str, str]], data.get("closures", [])))
    places = {key: data[key] for key in ("time_zone", "holiday_country", "holiday_subdivision")
              if key in data}  # what is left out keeps the class's defaults
    return HoursPolicy(sessions, closures=closures, **cast(_Places, places))


def default_policy() -> HoursPolicy:
    """The hours shipped in ``resources/hours.toml``."""
    with resource_path("hours.toml").open("rb") as f:
        return policy_from_dict(tomllib.load(f))


# --- words ---------------------------------------------------------------------------------

def _same(text: str) -> str:
    return text


def _until(delta: timedelta) -> str:
    minutes = max(1, -(-int(delta.total_seconds()) // 60))  # rounded up: "in 1 min" at 13:59:30
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _when(opening: datetime, at: datetime, zone: ZoneInfo) -> str:
    local, now = opening.astimezone(zone), at.astimezone(zone)
    if local.date() == now.date():
        return f"{local:%H:%M}"
    if (local.date() - now.date()).days < 7:
        return f"{local:%a %H:%M}"
    return f"{local:%a %d %b %H:%M}"


def describe_status(status: LineStatus, at: datetime, policy: HoursPolicy,
                    translate: Callable[[str], str] = _same) -> str:
    """One line for the status bar and the command line, e.g. "Line closed · opens Mon 09:30".

    ``translate`` lets the GUI pass Qt's translator; the command line speaks English.
    """
    zone = policy.zone
    if status.is_open and status.closes_at is not None:
        return translate("Line open · closes {time} (in {until})").format(
            time=f"{status.closes_at.astimezone(zone):%H:%M}", until=_until(status.closes_at - at))
    if status.state is LineState.CLOSED:
        text = translate("Line closed")
    else:
        text = translate("Closed today: {reason}").format(reason=status.reason)
    if status.next_opening is not None:
        text += translate(" · opens {when}").format(when=_when(status.next_opening, at, zone))
    return text


def format_sessions(policy: HoursPolicy, weekday: int) -> str:
    return ", ".join(f"{s.opens:%H:%M}–{s.closes:%H:%M}"
                     for s in sorted(policy.sessions) if s.weekday == weekday)


def parse_sessions(weekday: int, text: str) -> tuple[OpeningSession, ...]:
    """Sessions as a supervisor types them: ``09:30–14:00`` or ``09:00-12:00, 13:00-17:00``."""
    sessions = []
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        pieces = part.replace("–", "-").split("-")
        try:
            opens, closes = (time.fromisoformat(p.strip().zfill(5)) for p in pieces)
        except ValueError:
            raise ValueError(f"{WEEKDAYS[weekday].title()}: “{part}” is not a time range "
                             "like 09:30–14:00") from None
        sessions.append(OpeningSession(weekday, opens, closes))
    return tuple(sessions)


def format_closures(policy: HoursPolicy) -> str:
    return "\n".join(f"{c.day.isoformat()} {c.reason}"
                     for c in sorted(policy.closures, key=lambda c: c.day))


def parse_closures(text: str) -> tuple[Closure, ...]:
    """One closure a line: ``2026-12-24 Staff training``."""
    closures = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        day, _, reason = line.strip().partition(" ")
        try:
            closures.append(Closure(date.fromisoformat(day), reason.strip()))
        except ValueError:
            raise ValueError(f"closure line {number}: “{day}” is not a date like "
                             "2026-12-24") from None
    return tuple(closures)
