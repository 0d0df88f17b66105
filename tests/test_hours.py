"""Opening hours (PRODUCT.md §4): is the line open, when does it close, when does it next open.

Every instant is explicit: no wall clock, no sleeps, no mocks. Property tests run the shipped
policy and generated ones (several sessions a day, touching sessions, closures, three time zones)
over instants from 2024 to 2029, given in UTC and in UK time (both readings of the repeated hour
in October); fixed cases pin the real England and Wales calendar and the 2026 clock changes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advice_desk.reference.hours import (
    Closure,
    HoursPolicy,
    LineState,
    LineStatus,
    OpeningSession,
    default_policy,
    policy_from_dict,
)
from advice_desk.settings import Settings
from advice_desk.validation import ValidationError
from tests.factories import uk
from tests.support import ANY_TIME, SUPERVISOR

UK = ZoneInfo("Europe/London")
ZONES = ("Europe/London", "UTC", "America/New_York")
FIRST, LAST = datetime(2024, 1, 1), datetime(2029, 12, 31, 23, 59, 59)
SECOND = timedelta(seconds=1)
REASONS = ("Staff training", "Christmas week", "Office move", "Power cut")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

PROPERTY = settings(max_examples=300, deadline=None)


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def weekly(weekdays: range | tuple[int, ...], *times: tuple[str, str],
           **fields: object) -> HoursPolicy:
    sessions = tuple(OpeningSession(day, time.fromisoformat(opens), time.fromisoformat(closes))
                     for day in weekdays for opens, closes in times)
    return HoursPolicy(sessions, **fields)  # type: ignore[arg-type]


def normalised(policy: HoursPolicy) -> HoursPolicy:
    """The policy as ``to_dict`` writes it: sessions and closures in order."""
    return replace(policy, sessions=tuple(sorted(policy.sessions)),
                   closures=tuple(sorted(policy.closures, key=lambda c: c.day)))


def transition_days(zone: ZoneInfo) -> list[date]:
    """The days in 2024–2029 on which the clocks change in ``zone``."""
    days, day = [], FIRST.date()
    while day <= LAST.date():
        if zone.utcoffset(datetime.combine(day, time(0))) != zone.utcoffset(
                datetime.combine(day, time(23, 59))):
            days.append(day)
        day += timedelta(days=1)
    return days


TRANSITIONS = {name: transition_days(ZoneInfo(name)) for name in ZONES}


# --- strategies -------------------------------------------------------------------------------

DAY = 24 * 60  # minutes
ANY_MINUTE = st.integers(0, 7 * DAY - 1)  # of the week, from Monday 00:00
# The clocks change early on Sundays: 01:00-02:00 is skipped or repeated in London, 02:00-03:00
# is skipped and 01:00-02:00 repeated in New York. Boundaries there are drawn on purpose.
SUNDAY_SMALL_HOURS = st.integers(SUN * DAY + 30, SUN * DAY + 210)


@st.composite
def week_sessions(draw: st.DrawFn) -> list[OpeningSession]:
    """Non-overlapping sessions, several a day on some days, from sorted minute boundaries over
    the week (one draw, to keep generation cheap); some sessions touch the one before."""
    minutes = sorted(draw(st.sets(ANY_MINUTE | SUNDAY_SMALL_HOURS, min_size=4, max_size=14)))
    touching = draw(st.integers(0, 2**14 - 1))  # bit i: the next session starts at boundary i + 1
    sessions, i = [], 0
    while i + 1 < len(minutes):
        (day, opens), (same_day, closes) = divmod(minutes[i], DAY), divmod(minutes[i + 1], DAY)
        if day != same_day:
            i += 1
            continue
        sessions.append(OpeningSession(day, time(*divmod(opens, 60)), time(*divmod(closes, 60))))
        i += 1 if touching >> i & 1 else 2
    return sessions


PLACES = [(zone, "GB", subdivision) for zone in ZONES for subdivision in ("ENG", "SCT", None)]


@st.composite
def policies(draw: st.DrawFn, around: date = date(2026, 12, 24)) -> HoursPolicy:
    """A valid policy; its closures fall near ``around`` (or anywhere) so that they matter."""
    sessions = draw(week_sessions())
    sessions = draw(st.permutations(sessions))  # listed in any order
    near = draw(st.sets(st.integers(-3, 10), max_size=3))
    days = {around + timedelta(days=n) for n in near}
    days |= draw(st.sets(st.dates(FIRST.date(), LAST.date()), max_size=1))
    closures = tuple(Closure(day, REASONS[day.toordinal() % len(REASONS)]) for day in days)
    zone, country, subdivision = draw(st.sampled_from(PLACES))
    return HoursPolicy(tuple(sessions), zone, country, subdivision, closures)


def instants(zone: ZoneInfo) -> st.SearchStrategy[datetime]:
    return st.datetimes(min_value=FIRST, max_value=LAST, timezones=st.just(zone))


@st.composite
def edge_instants(draw: st.DrawFn, policy: HoursPolicy, given_in: ZoneInfo,
                  near: date = date(2026, 12, 24)) -> datetime:
    """An instant at (or a second either side of) a session boundary on a day near ``near``,
    on a day the clocks change in the policy's zone, or any day; in either reading of a repeated
    hour; expressed in ``given_in``."""
    day = draw(st.integers(-3, 10).map(lambda n: near + timedelta(days=n))
               | st.sampled_from(TRANSITIONS[policy.time_zone] or [near])
               | st.dates(FIRST.date(), LAST.date()))
    edges = [t for s in policy.sessions for t in (s.opens, s.closes)]
    at = draw(st.sampled_from(edges) if edges else st.times())
    shift = draw(st.sampled_from([-SECOND, timedelta(0), SECOND]))
    wall = datetime.combine(day, at) + shift
    local = wall.replace(tzinfo=policy.zone, fold=draw(st.integers(0, 1)))
    return local.astimezone(given_in)


# --- the properties ---------------------------------------------------------------------------

@cache
def bank_holidays(country: str, subdivision: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision)


def expected_shut(policy: HoursPolicy, day: date) -> tuple[LineState, str] | None:
    """A reference for ``closed_reason``, from the policy's fields and the holidays package."""
    for closure in policy.closures:
        if closure.day == day:
            return LineState.CLOSURE, closure.reason
    name = bank_holidays(policy.holiday_country, policy.holiday_subdivision).get(day)
    return (LineState.HOLIDAY, name) if name else None


def check_instant(policy: HoursPolicy, t: datetime) -> None:
    """Everything that must hold at one instant, whatever the policy."""
    status = policy.status(t)
    is_open = policy.is_open(t)
    assert isinstance(status, LineStatus)
    assert is_open == status.is_open
    assert (status.state is LineState.OPEN) == is_open  # never both open and closed
    assert policy.closes_at(t) == status.closes_at

    day = policy.local_day(t)
    shut = expected_shut(policy, day)
    has_sessions = any(s.weekday == day.weekday() for s in policy.sessions)
    # Arithmetic on an aware datetime is wall-clock arithmetic in its own zone (and ``t`` may be
    # an imaginary UK time), so from here on ``t`` is in UTC: the calls above took it as given.
    t = t.astimezone(UTC)
    local = t.astimezone(policy.zone)

    if shut is not None:
        assert not is_open, f"open at {local} although {day} is {shut}"
    if local.fold == 0:  # the first (or only) reading of the wall clock: sessions are wall time
        in_session = any(s.weekday == day.weekday() and s.opens <= local.time() < s.closes
                         for s in policy.sessions)
        assert is_open == (shut is None and in_session), f"{local} ({t})"

    if is_open:
        closes = policy.closes_at(t)
        assert closes is not None and closes > t
        assert closes.utcoffset() == timedelta(0)
        assert policy.is_open(closes - SECOND)
        assert not policy.is_open(closes)  # touching sessions have merged into one opening
        for k in range(1, 4):
            assert policy.is_open(t + (closes - t) * k // 4)  # floor: stay before closes
        assert status.reason is None and status.next_opening is None
        return

    assert policy.closes_at(t) is None
    opening = policy.next_opening(t)
    assert status.next_opening == opening
    if shut is not None and has_sessions:
        assert (status.state, status.reason) == shut
    else:
        assert (status.state, status.reason) == (LineState.CLOSED, None)
    if opening is None:
        for hours in (1, 24, 24 * 7, 24 * 30):
            assert not policy.is_open(t + timedelta(hours=hours))
        return
    assert opening > t
    assert opening.utcoffset() == timedelta(0)
    assert policy.is_open(opening)
    assert not policy.is_open(opening - SECOND)
    between = [t + (opening - t) * k // 8 for k in range(1, 8)]
    between += [t + SECOND, opening - SECOND, opening - timedelta(minutes=1)]
    for instant in between:
        if t <= instant < opening:
            assert not policy.is_open(instant), f"open at {instant} before {opening}"
            assert policy.next_opening(instant) == opening


DEFAULT = default_policy()


@PROPERTY
@given(data=st.data())
def test_default_policy_is_consistent_at_any_instant(data: st.DataObject) -> None:
    given_in = data.draw(st.sampled_from([UTC, UK]), label="given in")
    t = data.draw(instants(given_in) | edge_instants(DEFAULT, given_in), label="t")
    check_instant(DEFAULT, t)


def check_policy(policy: HoursPolicy, days: list[date]) -> None:
    """What must hold of any valid policy: no problems, a lossless dict, ordered openings."""
    assert policy.problems() == []
    as_dict = policy.to_dict()
    assert policy_from_dict(as_dict) == normalised(policy)
    assert policy_from_dict(json.loads(json.dumps(as_dict))) == normalised(policy)
    assert policy_from_dict(as_dict).to_dict() == as_dict
    for day in days:
        openings = policy.openings_on(day)
        if expected_shut(policy, day) is not None:
            assert openings == []
        for opens, closes in openings:
            assert opens < closes
            assert opens.utcoffset() == closes.utcoffset() == timedelta(0)
            assert policy.local_day(opens) == day
        for (_, closes), (opens, _) in pairwise(openings):
            assert closes < opens  # touching sessions would have merged


@PROPERTY
@given(data=st.data())
def test_generated_policies_are_consistent_at_any_instant(data: st.DataObject) -> None:
    near = data.draw(st.dates(FIRST.date(), LAST.date()), label="near")
    policy = data.draw(policies(around=near), label="policy")
    given_in = data.draw(st.sampled_from([UTC, UK]), label="given in")
    t = data.draw(instants(given_in) | edge_instants(policy, given_in, near), label="t")
    check_instant(policy, t)
    day = policy.local_day(t)
    transitions = [d for d in TRANSITIONS[policy.time_zone] if d.year == near.year]
    check_policy(policy, [day, day + timedelta(days=1), near, *transitions])


def test_default_policy_round_trips() -> None:
    policy = default_policy()
    assert policy_from_dict(policy.to_dict()) == normalised(policy)
    assert policy.problems() == []


@PROPERTY
@given(sessions=st.lists(st.builds(OpeningSession, st.integers(0, 6),
                                   st.times().map(lambda t: t.replace(second=0, microsecond=0)),
                                   st.times().map(lambda t: t.replace(second=0, microsecond=0))),
                         max_size=6))
def test_problems_flag_exactly_the_invalid_session_sets(sessions: list[OpeningSession]) -> None:
    backwards = any(s.closes <= s.opens for s in sessions)
    overlapping = any(a.weekday == b.weekday and a.opens < b.closes and b.opens < a.closes
                      for i, a in enumerate(sessions) for b in sessions[i + 1:])
    problems = HoursPolicy(tuple(sessions)).problems()
    if not backwards:
        assert bool(problems) == overlapping, problems
    else:
        assert problems
    assert all(p.field == "sessions" for p in problems)


# --- the real England and Wales calendar, default policy --------------------------------------

@pytest.fixture(scope="module")
def policy() -> HoursPolicy:
    return default_policy()


def assert_closed(policy: HoursPolicy, at: datetime, state: LineState, reason: str | None,
                  next_opening: datetime | None) -> None:
    status = policy.status(at)
    assert not policy.is_open(at)
    assert (status.state, status.reason) == (state, reason)
    assert status.closes_at is None and policy.closes_at(at) is None
    assert status.next_opening == policy.next_opening(at) == next_opening


def assert_open(policy: HoursPolicy, at: datetime, closes_at: datetime) -> None:
    status = policy.status(at)
    assert policy.is_open(at)
    assert status == LineStatus(LineState.OPEN, None, closes_at, None)
    assert policy.closes_at(at) == closes_at


def test_default_hours_are_weekdays_0930_to_1400_uk(policy: HoursPolicy) -> None:
    assert policy.time_zone == "Europe/London"
    assert (policy.holiday_country, policy.holiday_subdivision) == ("GB", "ENG")
    assert sorted(policy.sessions) == [OpeningSession(d, time(9, 30), time(14)) for d in range(5)]
    assert policy.closures == ()


def test_easter_monday_is_a_holiday_and_tuesday_opens(policy: HoursPolicy) -> None:
    assert_closed(policy, uk(2026, 4, 6, 10), LineState.HOLIDAY, "Easter Monday",
                  uk(2026, 4, 7, 9, 30))
    assert uk(2026, 4, 7, 9, 30) == utc(2026, 4, 7, 8, 30)
    assert policy.next_opening(uk(2026, 4, 6, 10)) == utc(2026, 4, 7, 8, 30)


def test_good_friday_is_closed_and_the_thursday_before_is_open(policy: HoursPolicy) -> None:
    assert_closed(policy, uk(2026, 4, 3, 10), LineState.HOLIDAY, "Good Friday",
                  utc(2026, 4, 7, 8, 30))
    assert_open(policy, uk(2026, 4, 2, 10), utc(2026, 4, 2, 13))


def test_late_summer_bank_holiday(policy: HoursPolicy) -> None:
    assert_closed(policy, uk(2026, 8, 31, 10), LineState.HOLIDAY, "Late Summer Bank Holiday",
                  utc(2026, 9, 1, 8, 30))


def test_christmas_2026_with_boxing_day_substitute(policy: HoursPolicy) -> None:
    after_christmas = utc(2026, 12, 29, 9, 30)
    assert uk(2026, 12, 29, 9, 30) == after_christmas  # GMT
    assert_closed(policy, uk(2026, 12, 25, 10), LineState.HOLIDAY, "Christmas Day",
                  after_christmas)
    boxing_substitute = policy.status(uk(2026, 12, 28, 10))  # a Monday
    assert boxing_substitute.state is LineState.HOLIDAY
    assert "Boxing Day" in (boxing_substitute.reason or "")
    assert boxing_substitute.next_opening == after_christmas
    # Boxing Day itself is a Saturday: the line is shut anyway, so plain CLOSED.
    assert_closed(policy, uk(2026, 12, 26, 10), LineState.CLOSED, None, after_christmas)
    assert_open(policy, after_christmas, utc(2026, 12, 29, 14))


def test_christmas_2027_substitute_days(policy: HoursPolicy) -> None:
    for day in (27, 28):  # Christmas Day and Boxing Day fall on the weekend
        status = policy.status(uk(2027, 12, day, 10))
        assert status.state is LineState.HOLIDAY, day
        assert status.next_opening == utc(2027, 12, 29, 9, 30)
        assert not policy.is_open(uk(2027, 12, day, 12))


def test_spring_clock_change_2026(policy: HoursPolicy) -> None:
    # The clocks go forward at 01:00 UTC on Sunday 29 March 2026.
    assert uk(2026, 3, 29, 0, 59).utcoffset() == timedelta(0)
    assert uk(2026, 3, 29, 2, 0).utcoffset() == timedelta(hours=1)
    assert_closed(policy, uk(2026, 3, 28, 12), LineState.CLOSED, None, utc(2026, 3, 30, 8, 30))
    assert_open(policy, utc(2026, 3, 30, 8, 30), utc(2026, 3, 30, 13))
    assert not policy.is_open(utc(2026, 3, 30, 8, 29, 59))
    # The Friday before is still GMT.
    assert policy.next_opening(uk(2026, 3, 26, 15)) == utc(2026, 3, 27, 9, 30)
    assert_open(policy, utc(2026, 3, 27, 9, 30), utc(2026, 3, 27, 14))
    assert not policy.is_open(utc(2026, 3, 27, 8, 30))


def test_autumn_clock_change_2026_both_readings_of_0130(policy: HoursPolicy) -> None:
    first, second = uk(2026, 10, 25, 1, 30, fold=0), uk(2026, 10, 25, 1, 30, fold=1)
    assert first.astimezone(UTC) == utc(2026, 10, 25, 0, 30)
    assert second.astimezone(UTC) == utc(2026, 10, 25, 1, 30)
    for at in (first, second, first.astimezone(UTC), second.astimezone(UTC)):
        assert policy.local_day(at) == date(2026, 10, 25)
        assert_closed(policy, at, LineState.CLOSED, None, utc(2026, 10, 26, 9, 30))
    assert uk(2026, 10, 26, 9, 30) == utc(2026, 10, 26, 9, 30)


def test_monday_after_the_autumn_change_opens_and_closes_on_the_second(
        policy: HoursPolicy) -> None:
    closes = utc(2026, 10, 26, 14)
    assert not policy.is_open(uk(2026, 10, 26, 9, 29, 59))
    assert policy.next_opening(uk(2026, 10, 26, 9, 29, 59)) == utc(2026, 10, 26, 9, 30)
    assert_open(policy, uk(2026, 10, 26, 9, 30), closes)
    assert_open(policy, uk(2026, 10, 26, 13, 59, 59), closes)
    assert_closed(policy, uk(2026, 10, 26, 14), LineState.CLOSED, None, utc(2026, 10, 27, 9, 30))


def test_summer_hours_are_uk_time(policy: HoursPolicy) -> None:
    assert_open(policy, utc(2026, 7, 1, 8, 45), utc(2026, 7, 1, 13))  # 09:45 BST
    assert_closed(policy, utc(2026, 7, 1, 13, 30), LineState.CLOSED, None,  # 14:30 BST
                  utc(2026, 7, 2, 8, 30))
    assert not policy.is_open(utc(2026, 7, 1, 8, 15))  # 09:15 BST


def test_saturday_is_closed(policy: HoursPolicy) -> None:
    assert_closed(policy, uk(2026, 7, 4, 10), LineState.CLOSED, None, utc(2026, 7, 6, 8, 30))


def test_monday_morning_of_the_conftest_clock_is_open(policy: HoursPolicy) -> None:
    assert_open(policy, uk(2026, 11, 23, 10, 15), utc(2026, 11, 23, 14))


# --- other policies ---------------------------------------------------------------------------

def test_touching_sessions_around_noon_are_one_opening() -> None:
    policy = weekly((WED,), ("11:00", "13:00"), ("13:00", "15:00"))
    wednesday = date(2026, 11, 25)
    assert policy.openings_on(wednesday) == [(utc(2026, 11, 25, 11), utc(2026, 11, 25, 15))]
    assert_open(policy, uk(2026, 11, 25, 12), utc(2026, 11, 25, 15))
    assert_open(policy, uk(2026, 11, 25, 12, 59, 59), utc(2026, 11, 25, 15))
    assert_open(policy, uk(2026, 11, 25, 13), utc(2026, 11, 25, 15))
    assert_closed(policy, uk(2026, 11, 25, 10), LineState.CLOSED, None, utc(2026, 11, 25, 11))
    assert_closed(policy, uk(2026, 11, 25, 15), LineState.CLOSED, None, utc(2026, 12, 2, 11))
    # In summer the same wall times are an hour earlier in UTC.
    assert_open(policy, uk(2026, 7, 1, 12), utc(2026, 7, 1, 14))


def test_two_separate_sessions_a_day() -> None:
    policy = weekly(range(MON, SAT), ("09:00", "12:00"), ("13:00", "17:00"))
    assert_open(policy, uk(2026, 11, 25, 11), utc(2026, 11, 25, 12))
    assert_closed(policy, uk(2026, 11, 25, 12, 30), LineState.CLOSED, None,
                  utc(2026, 11, 25, 13))
    assert_open(policy, uk(2026, 11, 25, 13), utc(2026, 11, 25, 17))
    assert_closed(policy, uk(2026, 11, 25, 17), LineState.CLOSED, None, utc(2026, 11, 26, 9))
    assert len(policy.openings_on(date(2026, 11, 25))) == 2


def test_supervisor_closure_on_christmas_eve() -> None:
    policy = replace(default_policy(),
                     closures=(Closure(date(2026, 12, 24), "Christmas Eve training"),))
    assert date(2026, 12, 24).weekday() == THU
    assert_closed(policy, uk(2026, 12, 24, 10), LineState.CLOSURE, "Christmas Eve training",
                  utc(2026, 12, 29, 9, 30))
    assert policy.next_opening(uk(2026, 12, 23, 15)) == utc(2026, 12, 29, 9, 30)
    assert default_policy().is_open(uk(2026, 12, 24, 10))


def test_a_day_is_moved_to_the_next_day_the_line_opens() -> None:
    policy = default_policy()
    assert policy.open_day_from(date(2026, 11, 25)) == date(2026, 11, 25)  # a Wednesday
    assert policy.open_day_from(date(2026, 11, 28)) == date(2026, 11, 30)  # Saturday: Monday
    # Christmas Day, a weekend, Boxing Day's holiday on the Monday after it
    assert policy.open_day_from(date(2026, 12, 25)) == date(2026, 12, 29)
    never = replace(policy, sessions=())
    assert never.open_day_from(date(2026, 12, 25)) == date(2026, 12, 25)


def test_closure_on_a_bank_holiday_reports_the_closure() -> None:
    policy = replace(default_policy(), closures=(Closure(date(2026, 12, 25), "Office move"),))
    assert policy.status(uk(2026, 12, 25, 10)).reason == "Office move"
    assert policy.status(uk(2026, 12, 25, 10)).state is LineState.CLOSURE


def test_closure_on_a_day_without_sessions_is_plain_closed() -> None:
    policy = replace(default_policy(), closures=(Closure(date(2026, 7, 4), "Office move"),))
    assert_closed(policy, uk(2026, 7, 4, 10), LineState.CLOSED, None, utc(2026, 7, 6, 8, 30))


def test_a_policy_without_sessions_never_opens() -> None:
    policy = HoursPolicy(())
    for at in (uk(2026, 11, 25, 10), uk(2026, 12, 25, 10), utc(2029, 12, 31, 23, 59)):
        assert_closed(policy, at, LineState.CLOSED, None, None)


def test_sessions_skipped_by_the_spring_clock_change() -> None:
    # Sunday 29 March 2026: the wall clock jumps from 01:00 GMT to 02:00 BST (01:00 UTC).
    saturday, jump = uk(2026, 3, 28, 12), utc(2026, 3, 29, 1)
    across = weekly((SUN,), ("01:30", "02:30"))  # starts in the missing hour: opens at the jump
    assert across.openings_on(date(2026, 3, 29)) == [(jump, uk(2026, 3, 29, 2, 30))]
    assert across.next_opening(saturday) == jump
    assert_open(across, jump, utc(2026, 3, 29, 1, 30))
    assert not across.is_open(jump - SECOND)

    before = weekly((SUN,), ("00:30", "01:30"))  # ends in the missing hour: closes at the jump
    assert before.openings_on(date(2026, 3, 29)) == [(utc(2026, 3, 29, 0, 30), jump)]
    assert not before.is_open(jump)

    inside = weekly((SUN,), ("01:10", "01:50"))  # the wall clock never reads these times
    assert inside.openings_on(date(2026, 3, 29)) == []
    assert inside.next_opening(saturday) == uk(2026, 4, 5, 1, 10)
    assert_closed(inside, uk(2026, 3, 29, 2, 30), LineState.CLOSED, None, uk(2026, 4, 5, 1, 10))

    # Sessions either side of the missing hour stay apart and in order.
    pair = weekly((SUN,), ("01:50", "01:55"), ("02:10", "02:20"))
    assert pair.openings_on(date(2026, 3, 29)) == [(uk(2026, 3, 29, 2, 10),
                                                     uk(2026, 3, 29, 2, 20))]


def test_sessions_in_the_repeated_autumn_hour_open_once() -> None:
    # Sunday 25 October 2026: 01:00–02:00 happens twice; a session opens at its first reading.
    policy = weekly((SUN,), ("01:30", "02:30"))
    assert policy.openings_on(date(2026, 10, 25)) == [(utc(2026, 10, 25, 0, 30),
                                                       utc(2026, 10, 25, 2, 30))]
    assert_open(policy, uk(2026, 10, 25, 1, 15, fold=1), utc(2026, 10, 25, 2, 30))


def test_other_time_zones() -> None:
    new_york = weekly(range(MON, SAT), ("09:00", "17:00"), time_zone="America/New_York",
                      holiday_country="US", holiday_subdivision=None)
    assert_open(new_york, utc(2026, 11, 25, 14), utc(2026, 11, 25, 22))  # EST
    assert_open(new_york, utc(2026, 7, 1, 13), utc(2026, 7, 1, 21))  # EDT
    assert new_york.status(utc(2026, 11, 26, 15)).reason == "Thanksgiving Day"


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        default_policy().is_open(datetime(2026, 11, 25, 10))


# --- validation and storage -------------------------------------------------------------------

def messages(policy: HoursPolicy) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in policy.problems()]


def test_a_valid_policy_has_no_problems() -> None:
    policy = weekly(range(MON, SAT), ("09:00", "12:00"), ("12:00", "13:00"), ("14:00", "17:00"),
                    closures=(Closure(date(2026, 12, 24), "Training"),))
    assert policy.problems() == []
    assert default_policy().problems() == []
    assert HoursPolicy(()).problems() == []


def test_session_ending_before_it_starts() -> None:
    assert messages(weekly((MON,), ("14:00", "09:30"))) == [
        ("sessions", "Monday 14:00–09:30: the end must be after the start")]


def test_zero_length_session() -> None:
    assert messages(weekly((TUE,), ("10:00", "10:00"))) == [
        ("sessions", "Tuesday 10:00–10:00: the end must be after the start")]


def test_overlapping_sessions_on_one_day() -> None:
    policy = weekly((WED,), ("11:00", "13:00"), ("09:00", "12:00"))
    assert messages(policy) == [("sessions", "Wednesday: 09:00–12:00 overlaps 11:00–13:00")]
    nested = weekly((FRI,), ("09:00", "17:00"), ("10:00", "11:00"))
    assert messages(nested) == [("sessions", "Friday: 09:00–17:00 overlaps 10:00–11:00")]
    # The same times on different days do not overlap.
    apart = HoursPolicy((OpeningSession(MON, time(9), time(12)),
                         OpeningSession(TUE, time(10), time(11))))
    assert apart.problems() == []


def test_closure_listed_twice() -> None:
    policy = replace(default_policy(), closures=(Closure(date(2026, 12, 24), "Training"),
                                                 Closure(date(2026, 12, 24), "Office move")))
    assert messages(policy) == [("closures", "2026-12-24 is listed twice")]


def test_closure_without_a_reason() -> None:
    for reason in ("", "   "):
        policy = replace(default_policy(), closures=(Closure(date(2026, 12, 24), reason),))
        assert messages(policy) == [("closures", "2026-12-24: give a reason")]


def test_several_problems_are_all_reported() -> None:
    policy = HoursPolicy(
        (OpeningSession(THU, time(12), time(11)), OpeningSession(SAT, time(9), time(12)),
         OpeningSession(SAT, time(11, 30), time(13))),
        closures=(Closure(date(2027, 1, 4), ""),))
    fields = [field for field, _ in messages(policy)]
    assert sorted(fields) == ["closures", "sessions", "sessions"]
    text = " | ".join(message for _, message in messages(policy))
    assert "Thursday 12:00–11:00" in text and "Saturday: 09:00–12:00 overlaps 11:30–13:00" in text


def test_with_nothing_stored_the_default_policy_applies(store) -> None:
    app_settings = Settings(store, SUPERVISOR, ANY_TIME)
    assert app_settings.hours_policy() == default_policy()  # nothing stored: the file


def test_an_invalid_policy_is_refused_and_nothing_is_stored(store) -> None:
    bad = weekly((WED,), ("09:00", "12:00"), ("11:00", "13:00"))
    app_settings = Settings(store, SUPERVISOR, ANY_TIME)
    with pytest.raises(ValidationError) as refused:
        app_settings.save_hours_policy(bad)
    assert [(e.field, e.message) for e in refused.value.errors] == messages(bad)
    assert "Wednesday" in str(refused.value)
    assert app_settings.hours_policy() == default_policy()


def test_a_valid_policy_is_stored_and_read_back(store) -> None:
    policy = HoursPolicy(
        (OpeningSession(FRI, time(13), time(17)), OpeningSession(MON, time(9), time(12)),
         OpeningSession(MON, time(12), time(13))),
        closures=(Closure(date(2026, 12, 31), "Stocktake"),
                  Closure(date(2026, 12, 24), "Christmas Eve training")))
    app_settings = Settings(store, SUPERVISOR, ANY_TIME)
    app_settings.save_hours_policy(policy)
    stored = app_settings.hours_policy()
    assert normalised(stored) == normalised(policy)
    assert stored.to_dict() == policy.to_dict()
    assert stored.status(uk(2026, 12, 24, 10)) == policy.status(uk(2026, 12, 24, 10))
    # A later save replaces the earlier one.
    app_settings.save_hours_policy(default_policy())
    assert normalised(app_settings.hours_policy()) == normalised(default_policy())
