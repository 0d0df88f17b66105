"""The role rules (PRODUCT §8) at the core, with no GUI: what a worker may and may not do.

Workers log calls and open and edit their own calls of the last seven days; supervisors see and
edit everything and alone report, review, change the topics, the users and the settings, and
read the audit trail. The clock reads Monday 23 November 2026, 10:15 UK time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import pytest

from advice_desk import settings
from advice_desk.calls import review
from advice_desk.calls import topics as taxonomy
from advice_desk.calls.record import CallQuery
from advice_desk.calls.service import get_call, list_calls, log_call, log_non_data_call, update_call
from advice_desk.clock import UK, FixedClock
from advice_desk.people import accounts, audit
from advice_desk.people.permissions import Actor, PermissionDenied, Role
from advice_desk.reference.hours import default_policy
from advice_desk.reports import compute as report
from advice_desk.store.engine import Store
from tests.factories import a_call, sam_amy_and_bob, uk
from tests.support import PASSWORD

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
        return {c.id for c in list_calls(self.store, actor, query or CallQuery(), self.clock)}


@pytest.fixture
def desk(store, clock) -> Desk:
    sam, amy, bob = sam_amy_and_bob(store, clock)
    return Desk(
        store, clock, sam, amy, bob,
        amy_today=log_call(store, a_call(uk(MONDAY, 9, 40)), amy.id, clock),
        amy_six_days=log_call(store, a_call(uk(date(2026, 11, 16), 10, 30)), amy.id, clock),
        amy_old=log_call(store, a_call(uk(date(2026, 11, 15), 16, 0),
                                       follow_up_on=date(2026, 11, 20)), amy.id, clock),
        amy_silent=log_non_data_call(store, "silent", amy.id, clock,
                                     started_at=uk(MONDAY, 9, 35)),
        bob_today=log_call(store, a_call(uk(MONDAY, 9, 50), follow_up_on=MONDAY),
                           bob.id, clock),
    )


# --- a worker and their own calls ------------------------------------------------------------

def test_a_worker_logs_opens_and_edits_their_own_calls_of_the_last_7_days(desk):
    new = log_call(desk.store, a_call(uk(MONDAY, 10, 5)), desk.amy.id, desk.clock)
    for call_id in (new, desk.amy_today, desk.amy_six_days):
        stored = get_call(desk.store, desk.amy, call_id, desk.clock)
        assert stored.worker_id == desk.amy.id
        edited = replace(stored.details, topics=("legal.sgo",), notes="Explained the SGO.")
        assert update_call(desk.store, desk.amy, call_id, edited, desk.clock) == \
            ["topics", "notes"]
        assert get_call(desk.store, desk.amy, call_id, desk.clock).details == edited


def test_a_worker_cannot_open_or_edit_another_workers_call(desk):
    with pytest.raises(PermissionDenied, match=OWN_CALLS_ONLY):
        get_call(desk.store, desk.amy, desk.bob_today, desk.clock)
    before = get_call(desk.store, desk.sam, desk.bob_today, desk.clock).details
    with pytest.raises(PermissionDenied, match=OWN_CALLS_ONLY):
        update_call(desk.store, desk.amy, desk.bob_today, replace(before, notes="Mine now."),
                    desk.clock)
    assert get_call(desk.store, desk.sam, desk.bob_today, desk.clock).details == before
    with pytest.raises(PermissionDenied, match="Bob Adviser can only open their own calls"):
        get_call(desk.store, desk.bob, desk.amy_today, desk.clock)


def test_a_worker_cannot_open_or_edit_their_own_call_older_than_7_days(desk):
    with pytest.raises(PermissionDenied, match=OWN_CALLS_ONLY):
        get_call(desk.store, desk.amy, desk.amy_old, desk.clock)
    before = get_call(desk.store, desk.sam, desk.amy_old, desk.clock).details
    with pytest.raises(PermissionDenied, match=OWN_CALLS_ONLY):
        update_call(desk.store, desk.amy, desk.amy_old, replace(before, notes="Late note."),
                    desk.clock)
    assert get_call(desk.store, desk.sam, desk.amy_old, desk.clock).details == before


def test_a_call_leaves_the_workers_reach_7_days_after_it_started(desk):
    call_id = log_call(desk.store, a_call(uk(MONDAY, 10, 10)), desk.amy.id, desk.clock)
    desk.clock.set(uk(MONDAY + timedelta(days=7), 10, 9))
    assert get_call(desk.store, desk.amy, call_id, desk.clock).id == call_id
    assert call_id in desk.calls_for(desk.amy)
    desk.clock.set(uk(MONDAY + timedelta(days=7), 10, 11))
    with pytest.raises(PermissionDenied, match=OWN_CALLS_ONLY):
        get_call(desk.store, desk.amy, call_id, desk.clock)
    assert call_id not in desk.calls_for(desk.amy)


@pytest.mark.parametrize("query", [
    CallQuery(),
    CallQuery(worker_id=2),  # bob's id below; checked in the test
    CallQuery(date_from=date(2020, 1, 1)),
    CallQuery(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30)),
    CallQuery(started_after=datetime(2000, 1, 1, tzinfo=UK)),
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
        details = get_call(desk.store, desk.sam, call_id, desk.clock).details
        assert update_call(desk.store, desk.sam, call_id,
                           replace(details, notes="Checked by Sam."), desk.clock) == ["notes"]
        assert get_call(desk.store, desk.sam, call_id, desk.clock).details.notes == \
            "Checked by Sam."


# --- what only a supervisor may do -------------------------------------------------------------

SUPERVISOR_ONLY: dict[str, Callable[[Desk, Actor], object]] = {
    "report.compute_report": lambda d, a: report.compute_report(d.store, a, MONDAY, MONDAY),
    "review.review_call": lambda d, a: review.review_call(d.store, a, d.amy_today, "Fine.",
                                                          d.clock),
    "taxonomy.add_topic": lambda d, a: taxonomy.add_topic(d.store, a, "Grants", "financial",
                                                          d.clock),
    "taxonomy.rename_topic": lambda d, a: taxonomy.rename_topic(d.store, a, "financial",
                                                                "Money", d.clock),
    "taxonomy.move_topic": lambda d, a: taxonomy.move_topic(d.store, a, "legal", -1, d.clock),
    "taxonomy.set_retired": lambda d, a: taxonomy.set_retired(d.store, a, "practical", True,
                                                              d.clock),
    "accounts.add_user": lambda d, a: accounts.add_user(d.store, a, "eve", "Eve Evil",
                                                        Role.SUPERVISOR, PASSWORD, d.clock),
    "accounts.set_active": lambda d, a: accounts.set_active(d.store, a, d.bob.id, False,
                                                            d.clock),
    "accounts.reset_password": lambda d, a: accounts.reset_password(d.store, a, d.sam.id,
                                                                    "a new password", d.clock),
    "accounts.list_accounts": lambda d, a: accounts.list_accounts(d.store, a),
    "audit.list_events": lambda d, a: audit.list_events(d.store, a, audit.AuditQuery()),
    "settings.save_hours_policy": lambda d, a: settings.save_hours_policy(
        store=d.store, actor=a, policy=replace(default_policy(), closures=()), clock=d.clock),
}


def snapshot(desk: Desk) -> tuple:
    """Everything the functions above could change, as a supervisor reads it."""
    return (taxonomy.list_topics(desk.store), accounts.list_accounts(desk.store, desk.sam),
            len(audit.list_events(desk.store, desk.sam, audit.AuditQuery())),
            get_call(desk.store, desk.sam, desk.amy_today, desk.clock),
            settings.hours_policy(desk.store))


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
        review.complete_follow_up(desk.store, desk.amy, desk.bob_today, desk.clock)
    assert [f.call_id for f in review.follow_ups(desk.store, desk.bob, desk.clock)] == \
        [desk.bob_today]
    # their own, even on a call too old for them to open
    review.complete_follow_up(desk.store, desk.amy, desk.amy_old, desk.clock)
    assert review.follow_ups(desk.store, desk.amy, desk.clock) == []
    # a supervisor ticks off anyone's
    review.complete_follow_up(desk.store, desk.sam, desk.bob_today, desk.clock)
    assert review.follow_ups(desk.store, desk.sam, desk.clock) == []


# --- edits are audited by field name, never by value -------------------------------------------

@pytest.mark.parametrize("editor", ["amy", "sam"])
def test_an_edit_is_audited_by_field_names_never_values(desk, editor):
    actor = getattr(desk, editor)
    old_name, old_notes = "Margaret Oldname", "Worried about the SGO allowance"
    new_name, new_notes = "Margaret Newname", "Granddaughter starts school in Leeds"
    call_id = log_call(desk.store, a_call(uk(MONDAY, 10, 0), consent_to_store_details=True,
                                          caller_name=old_name, notes=old_notes),
                       desk.amy.id, desk.clock)
    details = get_call(desk.store, actor, call_id, desk.clock).details
    changed = update_call(desk.store, actor, call_id,
                          replace(details, caller_name=new_name, notes=new_notes), desk.clock)
    assert changed == ["caller_name", "notes"]

    events = audit.list_events(desk.store, desk.sam, audit.AuditQuery(action="call-edited"))
    assert len(events) == 1
    event = events[0]
    assert (event.actor, event.actor_id, event.subject) == (actor.name, actor.id,
                                                            f"call {call_id}")
    assert json.loads(event.detail) == {"fields": ["caller_name", "notes"]}
    assert audit.describe(event) == "fields: caller_name, notes"
    recorded = " ".join(str(value) for value in vars(event).values())
    for text in (old_name, old_notes, new_name, new_notes, "Oldname", "Newname", "Leeds",
                 "allowance"):
        assert text not in recorded


def test_an_edit_that_changes_nothing_leaves_no_event(desk):
    details = get_call(desk.store, desk.amy, desk.amy_today, desk.clock).details
    assert update_call(desk.store, desk.amy, desk.amy_today, details, desk.clock) == []
    assert audit.list_events(desk.store, desk.sam, audit.AuditQuery(action="call-edited")) == []
