"""The role rules (PRODUCT §8) at the core, with no GUI: what a worker may and may not do.

Workers log calls and open and edit their own calls of the last seven days; supervisors see and
edit everything and alone report, review, change the topics, the users and the settings, and
read the audit trail. The clock reads Monday 23 November 2026, 10:15 UK time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest

from advice_desk.calls.history import CallQuery
from advice_desk.calls.review import Review
from advice_desk.calls.service import Calls
from advice_desk.calls.topics import Topics
from advice_desk.clock import FixedClock
from advice_desk.people import audit
from advice_desk.people.accounts import Users
from advice_desk.people.audit import AuditTrail
from advice_desk.people.permissions import Actor, PermissionDenied, Role
from advice_desk.reference.hours import default_policy
from advice_desk.reports.compute import Reports
from advice_desk.settings import Settings
from advice_desk.store.engine import Store
from tests.factories import a_call, sam_amy_and_bob, uk
from tests.support import ANY_TIME, PASSWORD, SUPERVISOR

MONDAY = date(2026, 11, 23)
OWN_CALLS_ONLY = "Amy Adviser can only open their own calls of the last 7 days"


@dataclass
class Desk:
    store: Store
    clock: FixedClock
    sam: Actor
    amy: Actor
    bob: Actor
    amy_today: int  # Monday 09:40
    amy_six_days: int  # Monday 16 November 10:30: 6 days and 23:45 ago
    amy_old: int  # Sunday 15 November 16:00: more than 7 days ago, with a follow-up
    amy_silent: int  # a silent call, Monday 09:35
    bob_today: int  # Monday 09:50, with a follow-up

    def calls_for(self, actor: Actor, query: CallQuery | None = None) -> set[int]:
        return {c.id for c in Calls(self.store, actor, self.clock).list(query or CallQuery())}


@pytest.fixture
def desk(store, clock) -> Desk:
    sam, amy, bob = sam_amy_and_bob(store, clock)
    return Desk(
        store, clock, sam, amy, bob,
        amy_today=Calls(store, amy, clock).log(a_call(uk(MONDAY, 9, 40))),
        amy_six_days=Calls(store, amy, clock).log(a_call(uk(date(2026, 11, 16), 10, 30))),
        amy_old=Calls(store, amy, clock).log(a_call(uk(date(2026, 11, 15), 16, 0),
                                                    follow_up_on=date(2026, 11, 20))),
        amy_silent=Calls(store, amy, clock).log_non_data("silent", started_at=uk(MONDAY, 9, 35)),
        bob_today=Calls(store, bob, clock).log(a_call(uk(MONDAY, 9, 50), follow_up_on=MONDAY)),
    )


# --- a worker and their own calls ------------------------------------------------------------

def test_a_worker_logs_opens_and_edits_their_own_calls_of_the_last_7_days(desk):
    new = Calls(desk.store, desk.amy, desk.clock).log(a_call(uk(MONDAY, 10, 5)))
    for call_id in (new, desk.amy_today, desk.amy_six_days):
        stored = Calls(desk.store, desk.amy, desk.clock).get(call_id)
        assert stored.worker_id == desk.amy.id
        edited = replace(stored.details, topics=("legal.sgo",), notes="Explained the SGO.")
        assert Calls(desk.store, desk.amy, desk.clock).update(call_id, edited) == \
            ["topics", "notes"]
        assert Calls(desk.store, desk.amy, desk.clock).get(call_id).details == edited


def test_a_worker_cannot_open_or_edit_another_workers_call(desk):
    with pytest.raises(PermissionDenied, match=OWN_CALLS_ONLY):
        Calls(desk.store, desk.amy, desk.clock).get(desk.bob_today)
    before = Calls(desk.store, desk.sam, desk.clock).get(desk.bob_today).details
    with pytest.raises(PermissionDenied, match=OWN_CALLS_ONLY):
        Calls(desk.store, desk.amy, desk.clock).update(
            desk.bob_today, replace(before, notes="Mine now."))
    assert Calls(desk.store, desk.sam, desk.clock).get(desk.bob_today).details == before
    with pytest.raises(PermissionDenied, match="Bob Adviser can only open their own calls"):
        Calls(desk.store, desk.bob, desk.clock).get(desk.amy_today)


def test_a_worker_cannot_open_or_edit_their_own_call_older_than_7_days(desk):
    with pytest.raises(PermissionDenied, match=OWN_CALLS_ONLY):
        Calls(desk.store, desk.amy, desk.clock).get(desk.amy_old)
    before = Calls(desk.store, desk.sam, desk.clock).get(desk.amy_old).details
    with pytest.raises(PermissionDenied, match=OWN_CALLS_ONLY):
        Calls(desk.store, desk.amy, desk.clock).update(
            desk.amy_old, replace(before, notes="Late note."))
    assert Calls(desk.store, desk.sam, desk.clock).get(desk.amy_old).details == before


def test_a_call_leaves_the_workers_reach_7_days_after_it_started(desk):
    call_id = Calls(desk.store, desk.amy, desk.clock).log(a_call(uk(MONDAY, 10, 10)))
    desk.clock.set(uk(MONDAY + timedelta(days=7), 10, 9))
    assert Calls(desk.store, desk.amy, desk.clock).get(call_id).id == call_id
    assert call_id in desk.calls_for(desk.amy)
    desk.clock.set(uk(MONDAY + timedelta(days=7), 10, 11))
    with pytest.raises(PermissionDenied, match=OWN_CALLS_ONLY):
        Calls(desk.store, desk.amy, desk.clock).get(call_id)
    assert call_id not in desk.calls_for(desk.amy)


@pytest.mark.parametrize("query", [
    CallQuery(),
    CallQuery(worker_id=2),  # bob's id below; checked in the test
    CallQuery(date_from=date(2020, 1, 1)),
    CallQuery(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30)),
    CallQuery(started_after=uk(2000, 1, 1)),
    CallQuery(sort="worker", descending=False),
], ids=["everything", "another-worker", "no-date-limit", "the-month", "started-after-2000",
        "by-worker"])
def test_a_worker_lists_only_their_own_calls_of_the_last_7_days(desk, query):
    if query.worker_id is not None:
        query = replace(query, worker_id=desk.bob.id)
    assert desk.calls_for(desk.amy, query) == {desk.amy_today, desk.amy_six_days,
                                               desk.amy_silent}
    assert desk.calls_for(desk.bob, query) == {desk.bob_today}


def test_a_supervisor_sees_and_edits_every_call(desk):
    every = {desk.amy_today, desk.amy_six_days, desk.amy_old, desk.amy_silent, desk.bob_today}
    assert desk.calls_for(desk.sam) == every
    assert desk.calls_for(desk.sam, CallQuery(worker_id=desk.bob.id)) == {desk.bob_today}
    desk.clock.set(uk(date(2027, 6, 1), 12, 0))  # months later: still everything
    assert desk.calls_for(desk.sam) == every
    for call_id in (desk.amy_old, desk.bob_today):
        details = Calls(desk.store, desk.sam, desk.clock).get(call_id).details
        assert Calls(desk.store, desk.sam, desk.clock).update(
            call_id, replace(details, notes="Checked by Sam.")) == ["notes"]
        assert Calls(desk.store, desk.sam, desk.clock).get(call_id).details.notes == \
            "Checked by Sam."


# --- what only a supervisor may do -------------------------------------------------------------

SUPERVISOR_ONLY: dict[str, Callable[[Desk, Actor], object]] = {
    "Reports.compute": lambda d, a: Reports(d.store, a, d.clock).compute(MONDAY, MONDAY),
    "review.review_call": lambda d, a: Review(d.store, a, d.clock).call(d.amy_today, "Fine."),
    "taxonomy.add_topic": lambda d, a: Topics(d.store, a, d.clock).add("Grants", "financial"),
    "taxonomy.rename_topic": lambda d, a: Topics(d.store, a, d.clock).rename("financial", "Money"),
    "taxonomy.move_topic": lambda d, a: Topics(d.store, a, d.clock).move("legal", -1),
    "taxonomy.set_retired": lambda d, a: Topics(d.store, a, d.clock).retire("practical"),
    "users.add": lambda d, a: Users(d.store, a, d.clock).add("eve", "Eve Evil",
                                                             Role.SUPERVISOR, PASSWORD),
    "users.set_active": lambda d, a: Users(d.store, a, d.clock).set_active(d.bob.id, False),
    "users.reset_password": lambda d, a: Users(d.store, a, d.clock).reset_password(
        d.sam.id, "a new password"),
    "users.accounts": lambda d, a: Users(d.store, a, d.clock).accounts(),
    "audit.events": lambda d, a: AuditTrail(d.store, a, d.clock).events(audit.AuditQuery()),
    "settings.save_hours_policy": lambda d, a: Settings(d.store, a, d.clock).save_hours_policy(
        replace(default_policy(), closures=())),
}


def snapshot(desk: Desk) -> tuple:
    """Everything the functions above could change, as a supervisor reads it."""
    return (Topics(desk.store, SUPERVISOR, ANY_TIME).rows(),
            Users(desk.store, desk.sam, desk.clock).accounts(),
            len(AuditTrail(desk.store, desk.sam, desk.clock).events(audit.AuditQuery())),
            Calls(desk.store, desk.sam, desk.clock).get(desk.amy_today),
            Settings(desk.store, desk.sam, desk.clock).hours_policy())


@pytest.mark.parametrize("name", list(SUPERVISOR_ONLY))
def test_a_worker_is_refused_what_only_a_supervisor_may_do(desk, name):
    before = snapshot(desk)
    with pytest.raises(PermissionDenied, match=r"^only a supervisor can .+; Amy Adviser is a "
                                               r"worker$"):
        SUPERVISOR_ONLY[name](desk, desk.amy)
    assert snapshot(desk) == before


@pytest.mark.parametrize("name", list(SUPERVISOR_ONLY))
def test_a_supervisor_may_do_it(desk, name):
    SUPERVISOR_ONLY[name](desk, desk.sam)


def test_a_worker_ticks_off_only_their_own_follow_ups(desk):
    with pytest.raises(PermissionDenied, match="Amy Adviser can only tick off their own"):
        Review(desk.store, desk.amy, desk.clock).complete_follow_up(desk.bob_today)
    assert [f.call_id for f in Review(desk.store, desk.bob, desk.clock).follow_ups()] == \
        [desk.bob_today]
    # their own, even on a call too old for them to open
    Review(desk.store, desk.amy, desk.clock).complete_follow_up(desk.amy_old)
    assert Review(desk.store, desk.amy, desk.clock).follow_ups() == []
    # a supervisor ticks off anyone's
    Review(desk.store, desk.sam, desk.clock).complete_follow_up(desk.bob_today)
    assert Review(desk.store, desk.sam, desk.clock).follow_ups() == []


# --- edits are audited by field name, never by value -------------------------------------------

@pytest.mark.parametrize("editor", ["amy", "sam"])
def test_an_edit_is_audited_by_field_names_never_values(desk, editor):
    actor = getattr(desk, editor)
    old_name, old_notes = "Margaret Oldname", "Worried about the SGO allowance"
    new_name, new_notes = "Margaret Newname", "Granddaughter starts school in Leeds"
    call_id = Calls(desk.store, desk.amy, desk.clock).log(
        a_call(uk(MONDAY, 10, 0), consent_to_store_details=True,
               caller_name=old_name, notes=old_notes))
    details = Calls(desk.store, actor, desk.clock).get(call_id).details
    changed = Calls(desk.store, actor, desk.clock).update(
        call_id, replace(details, caller_name=new_name, notes=new_notes))
    assert changed == ["caller_name", "notes"]

    events = AuditTrail(desk.store, desk.sam, desk.clock).events(
        audit.AuditQuery(action="call-edited"))
    assert len(events) == 1
    event = events[0]
    assert (event.actor, event.actor_id, event.subject) == (actor.name, actor.id,
                                                            f"call {call_id}")
    assert json.loads(event.detail) == {"fields": ["caller_name", "notes"]}
    assert audit.describe(event) == "changed caller name and notes"
    recorded = " ".join(str(value) for value in vars(event).values())
    for text in (old_name, old_notes, new_name, new_notes, "Oldname", "Newname", "Leeds",
                 "allowance"):
        assert text not in recorded


def test_an_edit_that_changes_nothing_leaves_no_event(desk):
    details = Calls(desk.store, desk.amy, desk.clock).get(desk.amy_today).details
    assert Calls(desk.store, desk.amy, desk.clock).update(desk.amy_today, details) == []
    assert AuditTrail(desk.store, desk.sam, desk.clock).events(
        audit.AuditQuery(action="call-edited")) == []
