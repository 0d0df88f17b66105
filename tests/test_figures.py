"""The figures engine: the rollup the reports read is, after any mix of writes, exactly what an
independent GROUP BY over the calls gives, figure by figure, on both engines; and
``advice-desk check --figures`` finds and repairs a rollup that is not.

The expected figures are counted here in plain SQL over ``call``, ``call_topic`` and
``call_outcome``, written for this test: never with the rollup's own code.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advice_desk.calls.importer import import_calls
from advice_desk.calls.in_hours import recompute_in_hours
from advice_desk.calls.record import CallDetails
from advice_desk.calls.review import Review
from advice_desk.calls.service import Calls
from advice_desk.calls.topics import topics_in_order
from advice_desk.cli.common import EXIT_FAILED, EXIT_OK
from advice_desk.cli.main import main
from advice_desk.clock import UK, FixedClock
from advice_desk.demo.synthetic import add_demo_calls
from advice_desk.figures import rollup
from advice_desk.paths import Location
from advice_desk.people.permissions import Actor
from advice_desk.privacy.erasure import Erasure
from advice_desk.reference import lists as reference
from advice_desk.reference.hours import Closure
from advice_desk.reports.compute import Reports
from advice_desk.settings import Settings
from advice_desk.store.engine import Store
from tests.factories import a_call, opened_store, store_options
from tests.fixtures.make_fixtures import HERE as FIXTURES

Figures = dict[str, Counter[tuple[str, str, str]]]  # measure -> (span, period, category) -> n

# The calls of a UK day, each measure counted independently of advice_desk.figures.
COUNTED = "c.withdrawn_at IS NULL AND c.local_date IS NOT NULL"
DATA = f"{COUNTED} AND c.kind = 'data'"
EXPECTED_SQL: dict[str, str] = {
    "kind": f"SELECT c.local_date, c.kind, count(*) FROM call c WHERE {COUNTED} GROUP BY 1, 2",
    "in_hours": "SELECT c.local_date, CASE WHEN c.in_hours THEN 'yes' ELSE 'no' END, count(*) "
                f"FROM call c WHERE {COUNTED} GROUP BY 1, 2",
    "worker": f"SELECT c.local_date, c.worker_id, count(*) FROM call c WHERE {COUNTED} "
              "GROUP BY 1, 2",
    "slot": f"SELECT c.local_date, c.local_minute / 30, count(*) FROM call c WHERE {COUNTED} "
            "AND c.in_hours AND c.local_minute IS NOT NULL GROUP BY 1, 2",
    "caller_type": f"SELECT c.local_date, COALESCE(c.caller_type, 'unknown'), count(*) "
                   f"FROM call c WHERE {DATA} GROUP BY 1, 2",
    "arrangement": f"SELECT c.local_date, COALESCE(c.arrangement, 'unknown'), count(*) "
                   f"FROM call c WHERE {DATA} GROUP BY 1, 2",
    "local_authority": f"SELECT c.local_date, COALESCE(c.local_authority, 'unknown'), "
                       f"count(*) FROM call c WHERE {DATA} GROUP BY 1, 2",
    "safeguarding": f"SELECT c.local_date, 'yes', count(*) FROM call c WHERE {DATA} "
                    "AND c.safeguarding GROUP BY 1, 2",
    "topic": "SELECT c.local_date, t.topic_code, count(DISTINCT c.id) FROM call c "
             f"JOIN call_topic t ON t.call_id = c.id WHERE {DATA} GROUP BY 1, 2",
    "top_topic": "SELECT c.local_date, COALESCE(p.parent_code, p.code), count(DISTINCT c.id) "
                 "FROM call c JOIN call_topic t ON t.call_id = c.id "
                 f"JOIN topic p ON p.code = t.topic_code WHERE {DATA} GROUP BY 1, 2",
    "outcome": "SELECT c.local_date, o.outcome, count(DISTINCT c.id) FROM call c "
               f"JOIN call_outcome o ON o.call_id = c.id WHERE {DATA} GROUP BY 1, 2",
    "referral": "SELECT c.local_date, o.referred_to, count(DISTINCT c.id) FROM call c "
                f"JOIN call_outcome o ON o.call_id = c.id WHERE {DATA} "
                "AND o.outcome = 'referred' AND o.referred_to <> '' GROUP BY 1, 2",
    "unreviewed": f"SELECT c.local_date, 'yes', count(*) FROM call c WHERE {DATA} "
                  "AND c.reviewed_at IS NULL GROUP BY 1, 2",
    # by the day it is due, whatever the call
    "follow_up_due": "SELECT c.follow_up_on, 'yes', count(*) FROM call c "
                     "WHERE c.follow_up_on IS NOT NULL AND c.follow_up_done_at IS NULL "
                     "GROUP BY 1, 2",
    "duration": f"SELECT c.local_date, c.duration_s, count(*) FROM call c WHERE {DATA} "
                "AND c.duration_s IS NOT NULL GROUP BY 1, 2",
}


def _category(measure: str, value: object) -> str:
    if measure == "slot":
        minutes = int(str(value)) * 30
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    return str(value)


def expected_figures(store: Store) -> Figures:
    """Each measure by day, and by month as the sum of its days."""
    figures: Figures = {measure: Counter() for measure in EXPECTED_SQL}
    with store.read() as session:
        connection = session.connection()
        for measure, sql in EXPECTED_SQL.items():
            for day, value, n in connection.execute(sa.text(sql)):
                day_text = str(day)
                category = _category(measure, value)
                figures[measure]["d", day_text, category] += n
                figures[measure]["m", day_text[:8] + "01", category] += n
    return {m: Counter({k: n for k, n in c.items() if n}) for m, c in figures.items()}


def kept_figures(store: Store) -> Figures:
    """The rollup as stored, read with plain SQL."""
    figures: Figures = {measure: Counter() for measure in EXPECTED_SQL}
    with store.read() as session:
        connection = session.connection()
        for span, period, measure, category, n in connection.execute(sa.text(
                "SELECT span, period, measure, category, calls FROM figure WHERE calls <> 0")):
            figures[measure][span, str(period), category] += n
        for span, period, seconds, n in connection.execute(sa.text(
                "SELECT span, period, seconds, calls FROM figure_duration WHERE calls <> 0")):
            figures["duration"][span, str(period), str(seconds)] += n
    return figures


def assert_figures_agree(store: Store) -> None:
    expected, kept = expected_figures(store), kept_figures(store)
    assert set(kept) == set(expected), "the rollup keeps a measure the test does not know"
    for measure in expected:
        assert kept[measure] == expected[measure], measure


# --- random writes -----------------------------------------------------------------------------

def _codes() -> dict[str, list[str]]:
    h = reference.helpline()
    return {
        "caller_type": [c.code for c in h.caller_types],
        "arrangement": [c.code for c in h.arrangements],
        "local_authority": [a.code for a in reference.local_authorities()][:6],
        "outcome": [c.code for c in h.outcomes],
        "referral": [c.code for c in h.referral_targets],
        "non_data": [k.code for k in h.non_data_kinds],
    }


CODES = _codes()


@st.composite
def call_facts(draw: st.DrawFn, topics: list[str]) -> dict[str, object]:
    """What a call with content says: its start (up to 45 days back, at any hour, so months,
    weekends and the hours of closing are crossed), length and codes."""
    outcomes = draw(st.lists(st.sampled_from(CODES["outcome"]), min_size=1, max_size=2,
                             unique=True))
    referred = draw(st.lists(st.sampled_from(CODES["referral"]), min_size=1, max_size=2,
                             unique=True)) if "referred" in outcomes else []
    return {
        "back_minutes": draw(st.integers(30, 45 * 24 * 60)),
        "seconds": draw(st.one_of(st.none(), st.integers(60, 2 * 3600))),
        "caller_type": draw(st.sampled_from(CODES["caller_type"])),
        "arrangement": draw(st.sampled_from(CODES["arrangement"])),
        "local_authority": draw(st.one_of(st.none(), st.sampled_from(CODES["local_authority"]))),
        "topics": tuple(draw(st.lists(st.sampled_from(topics), min_size=1, max_size=3,
                                      unique=True))),
        "outcomes": tuple(outcomes), "referred_to": tuple(referred),
        "safeguarding": draw(st.booleans()),
        "follow_up_in": draw(st.one_of(st.none(), st.integers(0, 40))),
    }


def _details(facts: dict[str, object], clock: FixedClock) -> CallDetails:
    start = clock.now() - timedelta(minutes=int(str(facts["back_minutes"])))
    seconds = facts["seconds"]
    follow_up_in = facts["follow_up_in"]
    changes = {k: v for k, v in facts.items()
               if k not in ("back_minutes", "seconds", "follow_up_in")}
    if follow_up_in is not None:
        changes["follow_up_on"] = start.astimezone(UK).date() + timedelta(
            days=int(str(follow_up_in)))
    return a_call(start, None if seconds is None else int(str(seconds)), **changes)


def _csv_row(facts: dict[str, object], clock: FixedClock) -> str:
    details = _details(facts, clock)
    local = details.started_at.astimezone(UK)
    minutes = "" if details.ended_at is None else str(
        (details.ended_at - details.started_at).total_seconds() / 60)
    outcomes = [o for o in details.outcomes if o != "referred"] + [
        f"referred:{r}" for r in details.referred_to]
    return ",".join([local.strftime("%Y-%m-%d %H:%M"), minutes, str(details.caller_type),
                     str(details.arrangement), details.local_authority or "",
                     ";".join(details.topics), ";".join(outcomes), "no", "", "", "", "", "",
                     details.follow_up_on.isoformat() if details.follow_up_on else "",
                     "yes" if details.safeguarding else "no", "", "", ""])


IMPORT_HEADER = ("started_at,duration_minutes,caller_type,arrangement,local_authority,topics,"
                 "outcomes,consent,caller_name,caller_phone,caller_email,caller_postcode,notes,"
                 "follow_up_on,safeguarding,channel,direction,children_age_bands")


def _ids(store: Store, data: bool) -> list[int]:
    kind = "c.kind = 'data'" if data else "c.kind <> 'data' AND c.withdrawn_at IS NULL"
    with store.read() as session:
        return [int(i) for i in session.connection().execute(
            sa.text(f"SELECT c.id FROM call c WHERE {kind} ORDER BY c.id")).scalars()]


def _with_follow_up(store: Store) -> list[int]:
    with store.read() as session:
        return [int(i) for i in session.connection().execute(sa.text(
            "SELECT id FROM call WHERE follow_up_on IS NOT NULL ORDER BY id")).scalars()]


def _empty(store: Store) -> None:
    with store.write() as session:
        for table in ("call_outcome", "call_topic", "call", "figure", "figure_duration"):
            session.connection().execute(sa.text(f"DELETE FROM {table}"))


OPERATIONS = ("save", "non-data", "edit", "edit", "correct", "correct", "import", "review",
              "follow-up done")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=st.data())
def test_the_rollup_is_what_the_calls_add_up_to_after_any_writes(
        data: st.DataObject, store: Store, clock: FixedClock, sam: Actor, amy: Actor) -> None:
    _empty(store)  # each example starts from no calls
    topics = list(topics_in_order(store, include_retired=False))
    calls = {actor.username: Calls(store, actor, clock) for actor in (sam, amy)}
    # A call of each sort first, so that every example has calls to edit and correct.
    for operation in ["save", "non-data", *data.draw(st.lists(st.sampled_from(OPERATIONS),
                                                              min_size=1, max_size=7))]:
        facts = data.draw(call_facts(topics))
        if operation == "save":
            who = data.draw(st.sampled_from(sorted(calls)))
            calls[who].log(_details(facts, clock))
        elif operation == "non-data":
            kind = data.draw(st.sampled_from(CODES["non_data"]))
            back = timedelta(minutes=int(str(facts["back_minutes"])))
            calls[data.draw(st.sampled_from(sorted(calls)))].log_non_data(
                kind, clock.now() - back)
        elif operation == "edit" and (ids := _ids(store, data=True) + _ids(store, data=False)):
            # a call with content, or a non-data call given content
            calls["sam"].update(data.draw(st.sampled_from(ids)), _details(facts, clock))
        elif operation == "correct" and (ids := _ids(store, data=False)):
            kind = data.draw(st.one_of(st.none(), st.sampled_from(CODES["non_data"])))
            calls["sam"].correct(data.draw(st.sampled_from(ids)), kind)
        elif operation == "import":
            rows = [_csv_row(data.draw(call_facts(topics)), clock)
                    for _ in range(data.draw(st.integers(1, 3)))]
            import_calls(store, "\n".join([IMPORT_HEADER, *rows]) + "\n", clock)
        elif operation == "review" and (ids := _ids(store, data=True)):
            Review(store, sam, clock).call(data.draw(st.sampled_from(ids)), "")
        elif operation == "follow-up done" and (ids := _with_follow_up(store)):
            Review(store, sam, clock).complete_follow_up(data.draw(st.sampled_from(ids)))
    assert_figures_agree(store)


# --- the other write paths ------------------------------------------------------------------

def test_a_changed_opening_policy_recomputed_moves_calls_between_in_and_out_of_hours(
        store: Store, clock: FixedClock, sam: Actor) -> None:
    calls = Calls(store, sam, clock)
    day = clock.now().astimezone(UK).date() - timedelta(days=7)  # a Monday, in hours at 10:00
    for hour in (10, 11, 12):
        calls.log(a_call(clock.now().replace(year=day.year, month=day.month, day=day.day,
                                             hour=hour)))
    settings_ = Settings(store, sam, clock)
    policy = settings_.hours_policy()
    settings_.save_hours_policy(replace(policy, closures=(
        *policy.closures, Closure(day, "Staff training"))))
    assert recompute_in_hours(store) == 3
    assert_figures_agree(store)
    assert Reports(store, sam, clock).compute(day, day).by_slot.get("10:00", 0) == 0


def test_erasure_leaves_every_figure_as_it_was(store: Store, clock: FixedClock, sam: Actor
                                               ) -> None:
    calls = Calls(store, sam, clock)
    call_id = calls.log(a_call(clock, caller_name="Ann Example", caller_phone="07700 900001",
                               consent_to_store_details=True, local_authority="E08000035"))
    before = kept_figures(store)
    Erasure(store, sam, clock).erase_calls([call_id])
    assert kept_figures(store) == before
    assert_figures_agree(store)


def test_a_change_by_day_is_written_as_day_and_month_rows_in_key_order() -> None:
    """Every day, then every month, in key order (two seats lock the rows in the same order);
    a day or a month that adds nothing is no row."""
    jan_5, jan_31, feb_3 = date(2026, 1, 5), date(2026, 1, 31), date(2026, 2, 3)
    by_day = Counter({(feb_3, "kind", "data"): 2, (jan_31, "kind", "data"): 1,
                      (jan_5, "kind", "data"): -1, (jan_5, "topic", "money"): 0})
    assert list(rollup.span_rows(by_day)) == [
        ("d", jan_5, "kind", "data", -1), ("d", jan_31, "kind", "data", 1),
        ("d", feb_3, "kind", "data", 2), ("m", date(2026, 2, 1), "kind", "data", 2)]


def test_the_demo_and_its_rollup_agree(store: Store, clock: FixedClock) -> None:
    add_demo_calls(store, 3000, clock, seed=3, days=70, parallel=False)
    assert_figures_agree(store)


@pytest.mark.sqlite_only("the saved stores of old schemas are SQLite files")
def test_an_old_store_gets_its_rollup_from_its_calls_when_opened(tmp_path: Path,
                                                                 clock: FixedClock) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(FIXTURES / "store-0001.sqlite3", data / "advice-desk.sqlite3")
    with opened_store(data, clock) as store:
        assert any(kept_figures(store)["kind"].values())
        assert_figures_agree(store)


# --- advice-desk check --figures ------------------------------------------------------------

def _spoil(store: Store) -> None:
    """A rollup gone wrong: one category one call short, one that no call gives."""
    with store.write() as session:
        connection = session.connection()
        connection.execute(sa.text("UPDATE figure SET calls = calls - 1 "
                                   "WHERE span = 'd' AND measure = 'kind'"))
        connection.execute(sa.text(
            "INSERT INTO figure (span, period, measure, category, calls) "
            "VALUES ('m', '2026-01-01', 'topic', 'financial', 4)"))


def test_check_figures_says_ok_and_finds_and_repairs_a_wrong_rollup(
        store: Store, location: Location, clock: FixedClock, sam: Actor,
        capsys: pytest.CaptureFixture[str]) -> None:
    calls = Calls(store, sam, clock)
    calls.log(a_call(clock, caller_name="Ann Example", consent_to_store_details=True))
    calls.log_non_data("silent")
    options = [*store_options(location), "check", "--figures"]
    assert main(options) == EXIT_OK
    assert "ok: the figures agree with the calls" in capsys.readouterr().out

    _spoil(store)
    assert main(options) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "3 of the figures differ from the calls" in err
    assert "month 2026-01-01, topic financial: kept 4, the calls give 0" in err
    assert "kept 0, the calls give 1" in err
    assert "Ann" not in err

    assert main([*options, "--repair"]) == EXIT_OK
    assert "repaired: 3 of the figures" in capsys.readouterr().out
    assert main(options) == EXIT_OK
    assert_figures_agree(store)


def test_repair_needs_figures(store: Store, location: Location,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*store_options(location), "check", "--repair"]) == 2
    assert "--repair goes with --figures" in capsys.readouterr().err
