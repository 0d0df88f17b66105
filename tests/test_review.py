"""Supervisor review and follow-ups, on a real store."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from advice_desk.calls.history import CallQuery
from advice_desk.calls.record import CallDetails
from advice_desk.calls.review import Due, Review
from advice_desk.calls.service import Calls
from advice_desk.people.permissions import PermissionDenied
from advice_desk.validation import ValidationError
from tests.factories import a_call, a_worker, uk
from tests.support import ANY_TIME, SUPERVISOR


def a_cao_question(**changes: object) -> CallDetails:
    """An aunt or uncle with a child arrangements order, this morning (the clock reads 10:15)."""
    return a_call(uk(2026, 11, 23, 9, 40), 540, caller_type="aunt-uncle", arrangement="cao",
                  topics=("legal.cao",), outcomes=("information",), **changes)


def a_follow_up_call(due: date) -> CallDetails:
    """The same call, to be rung back on ``due``."""
    return a_cao_question(follow_up_on=due, follow_up_note="Ring back with the solicitor list")


def events(store, action: str) -> list[tuple]:
    with store.engine.connect() as connection:
        return connection.execute(sa.text(
            "select actor, subject, detail from audit_event where action = :a"), {"a": action}
        ).all()


def test_a_supervisor_reviews_a_call_and_it_leaves_the_unreviewed_list(store, clock, sam, amy):
    call_id = Calls(store, amy, clock).log(a_cao_question(safeguarding=True))
    unreviewed = CallQuery(unreviewed_only=True)
    assert [c.id for c in Calls(store, SUPERVISOR, ANY_TIME).list(unreviewed)] == [call_id]
    safeguarding = CallQuery(safeguarding_only=True)
    assert [c.id for c in Calls(store, SUPERVISOR, ANY_TIME).list(safeguarding)] == [call_id]

    Review(store, sam, clock).call(call_id, "  Good signposting.  ")

    stored = Calls(store, SUPERVISOR, ANY_TIME).get(call_id)
    assert stored.reviewed_at == clock.now()
    assert stored.review_note == "Good signposting."
    assert Calls(store, SUPERVISOR, ANY_TIME).list(unreviewed) == []
    assert events(store, "call-reviewed") == [("Sam Supervisor", f"call {call_id}",
                                               '{"with note": true}')]


def test_a_worker_cannot_review(store, clock, amy):
    call_id = Calls(store, amy, clock).log(a_cao_question())
    with pytest.raises(PermissionDenied, match="only a supervisor can review calls"):
        Review(store, amy, clock).call(call_id, "")


def test_non_data_calls_are_not_for_review(store, clock, sam, amy):
    silent = Calls(store, amy, clock).log_non_data("silent")
    assert Calls(store, SUPERVISOR, ANY_TIME).list(CallQuery(unreviewed_only=True)) == []
    with pytest.raises(ValidationError, match="no call"):
        Review(store, sam, clock).call(silent, "")


def test_follow_ups_are_sorted_into_overdue_today_and_upcoming(store, clock, sam, amy):
    today = date(2026, 11, 23)
    overdue = Calls(store, amy, clock).log(a_follow_up_call(today - timedelta(days=2)))
    due_today = Calls(store, amy, clock).log(a_follow_up_call(today))
    upcoming = Calls(store, amy, clock).log(a_follow_up_call(today + timedelta(days=3)))
    Calls(store, amy, clock).log(a_follow_up_call(today + timedelta(days=30)))  # too far ahead
    listed = Review(store, amy, clock).follow_ups()
    assert [(f.call_id, f.due) for f in listed] == [
        (overdue, Due.OVERDUE), (due_today, Due.TODAY), (upcoming, Due.UPCOMING)]
    assert listed[0].note == "Ring back with the solicitor list"
    assert listed[0].primary_topic == "legal.cao"

    Review(store, amy, clock).complete_follow_up(overdue)
    assert [f.call_id for f in Review(store, sam, clock).follow_ups()] == [due_today, upcoming]
    assert events(store, "follow-up-done") == [("Amy Adviser", f"call {overdue}", None)]


def test_workers_see_and_tick_only_their_own_follow_ups(store, clock, sam, amy):
    bob = a_worker(store, clock, sam, "bob")
    amys = Calls(store, amy, clock).log(a_follow_up_call(date(2026, 11, 24)))
    assert Review(store, bob, clock).follow_ups() == []
    with pytest.raises(PermissionDenied, match="their own follow-ups"):
        Review(store, bob, clock).complete_follow_up(amys)
    assert [f.call_id for f in Review(store, sam, clock).follow_ups()] == [amys]
