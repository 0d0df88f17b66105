"""Repeat callers (PRODUCT.md §1) and a supervisor's search for a person's calls: what each
role receives, the one normal form of a person, and the audit of every lookup and search."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from advice_desk.calls.service import Calls
from advice_desk.clock import FixedClock
from advice_desk.people.permissions import Actor, PermissionDenied
from advice_desk.privacy.identity import PersonQuery
from advice_desk.privacy.personal_data import PersonalData
from advice_desk.privacy.repeat_callers import EarlierCall, EarlierCallInFull, RepeatCallers
from advice_desk.store.engine import Store
from advice_desk.store.models import AuditEvent, Call
from tests.factories import a_call, sam_amy_and_bob

MARGARET = {"caller_name": "Margaret Example", "caller_phone": "07911 123456",
            "caller_email": "Margaret@Example.org"}
MARGARET_OTHER = {"caller_name": "margaret other", "caller_phone": "07700 900999",
                  "caller_email": "mo@example.net"}
BRIAN = {"caller_name": "Brian Other", "caller_phone": "07700 900123",
         "caller_email": "brian@example.net"}
NOTE = "Allowance stopped after the SGO was made"


def _log(store: Store, clock: FixedClock, worker: Actor, days_ago: int,
         person: dict[str, str] | None = None, consent: bool = True) -> int:
    start = clock.now() - timedelta(days=days_ago)
    details = (person or MARGARET) if consent else {}
    return Calls(store, worker, clock).log(a_call(
        start, 300, consent_to_store_details=consent, notes=NOTE, follow_up_on=start.date(),
        follow_up_note="Ring back about the allowance", topics=("legal",), **details))


def _audit(store: Store, action: str) -> list[AuditEvent]:
    with store.read() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)
                                 .order_by(AuditEvent.id)))  # type: ignore[arg-type]


# --- repeat callers ----------------------------------------------------------------------

def test_a_worker_sees_only_the_date_topics_outcomes_and_follow_up_of_anyones_calls(
        store: Store, clock: FixedClock) -> None:
    sam, amy, bob = sam_amy_and_bob(store, clock)
    _log(store, clock, bob, 40)
    _log(store, clock, sam, 3)
    _log(store, clock, bob, 2, BRIAN)
    found = RepeatCallers(store, amy, clock).earlier_calls("+44 7911 123456", "")
    assert found.count == 2
    assert all(type(call) is EarlierCall for call in found.calls)
    assert {f.name for f in fields(found.calls[0])} == {
        "started_at", "topics", "outcomes", "follow_up_on", "follow_up_done"}
    assert [call.started_at for call in found.calls] == [
        clock.now() - timedelta(days=3), clock.now() - timedelta(days=40)]  # newest first
    assert found.calls[0].topics and found.calls[0].outcomes
    assert found.calls[0].follow_up_on == (clock.now() - timedelta(days=3)).date()
    shown = repr(found)
    for secret in (NOTE, "Ring back", "Margaret", "7911", "Bob Adviser", "Sam Supervisor"):
        assert secret not in shown, secret


def test_a_supervisor_sees_everything_of_the_earlier_calls(store: Store,
                                                          clock: FixedClock) -> None:
    sam, _amy, bob = sam_amy_and_bob(store, clock)
    call = _log(store, clock, bob, 3)
    (found,) = RepeatCallers(store, sam, clock).earlier_calls("", "margaret@EXAMPLE.org").calls
    assert isinstance(found, EarlierCallInFull)
    assert (found.call_id, found.notes, found.follow_up_note, found.caller_name) == (
        call, NOTE, "Ring back about the allowance", "Margaret Example")
    assert found.worker == "Bob Adviser"


def test_only_consented_calls_match_and_the_call_being_edited_is_left_out(
        store: Store, clock: FixedClock) -> None:
    sam, amy, bob = sam_amy_and_bob(store, clock)
    first = _log(store, clock, bob, 5)
    editing = _log(store, clock, amy, 1)
    callers = RepeatCallers(store, amy, clock)
    assert callers.earlier_calls("07911123456", None, excluding=editing).count == 1
    PersonalData(store, sam, clock).erase_calls([first])
    assert callers.earlier_calls("07911123456", None, excluding=editing).count == 0
    with store.write() as session:  # a call whose consent was withdrawn
        row = session.get(Call, editing)
        assert row is not None
        row.consent_to_store_details = False
        session.add(row)
    assert callers.earlier_calls("07911123456", None).count == 0


def test_the_same_normal_form_as_subject_access_finds_the_caller(
        store: Store, clock: FixedClock) -> None:
    sam, amy, bob = sam_amy_and_bob(store, clock)
    call = _log(store, clock, bob, 5)
    people = PersonalData(store, sam, clock)
    for phone in ("07911 123456", "+44 7911 123456", "+447911123456", "07911-123-456"):
        assert RepeatCallers(store, amy, clock).earlier_calls(phone, "").count == 1, phone
        assert people.find(PersonQuery("phone", phone)) == [call], phone
    assert RepeatCallers(store, amy, clock).earlier_calls("07911 123457", "").count == 0


def test_an_incomplete_number_looks_up_nothing_and_each_lookup_is_audited_without_it(
        store: Store, clock: FixedClock) -> None:
    _sam, amy, bob = sam_amy_and_bob(store, clock)
    _log(store, clock, bob, 5)
    callers = RepeatCallers(store, amy, clock)
    assert callers.earlier_calls("0791", "margaret@").count == 0
    assert _audit(store, "repeat-caller-lookup") == []
    callers.earlier_calls("07911 123456", "Margaret@Example.org")
    callers.earlier_calls("07700 900000", "")
    first, second = _audit(store, "repeat-caller-lookup")
    assert json.loads(first.detail or "") == {"by": ["email", "phone"], "calls": 1}
    assert json.loads(second.detail or "") == {"by": ["phone"], "calls": 0}
    for event in (first, second):
        assert event.actor_id == amy.id and event.subject is None
        text = f"{event.subject} {event.detail}".lower()
        for secret in ("7911", "123456", "900000", "margaret", "example.org"):
            assert secret not in text, secret


# --- a person's data: search by part of a name, tick, save or erase ----------------------

def test_a_part_of_a_name_lists_the_calls_of_two_different_people(
        store: Store, clock: FixedClock) -> None:
    sam, amy, bob = sam_amy_and_bob(store, clock)
    mine = _log(store, clock, bob, 5)
    other = _log(store, clock, amy, 3, MARGARET_OTHER)
    _log(store, clock, amy, 2, BRIAN)
    found = PersonalData(store, sam, clock).search(PersonQuery("name", "  MARGARET "))
    assert [(row.call_id, row.caller_name, row.caller_phone) for row in found] == [
        (mine, "Margaret Example", "07911 123456"), (other, "margaret other", "07700 900999")]
    assert found[0].started_at == clock.now() - timedelta(days=5)
    assert [row.call_id for row in PersonalData(store, sam, clock).search(
        PersonQuery("phone", "+44 7911 123456"))] == [mine]


def test_only_the_ticked_calls_are_saved_and_erased(store: Store, clock: FixedClock,
                                                    tmp_path: Path) -> None:
    sam, amy, bob = sam_amy_and_bob(store, clock)
    mine = _log(store, clock, bob, 5)
    other = _log(store, clock, amy, 3, MARGARET_OTHER)
    people = PersonalData(store, sam, clock)
    assert len(people.search(PersonQuery("name", "margaret"))) == 2
    out = tmp_path / "margaret.md"
    people.save_subject_access([mine], out)
    text = out.read_text("utf-8")
    assert "Margaret Example" in text and "margaret other" not in text
    assert people.erase_calls([mine]) == 1
    with store.read() as session:
        erased, kept = session.get(Call, mine), session.get(Call, other)
        assert erased is not None and kept is not None
        assert erased.caller_name is None and erased.personal_erased_at is not None
        assert kept.caller_name == "margaret other" and kept.notes == NOTE
    (event,) = _audit(store, "erasure")
    assert json.loads(event.detail or "") == {"by": "ticked", "calls": 1, "held": 0}


def test_a_ticked_call_on_legal_hold_is_not_erased(store: Store, clock: FixedClock) -> None:
    sam, _amy, bob = sam_amy_and_bob(store, clock)
    held, free = _log(store, clock, bob, 5), _log(store, clock, bob, 4)
    people = PersonalData(store, sam, clock)
    people.set_legal_hold(held, True)
    assert people.erase_calls([held, free]) == 1
    assert [row.call_id for row in people.search(PersonQuery("name", "margaret"))] == [held]


def test_every_search_is_audited_without_the_text_searched_for(
        store: Store, clock: FixedClock) -> None:
    sam, _amy, bob = sam_amy_and_bob(store, clock)
    _log(store, clock, bob, 5)
    people = PersonalData(store, sam, clock)
    people.search(PersonQuery("name", "Marga"))
    people.search(PersonQuery("email", "nobody@example.com"))
    first, second = _audit(store, "person-search")
    assert json.loads(first.detail or "") == {"by": "name", "calls": 1}
    assert json.loads(second.detail or "") == {"by": "email", "calls": 0}
    for event in (first, second):
        text = f"{event.subject} {event.detail}".lower()
        assert "marga" not in text and "nobody" not in text


def test_workers_may_not_search_for_a_person_or_erase_ticked_calls(
        store: Store, clock: FixedClock) -> None:
    _sam, amy, _bob = sam_amy_and_bob(store, clock)
    call = _log(store, clock, amy, 1)
    people = PersonalData(store, amy, clock)
    with pytest.raises(PermissionDenied):
        people.search(PersonQuery("name", "margaret"))
    with pytest.raises(PermissionDenied):
        people.erase_calls([call])
