"""No silent overwrite: two seats on one store, each with the same call open. Every change of
a call bumps its version; a save naming the version it read is refused once another seat
changed the call, naming who and when, and nothing of it is written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from advice_desk.calls.review import Review
from advice_desk.calls.service import Calls
from advice_desk.clock import FixedClock
from advice_desk.paths import Location
from advice_desk.people.permissions import Actor
from advice_desk.privacy.erasure import Erasure
from advice_desk.privacy.identity import PersonQuery
from advice_desk.privacy.retention import apply_retention
from advice_desk.store.engine import Store
from advice_desk.store.failures import is_refusal
from advice_desk.store.versions import CallChanged
from tests.factories import a_call, opened_store


@pytest.fixture
def other_seat(location: Location, store: Store, clock: FixedClock) -> Iterator[Store]:
    """The same store opened a second time, as another PC opens it."""
    with opened_store(location, clock) as opened:
        yield opened


def test_an_edit_of_a_call_another_seat_changed_is_refused_naming_who_and_when(
        store: Store, other_seat: Store, clock: FixedClock, sam: Actor, amy: Actor) -> None:
    call_id = Calls(store, amy, clock).log(a_call(clock, notes="first words"))
    at_amys_desk = Calls(store, amy, clock).get(call_id)
    at_sams_desk = Calls(other_seat, sam, clock).get(call_id)
    assert at_amys_desk.version == at_sams_desk.version == 1

    clock.advance(timedelta(minutes=3))
    Calls(other_seat, sam, clock).update(
        call_id, replace(at_sams_desk.details, notes="sam's words"), version=1)
    clock.advance(timedelta(minutes=2))
    with pytest.raises(CallChanged) as refused:
        Calls(store, amy, clock).update(
            call_id, replace(at_amys_desk.details, notes="amy's words", children_count=2),
            version=at_amys_desk.version)

    assert str(refused.value) == ("call 1 was changed by Sam Supervisor at 10:18 on 23 Nov 2026 "
                                  "(UK time) since you opened it, so your edit was not saved")
    assert is_refusal(refused.value)  # shown as it is, by the CLI and the GUI
    stored = Calls(store, amy, clock).get(call_id)
    assert stored.details.notes == "sam's words" and stored.details.children_count is None
    assert stored.version == 2
    # Reloaded, amy's edit goes in over sam's, which she has now seen.
    assert Calls(store, amy, clock).update(
        call_id, replace(stored.details, notes="amy's words"), version=stored.version) == [
            "notes"]
    assert Calls(other_seat, sam, clock).get(call_id).version == 3


def test_every_change_of_a_call_bumps_its_version_and_refuses_a_stale_edit(
        store: Store, other_seat: Store, clock: FixedClock, sam: Actor, amy: Actor) -> None:
    calls = Calls(store, amy, clock)
    call_id = calls.log(a_call(clock, caller_name="Ann Example", consent_to_store_details=True,
                               follow_up_on=clock.now().date() + timedelta(days=2)))
    changes = [
        ("review", lambda: Review(other_seat, sam, clock).call(call_id, "fine")),
        ("follow-up done", lambda: Review(other_seat, sam, clock).complete_follow_up(call_id)),
        ("legal hold", lambda: Erasure(other_seat, sam, clock).set_legal_hold(call_id, True)),
        ("hold lifted", lambda: Erasure(other_seat, sam, clock).set_legal_hold(call_id, False)),
        ("erasure", lambda: Erasure(other_seat, sam, clock).erase(
            PersonQuery.given(name="Ann Example"))),
    ]
    for expected, (what, change) in enumerate(changes, start=2):
        opened = calls.get(call_id)
        change()
        now = calls.get(call_id)
        assert now.version == expected, what
        with pytest.raises(CallChanged, match="by Sam Supervisor"):
            calls.update(call_id, replace(opened.details, notes="late"), version=opened.version)
    assert calls.get(call_id).details.caller_name is None  # the erasure was not undone


def test_corrections_withdrawals_and_retention_bump_the_version(
        store: Store, clock: FixedClock, sam: Actor, amy: Actor) -> None:
    calls = Calls(store, amy, clock)
    silent = calls.log_non_data("silent")
    calls.correct(silent, "hang-up", version=1)
    with pytest.raises(CallChanged, match="by Amy Adviser"):
        calls.correct(silent, None, version=1)
    calls.correct(silent, None, version=2)
    assert calls.get(silent).version == 3

    old = Calls(store, sam, clock).log(a_call(clock.now() - timedelta(days=800),
                                              consent_to_store_details=True,
                                              caller_name="Old Caller"))
    assert apply_retention(store, sam, clock) == 1
    assert Calls(store, sam, clock).get(old).version == 2


def test_each_write_of_a_call_names_the_version_it_read(
        store: Store, clock: FixedClock, amy: Actor) -> None:
    calls = Calls(store, amy, clock)
    call_id = calls.log(a_call(clock))
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda _c, _cur, statement, *_: statements.append(statement))
    calls.update(call_id, replace(calls.get(call_id).details, notes="more"), version=1)
    updates = [s for s in statements if s.startswith('UPDATE call ')]
    assert len(updates) == 1
    assert re.sub(r'"|::\w+', "", updates[0]).endswith(
        "WHERE call.id = %(call_id)s AND call.version = %(call_version)s"
        if store.engine.dialect.name == "postgresql" else
        "WHERE call.id = ? AND call.version = ?")
    assert "version=" in updates[0].split(" WHERE ")[0].replace(" ", "")  # sets the next one
