"""People's data (PRODUCT.md §7): retention, subject access and erasure on request.

The clock is Monday 23 November 2026, 10:15 in London, so with the default 12 months the
retention cut-off is 23 November 2025, 10:15.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from advice_desk.calls.service import Calls
from advice_desk.cli.common import EXIT_BAD_INPUT, EXIT_OK
from advice_desk.cli.main import main
from advice_desk.clock import FixedClock, months_before
from advice_desk.paths import Location
from advice_desk.people.permissions import Actor, PermissionDenied, Role
from advice_desk.privacy.classification import PERSONAL_CALL_FIELDS
from advice_desk.privacy.identity import PersonQuery, SearchError
from advice_desk.privacy.personal_data import PersonalData
from advice_desk.privacy.retention import apply_retention
from advice_desk.reports.compute import Reports
from advice_desk.store.engine import Store, open_store
from advice_desk.store.models import AuditEvent, Call
from tests.factories import a_call, first_supervisor, opened_store, store_options, uk
from tests.support import ANY_TIME, SUPERVISOR

MARGARET = {"caller_name": "Margaret Example", "caller_phone": "07911 123456",
            "caller_email": "Margaret@Example.org", "caller_postcode": "DE1 1AA"}
BRIAN = {"caller_name": "Brian Other", "caller_phone": "07700 900123",
         "caller_email": "brian@example.net", "caller_postcode": "LS1 4AP"}
NOTE = "Allowance stopped after the SGO was made"


def _log(store: Store, clock: FixedClock, worker_id: int, start: datetime,
         person: dict[str, str] | None = None, **extra: object) -> int:
    person = person or MARGARET
    worker = Actor(worker_id, "worker", "Worker", Role.WORKER)
    return Calls(store, worker, clock).log(a_call(
        start, 300, local_authority="E08000035", consent_to_store_details=True,
        notes=f"{NOTE} for {person['caller_name']}", follow_up_on=start.date(),
        follow_up_note="Ring back", **person, **extra))


def _row(store: Store, call_id: int) -> Call:
    with store.read() as session:
        call = session.get(Call, call_id)
        assert call is not None
        return call


def _erased(call: Call) -> bool:
    return all(getattr(call, name) is None for name in PERSONAL_CALL_FIELDS)


def _audit(store: Store, action: str) -> list[AuditEvent]:
    with store.read() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)
                                 .order_by(AuditEvent.id)))


# --- retention -------------------------------------------------------------------------------

def test_the_cut_off_is_calendar_months_before_now() -> None:
    now = uk(2026, 11, 23, 10, 15)
    assert months_before(now, 12) == uk(2025, 11, 23, 10, 15)
    assert months_before(uk(2026, 5, 31, 12, 0), 3) == uk(2026, 2, 28, 12, 0)


def test_retention_erases_calls_past_the_period_and_keeps_the_rest(
        store: Store, clock: FixedClock, amy: Actor, sam: Actor) -> None:
    now = clock.now()
    inside = _log(store, clock, amy.id, now - timedelta(days=364))  # 2025-11-24: one day in
    past = _log(store, clock, amy.id, now - timedelta(days=366))  # 2025-11-22: one day out
    held = _log(store, clock, amy.id, now - timedelta(days=700))
    people = PersonalData(store, sam, clock)
    people.set_legal_hold(held, True)

    assert apply_retention(store, sam, clock, dry_run=True) == 1
    assert not _erased(_row(store, past))  # a dry run changes nothing
    assert _audit(store, "retention") == []

    assert apply_retention(store, sam, clock) == 1
    erased = _row(store, past)
    assert _erased(erased)
    assert erased.personal_erased_at == now
    # The categorical record stays.
    assert (erased.caller_type, erased.arrangement, erased.local_authority) == (
        "grandparent", "sgo", "E08000035")
    assert Calls(store, SUPERVISOR, ANY_TIME).get(past).details.topics == (
        "financial.allowances",)
    assert not _erased(_row(store, inside))
    assert _row(store, inside).personal_erased_at is None
    assert not _erased(_row(store, held))  # legal hold respected

    assert apply_retention(store, sam, clock) == 0  # idempotent
    events = _audit(store, "retention")
    assert [json.loads(e.detail or "{}")["calls"] for e in events] == [1, 0]
    assert events[0].actor == sam.name

    people.set_legal_hold(held, False)
    assert apply_retention(store, sam, clock) == 1
    assert _erased(_row(store, held))
    assert [e.subject for e in _audit(store, "legal-hold")] == [f"call {held}"] * 2


def test_the_retention_period_is_a_setting(store: Store, clock: FixedClock, amy: Actor,
                                           sam: Actor) -> None:
    from advice_desk import settings

    call = _log(store, clock, amy.id, clock.now() - timedelta(days=40))
    assert apply_retention(store, sam, clock, dry_run=True) == 0
    with store.write() as session:
        settings.write_setting(session, "retention_months", 1)
    assert apply_retention(store, sam, clock) == 1
    assert _erased(_row(store, call))


# --- finding a person ------------------------------------------------------------------------

@pytest.mark.parametrize("phone", ["07911 123456", "+44 7911 123456", "07911123456",
                                   "+447911123456", "07911-123-456"])
def test_any_format_of_a_phone_number_finds_the_person(
        store: Store, clock: FixedClock, amy: Actor, sam: Actor, phone: str) -> None:
    mine = _log(store, clock, amy.id, clock.now() - timedelta(days=3))
    _log(store, clock, amy.id, clock.now() - timedelta(days=2), BRIAN)
    assert PersonalData(store, sam, clock).find(PersonQuery("phone", phone)) == [mine]


def test_drama_numbers_and_names_and_emails_are_found(store: Store, clock: FixedClock,
                                                      amy: Actor, sam: Actor) -> None:
    _log(store, clock, amy.id, clock.now() - timedelta(days=3))
    brian = _log(store, clock, amy.id, clock.now() - timedelta(days=2), BRIAN)
    people = PersonalData(store, sam, clock)
    assert people.find(PersonQuery("phone", "07700 900123")) == [brian]
    assert people.find(PersonQuery("phone", "+44 7700 900123")) == [brian]
    assert people.find(PersonQuery("phone", "07700 900124")) == []
    assert people.find(PersonQuery("name", "  brian OTHER ")) == [brian]
    assert people.find(PersonQuery("name", "Brian")) == []  # exact, not a part
    assert people.find(PersonQuery("email", "BRIAN@example.NET")) == [brian]
    with pytest.raises(SearchError):
        people.find(PersonQuery.given())
    with pytest.raises(SearchError):
        people.find(PersonQuery("name", "   "))


# --- erasure on request ------------------------------------------------------------------------

def _two_callers(store: Store, clock: FixedClock) -> tuple[Actor, list[int], int]:
    """sam, Margaret's two calls and Brian's one, all this month."""
    sam = first_supervisor(store, clock)
    days = [clock.now() - timedelta(days=d) for d in (1, 2, 3)]
    mine = [_log(store, clock, sam.id, days[0]), _log(store, clock, sam.id, days[1])]
    return sam, mine, _log(store, clock, sam.id, days[2], BRIAN)


def _dead_call_rows(store: Store) -> int:
    """PostgreSQL: the old row versions still in the call table (an UPDATE leaves the old
    version behind, with the erased values in it, until a VACUUM removes it)."""
    with store.engine.connect() as connection:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        dead = connection.exec_driver_sql(
            "SELECT dead_tuple_count FROM pgstattuple('call')").scalar_one()
        connection.commit()
    return int(dead)


def test_erasure_keeps_the_statistics_and_is_audited(store: Store, clock: FixedClock) -> None:
    sam, mine, brian = _two_callers(store, clock)
    before = Reports(store, sam, clock).compute(date(2026, 11, 1), date(2026, 11, 30))

    people = PersonalData(store, sam, clock)
    assert people.erase(PersonQuery("phone", "+44 7911 123456"), dry_run=True) == 2
    assert not _erased(_row(store, mine[0]))
    assert people.erase(PersonQuery("phone", "+44 7911 123456")) == 2
    assert all(_erased(_row(store, i)) for i in mine)
    assert not _erased(_row(store, brian))
    if not store.is_sqlite:
        assert _dead_call_rows(store) == 0  # vacuumed: no old version keeps Margaret's details
    after = Reports(store, sam, clock).compute(date(2026, 11, 1), date(2026, 11, 30))
    assert [getattr(after, f.name) for f in fields(after)] == [
        getattr(before, f.name) for f in fields(before)]
    assert people.erase(PersonQuery("phone", "07911 123456")) == 0  # nothing left

    (event, _again) = _audit(store, "erasure")
    assert "7911" not in (event.detail or "") and json.loads(event.detail or "")[
        "calls"] == 2


@pytest.mark.sqlite_only("byte checks of the SQLite file and its WAL after an erasure")
def test_erasure_leaves_no_trace_in_the_files(location: Location, clock: FixedClock) -> None:
    assert location.sqlite_file is not None
    wal = Path(f"{location.sqlite_file}-wal")
    store = open_store(location, clock)
    try:
        sam, _mine, _brian = _two_callers(store, clock)
        assert b"Margaret Example" in location.sqlite_file.read_bytes() + wal.read_bytes()
        assert PersonalData(store, sam, clock).erase(PersonQuery("phone", "+44 7911 123456")) == 2
        assert not wal.exists() or b"7911" not in wal.read_bytes()  # checkpointed
    finally:
        store.close()
    for path in (location.sqlite_file, wal):
        raw = path.read_bytes() if path.exists() else b""
        for secret in (b"07911 123456", b"Margaret Example", b"Margaret@Example.org",
                       NOTE.encode() + b" for Margaret"):
            assert secret not in raw, (path.name, secret)
    assert b"Brian Other" in location.sqlite_file.read_bytes()  # the other caller stays


def test_erasure_leaves_calls_on_legal_hold(store: Store, clock: FixedClock, amy: Actor,
                                            sam: Actor) -> None:
    first = _log(store, clock, amy.id, clock.now() - timedelta(days=3))
    held = _log(store, clock, amy.id, clock.now() - timedelta(days=2))
    people = PersonalData(store, sam, clock)
    people.set_legal_hold(held, True)
    assert people.erase(PersonQuery("name", "margaret example")) == 1
    assert _erased(_row(store, first)) and not _erased(_row(store, held))


# --- subject access ----------------------------------------------------------------------------

def test_the_subject_access_file_holds_the_persons_calls_only(
        store: Store, clock: FixedClock, amy: Actor, sam: Actor, tmp_path: Path) -> None:
    mine = [_log(store, clock, amy.id, clock.now() - timedelta(days=d)) for d in (3, 40)]
    _log(store, clock, amy.id, clock.now() - timedelta(days=2), BRIAN)
    people = PersonalData(store, sam, clock)
    ids = people.find(PersonQuery("email", "margaret@example.org"))
    assert ids == mine
    out = tmp_path / "margaret.md"
    people.save_subject_access(ids, out)
    text = out.read_text("utf-8")
    assert text.count("## Call ") == 2
    for value in (*MARGARET.values(), NOTE, "Ring back", "Allowances", "Advice",
                  "2026-11-20", "2026-10-14"):
        assert value in text, value
    for value in (*BRIAN.values(), "Amy Adviser"):
        assert value not in text, value
    (event,) = _audit(store, "subject-access")
    assert json.loads(event.detail or "") == {"calls": 2}
    assert "margaret" not in (event.detail or "").lower()
    assert list(tmp_path.glob("*.part")) == []


# --- permissions -------------------------------------------------------------------------------

def test_workers_may_not_erase_or_see_a_persons_calls(store: Store, clock: FixedClock,
                                                      amy: Actor, tmp_path: Path) -> None:
    call = _log(store, clock, amy.id, clock.now() - timedelta(days=400))
    people = PersonalData(store, amy, clock)
    with pytest.raises(PermissionDenied):
        apply_retention(store, amy, clock)
    with pytest.raises(PermissionDenied):
        people.find(PersonQuery("name", "Margaret Example"))
    with pytest.raises(PermissionDenied):
        people.erase(PersonQuery("name", "Margaret Example"))
    with pytest.raises(PermissionDenied):
        people.save_subject_access([call], tmp_path / "out.md")
    with pytest.raises(PermissionDenied):
        people.set_legal_hold(call, True)
    assert not _erased(_row(store, call))
    assert not (tmp_path / "out.md").exists()


# --- the command line --------------------------------------------------------------------------

@pytest.fixture
def old_store(location: Location, clock: FixedClock, tmp_path: Path) -> list[str]:
    """A store of two callers' calls from 2024, long past the retention period by any clock;
    closed, for the command line to open: the options that point it there."""
    from advice_desk.people.accounts import get_or_create_user

    store = open_store(location, clock)
    try:
        worker = get_or_create_user(store, "amy", clock, display_name="Amy Adviser")
        assert worker.id is not None
        start = uk(2024, 3, 4, 10, 0)
        _log(store, clock, worker.id, start)
        _log(store, clock, worker.id, start + timedelta(days=1))
        _log(store, clock, worker.id, start + timedelta(days=2), BRIAN)
    finally:
        store.close()
    return store_options(location)


def _erased_count(location: Location, clock: FixedClock) -> int:
    with opened_store(location, clock) as store, store.read() as session:
        return sum(_erased(c) for c in session.exec(select(Call)))


def test_the_retention_command(old_store: list[str], location: Location, clock: FixedClock,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retention", "--dry-run", *old_store]) == EXIT_OK
    assert "Would erase the personal details of 3 calls" in capsys.readouterr().out
    assert _erased_count(location, clock) == 0
    assert main(["retention", *old_store]) == EXIT_OK
    assert "Erased the personal details of 3 calls" in capsys.readouterr().out
    assert main(["retention", *old_store]) == EXIT_OK
    assert "Erased the personal details of 0 calls" in capsys.readouterr().out
    assert _erased_count(location, clock) == 3


def test_the_erase_command(old_store: list[str], location: Location, clock: FixedClock,
                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["erase", "--phone", "+44 7911 123456", *old_store]) == EXIT_OK
    assert "Would erase the personal details of 2 calls" in capsys.readouterr().out
    assert _erased_count(location, clock) == 0
    assert main(["erase", "--phone", "+44 7911 123456", "--yes",
                 *old_store]) == EXIT_OK
    assert "Erased the personal details of 2 calls" in capsys.readouterr().out
    assert _erased_count(location, clock) == 2


def test_the_subject_access_command(old_store: list[str], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "brian.md"
    assert main(["subject-access", "--name", "brian other", "--out", str(out),
                 *old_store]) == EXIT_OK
    assert "Wrote 1 call to" in capsys.readouterr().out
    text = out.read_text("utf-8")
    assert "Brian Other" in text and "Margaret" not in text


@pytest.mark.parametrize("argv", [
    ["erase"], ["erase", "--yes"], ["subject-access", "--out", "x.md"],
    ["erase", "--name", "a", "--phone", "07911 123456"], ["erase", "--name", "  "],
    ["erase", "--phone", "no digits"], ["retention", "--months", "3"],
])
def test_the_commands_refuse_bad_input(old_store: list[str], argv: list[str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main([*argv, *old_store])
    except SystemExit as exit_:  # argparse's own checks
        code = exit_.code
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("advice-desk") and "error: " in err and err.count("\n") == 1


def test_legal_hold_is_for_supervisors_and_each_change_is_audited_once(
        store: Store, clock: FixedClock, amy: Actor, sam: Actor) -> None:
    call = _log(store, clock, amy.id, clock.now() - timedelta(days=3))
    with pytest.raises(PermissionDenied):
        PersonalData(store, amy, clock).set_legal_hold(call, True)
    people = PersonalData(store, sam, clock)
    people.set_legal_hold(call, True)
    people.set_legal_hold(call, True)  # already held: nothing changes, nothing to audit
    assert people.held_calls([call]) == [call]
    people.set_legal_hold(call, False)
    assert people.held_calls([call]) == []
    events = _audit(store, "legal-hold")
    assert [(e.actor, e.subject, json.loads(e.detail or "{}")) for e in events] == [
        (sam.name, f"call {call}", {"held": True}), (sam.name, f"call {call}", {"held": False})]
    with pytest.raises(LookupError):
        people.set_legal_hold(call + 100, True)
