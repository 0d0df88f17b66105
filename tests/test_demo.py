"""The demo store: reproducible, shaped like the real line, and within every rule of a call."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import date, time, timedelta
from pathlib import Path

import holidays
import pytest
from sqlmodel import select

from advice_desk.calls.history import CallQuery
from advice_desk.calls.record import normalise, validate
from advice_desk.calls.service import Calls
from advice_desk.calls.topics import topics_in_order
from advice_desk.clock import FixedClock, to_uk
from advice_desk.demo import DemoError
from advice_desk.demo import synthetic as demo_module
from advice_desk.demo.generator import authority_populations
from advice_desk.demo.shares import DEMO_WORKERS
from advice_desk.demo.synthetic import add_demo_calls
from advice_desk.paths import CONFIG_DIR_ENV
from advice_desk.store.bulk import CoreBulkWriter
from advice_desk.store.engine import Store
from advice_desk.store.models import Call, CallOutcome, CallTopic, Topic, User
from tests.factories import opened_store, uk
from tests.support import ANY_TIME, SUPERVISOR

CALLS = 3000
BANK_HOLIDAYS = holidays.country_holidays("GB", subdiv="ENG")
DRAMA_PHONE = re.compile(r"^07700 900\d{3}$")
POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$")


def _raw_rows(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every stored value as SQLite holds it (text, not what SQLAlchemy parses it into)."""
    assert store.location.sqlite_file is not None
    with sqlite3.connect(store.location.sqlite_file) as connection:
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
                for table in ("call", "call_topic", "call_outcome")}


def _calls(store: Store) -> list[Call]:
    with store.read() as session:
        return list(session.exec(select(Call).order_by(Call.id)))


@pytest.fixture
def demo(store: Store, clock: FixedClock) -> Store:
    add_demo_calls(store, CALLS, clock, seed=1)
    return store


def test_the_same_seed_and_clock_give_the_same_rows_made_here_or_in_a_second_process(
        tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_module, "CHUNK_CALLS", 300)  # several chunks go through the pipe
    with ExitStack() as closing:
        stores = {name: closing.enter_context(opened_store(tmp_path / name, clock))
                  for name in ("here", "parallel", "other")}
        add_demo_calls(stores["here"], 2000, clock, seed=7, days=60, parallel=False)
        add_demo_calls(stores["parallel"], 2000, clock, seed=7, days=60, parallel=True)
        add_demo_calls(stores["other"], 2000, clock, seed=8, days=60)
        rows = {name: _raw_rows(store) for name, store in stores.items()}
    assert len(rows["here"]["call"]) == 2000
    assert rows["here"] == rows["parallel"]
    assert rows["here"]["call"] != rows["other"]["call"]


@pytest.mark.sqlite_only("the SQLite bulk writer against SQLAlchemy's, on two SQLite files")
def test_the_sqlite_writer_stores_exactly_what_sqlalchemy_would(tmp_path: Path,
                                                                 clock: FixedClock) -> None:
    with opened_store(tmp_path / "fast", clock) as fast, \
            opened_store(tmp_path / "core", clock) as core:
        add_demo_calls(fast, 500, clock, seed=3, days=30)
        add_demo_calls(core, 500, clock, seed=3, days=30, writer=CoreBulkWriter)
        fast_rows, core_rows = _raw_rows(fast), _raw_rows(core)
    assert fast_rows == core_rows
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", fast_rows["call"][0][2])


def test_calls_fall_on_open_days_up_to_now(demo: Store, clock: FixedClock) -> None:
    now = clock.now()
    first_day = to_uk(now).date() - timedelta(days=364)
    calls = _calls(demo)
    days = {to_uk(call.started_at).date() for call in calls}
    assert len(calls) == CALLS
    assert all(day.weekday() < 5 and day not in BANK_HOLIDAYS for day in days)
    # and a follow-up is due on a day the line is open too
    due = {call.follow_up_on for call in calls if call.follow_up_on is not None}
    assert due and all(day.weekday() < 5 and day not in BANK_HOLIDAYS for day in due)
    assert min(days) >= first_day
    assert len(days) > 200  # spread over the year
    assert all(call.started_at <= now for call in calls)
    assert all(call.ended_at is None or call.ended_at <= now for call in calls)


def test_in_hours_follows_the_uk_clock_in_summer_and_winter(demo: Store) -> None:
    calls = _calls(demo)
    local_times = [to_uk(call.started_at) for call in calls]
    assert {t.utcoffset() for t in local_times} == {timedelta(0), timedelta(hours=1)}
    for call, local in zip(calls, local_times, strict=True):
        assert call.in_hours == (time(9, 30) <= local.time() < time(14)), local
        if call.kind == "data" and not call.in_hours:
            assert (call.channel, call.direction) == ("voicemail-callback", "outbound-callback")
    hours = Counter(t.hour for t in local_times)
    assert hours.most_common(1)[0][0] in (10, 11)  # the morning peak


def test_the_calls_are_shaped_like_the_line(demo: Store) -> None:
    calls = _calls(demo)
    data = [c for c in calls if c.kind == "data"]
    assert 0.93 <= sum(c.in_hours is True for c in calls) / len(calls) <= 0.97
    assert 0.06 <= 1 - len(data) / len(calls) <= 0.10
    assert 0.55 <= sum(c.consent_to_store_details for c in data) / len(data) <= 0.65
    assert 0.015 <= sum(c.safeguarding for c in data) / len(data) <= 0.045
    assert 0.07 <= sum(c.follow_up_on is not None for c in data) / len(data) <= 0.13
    assert Counter(c.caller_type for c in data).most_common(1)[0][0] == "grandparent"
    durations = sorted(c.duration_s for c in data if c.duration_s is not None)
    assert 9 * 60 <= durations[len(durations) // 2] <= 15 * 60
    with demo.read() as session:
        primary = Counter(code.split(".")[0] for code in session.exec(
            select(CallTopic.topic_code).where(CallTopic.is_primary)))
    assert {code for code, _ in primary.most_common(4)} == {
        "financial", "education", "legal", "family"}


def test_demo_calls_follow_every_rule_of_a_call(demo: Store, clock: FixedClock) -> None:
    active = set(topics_in_order(demo, include_retired=False))
    stored = [Calls(demo, SUPERVISOR, ANY_TIME).get(call_id) for call_id in range(1, CALLS + 1, 15)]
    data = [s for s in stored if s.kind == "data"]
    assert len(data) > 150
    for call in data:
        assert normalise(call.details) == call.details
        assert validate(call.details, active, clock) == [], call
    for call in stored:
        if call.kind != "data":
            assert call.details.topics == call.details.outcomes == ()
            assert call.details.caller_type is None


def test_personal_details_are_fake_and_only_kept_with_consent(demo: Store) -> None:
    calls = [c for c in _calls(demo) if c.kind == "data"]
    agreed = [c for c in calls if c.consent_to_store_details]
    for call in agreed:
        assert call.caller_name
        assert call.caller_phone and DRAMA_PHONE.match(call.caller_phone)
        assert call.caller_email and call.caller_email.endswith("@example.org")
        assert call.caller_postcode and POSTCODE.match(call.caller_postcode)
    personal = ("caller_name", "caller_phone", "caller_email", "caller_postcode", "notes",
                "follow_up_note")
    for call in calls:
        if not call.consent_to_store_details:
            assert all(getattr(call, name) is None for name in personal)


def test_codes_are_valid_and_retired_topics_unused(store: Store, clock: FixedClock) -> None:
    with store.write() as session:
        for code in ("financial.debt", "other"):
            topic = session.get(Topic, code)
            assert topic is not None
            topic.retired = True
    add_demo_calls(store, 1500, clock, seed=5)
    with store.read() as session:
        used = set(session.exec(select(CallTopic.topic_code)))
        referrals = session.exec(select(CallOutcome).where(CallOutcome.outcome == "referred"))
        assert all(r.referred_to for r in referrals)
    assert used <= set(topics_in_order(store, include_retired=False))
    assert "financial.debt" not in used and "other" not in used


def test_a_second_run_adds_calls_for_the_same_demo_workers(demo: Store,
                                                            clock: FixedClock) -> None:
    add_demo_calls(demo, 100, clock, seed=2)
    with demo.read() as session:
        usernames = list(session.exec(select(User.username)))
        ids = list(session.exec(select(Call.id).order_by(Call.id)))
    assert sorted(usernames) == sorted(name for name, *_ in DEMO_WORKERS)
    assert ids == list(range(1, CALLS + 101))


def test_a_demo_needs_an_open_day_and_sensible_numbers(store: Store) -> None:
    sunday = FixedClock(uk(2026, 11, 22, 12))
    with pytest.raises(DemoError, match="not open on any of the last 1 days"):
        add_demo_calls(store, 10, sunday, days=1)
    with pytest.raises(DemoError, match="the number of calls cannot be negative"):
        add_demo_calls(store, -1, sunday)
    with pytest.raises(DemoError, match="the demo needs at least one day"):
        add_demo_calls(store, 10, sunday, days=0)


def test_demo_calls_know_their_uk_day_and_minute(tmp_path) -> None:
    clock = FixedClock(uk(2026, 7, 3, 15, 0))
    with opened_store(tmp_path / "data", clock) as store:
        add_demo_calls(store, 300, clock, seed=7, days=20)
        with store.read() as session:
            rows = session.exec(select(Call.started_at, Call.local_date, Call.local_minute)).all()
    assert len(rows) == 300
    for started_at, local_date, local_minute in rows:
        local = to_uk(started_at)
        assert (local_date, local_minute) == (local.date(), local.hour * 60 + local.minute)


def test_demo_calls_are_in_the_search_and_the_search_follows_them_afterwards(
        demo: Store, clock: FixedClock, engine: str) -> None:
    add_demo_calls(demo, 200, clock, seed=3)  # a second run, onto an indexed store
    calls = Calls(demo, SUPERVISOR, clock)
    noted = [c for c in _calls(demo) if c.notes and c.caller_name]
    for call in (noted[0], noted[-1]):  # one of each run
        assert call.id in {s.id for s in calls.list(CallQuery(text=call.notes or ""),
                                                    limit=CALLS)}
        assert call.id in {s.id for s in calls.list(CallQuery(text=call.caller_name or ""),
                                                    limit=CALLS)}
    assert calls.count(CallQuery(text="the")) == sum(
            1 for c in _calls(demo) if "the" in re.findall(r"\w+", (c.notes or "").lower()))
    if engine == "sqlite":
        with demo.raw_write() as connection:  # the index holds exactly the calls' words
            connection.exec_driver_sql(
                "INSERT INTO call_search(call_search, rank) VALUES ('integrity-check', 1)")
    # The triggers are back: an edit reaches the index.
    last = noted[-1]
    assert last.id is not None
    stored = calls.get(last.id)
    calls.update(last.id, replace(stored.details, notes="Quillwort zymurgy"))
    assert [c.id for c in calls.list(CallQuery(text="zymurgy quillwort"))] == [last.id]
    assert last.id not in {s.id for s in calls.list(CallQuery(text=last.notes or ""))}


# --- a year of the line, spread like a real one (issue 12) ----------------------------------

YEAR_CALLS = 100_000


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    """A 100,000-call year on SQLite, made once for the tests below, read with plain SQL."""
    folder = tmp_path_factory.mktemp("demo-year")
    clock = FixedClock(uk(2026, 11, 30, 18, 0))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CONFIG_DIR_ENV, str(folder / "config"))
        with opened_store(folder / "data", clock) as store:
            add_demo_calls(store, YEAR_CALLS, clock, seed=3)
            assert store.location.sqlite_file is not None
            path = store.location.sqlite_file
    connection = sqlite3.connect(path)
    yield connection
    connection.close()


def _per_open_day(year: sqlite3.Connection, key: Callable[[date], int]) -> dict[int, float]:
    """Calls per open day, by ``key`` of the day (its weekday, its month)."""
    calls: Counter[int] = Counter()
    days: Counter[int] = Counter()
    for day, n in year.execute("SELECT local_date, count(*) FROM call GROUP BY local_date"):
        calls[key(date.fromisoformat(day))] += n
        days[key(date.fromisoformat(day))] += 1
    return {k: calls[k] / days[k] for k in days}


@pytest.mark.slow  # with the year's store, made once (3-9 s)
@pytest.mark.sqlite_only(reason="one big store made once; the rows are the same on either")
def test_calls_follow_where_people_live(year: sqlite3.Connection) -> None:
    populations = authority_populations()
    found = dict(year.execute("SELECT local_authority, count(*) FROM call "
                              "WHERE kind = 'data' AND local_authority IS NOT NULL "
                              "GROUP BY local_authority").fetchall())
    assert set(found) <= set(populations)
    known = sum(found.values())
    total = sum(populations.values())
    birmingham, scilly = found.get("E08000025", 0), found.get("E06000053", 0)
    assert birmingham > 100 * max(scilly, 1)  # 1.16 million residents against 2,000
    assert 1500 <= birmingham <= 1900
    assert scilly <= 15
    for code, people in populations.items():
        expected = known * people / total
        # Poisson noise, and repeat callers bring a caller's authority again.
        assert abs(found.get(code, 0) - expected) <= 6 * expected ** 0.5 + 0.1 * expected, code


@pytest.mark.slow  # with the year's store, made once (3-9 s)
@pytest.mark.sqlite_only(reason="one big store made once; the rows are the same on either")
def test_mondays_and_mornings_are_busier_and_september_peaks(year: sqlite3.Connection) -> None:
    by_weekday = _per_open_day(year, date.weekday)
    assert by_weekday[0] > 1.2 * by_weekday[4]  # Monday against Friday
    assert by_weekday[0] == max(by_weekday.values())
    by_month = _per_open_day(year, lambda day: day.month)
    assert by_month[9] > 1.3 * by_month[8]  # the school year starts
    assert by_month[9] == max(by_month.values())
    hours = Counter(dict(year.execute(
        "SELECT local_minute / 60, count(*) FROM call GROUP BY local_minute / 60").fetchall()))
    assert hours[10] + hours[11] > 2 * (hours[14] + hours[15])  # the morning peak


@pytest.mark.slow  # with the year's store, made once (3-9 s)
@pytest.mark.sqlite_only(reason="one big store made once; the rows are the same on either")
def test_some_callers_ring_again(year: sqlite3.Connection) -> None:
    rows = year.execute("SELECT caller_name, caller_phone, caller_email, caller_postcode, "
                        "local_authority, first_time_caller FROM call "
                        "WHERE caller_name IS NOT NULL ORDER BY id").fetchall()
    seen: dict[tuple[str, str, str], tuple[object, ...]] = {}
    again: list[str] = []
    same_place = 0
    for name, phone, email, postcode, authority, first_time in rows:
        person = (name, phone, email)
        if person in seen:
            again.append(first_time)
            same_place += seen[person] == (postcode, authority)
        else:
            seen[person] = (postcode, authority)
    # By chance alone (1,600 names, 1,000 drama numbers) about 2% of these calls would share a
    # caller's name, phone and email with an earlier one, at another address.
    assert 0.15 <= len(again) / len(rows) <= 0.35
    assert same_place / len(again) > 0.85  # the same person, at the same address
    assert Counter(again)["no"] / len(again) > 0.85  # who says they have called before
