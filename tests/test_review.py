"""Supervisor review and follow-ups, on a real store."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from advice_desk.calls.record import CallDetails, CallQuery
from advice_desk.calls.review import Due, complete_follow_up, follow_ups, review_call
from advice_desk.calls.service import get_call, list_calls, log_call, log_non_data_call
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
    call_id = log_call(store, a_cao_question(safeguarding=True), amy.id, clock)
    unreviewed = CallQuery(unreviewed_only=True)
    assert [c.id for c in list_calls(store, SUPERVISOR, unreviewed, ANY_TIME)] == [call_id]
    safeguarding = CallQuery(safeguarding_only=True)
    assert [c.id for c in list_calls(store, SUPERVISOR, safeguarding, ANY_TIME)] == [call_id]

    review_call(store, sam, call_id, "  Good signposting.  ", clock)

    stored = get_call(store, SUPERVISOR, call_id, ANY_TIME)
    assert stored.reviewed_at == clock.now()
    assert stored.review_note == "Good signposting."
    assert list_calls(store, SUPERVISOR, unreviewed, ANY_TIME) == []
    assert events(store, "call-reviewed") == [("Sam Supervisor", f"call {call_id}",
                                               '{"with note": true}')]


def test_a_worker_cannot_review(store, clock, amy):
    call_id = log_call(store, a_cao_question(), amy.id, clock)
    with pytest.raises(PermissionDenied, match="only a supervisor can review calls"):
        review_call(store, amy, call_id, "", clock)


def test_non_data_calls_are_not_for_review(store, clock, sam, amy):
    silent = log_non_data_call(store, "silent", amy.id, clock)
    assert list_calls(store, SUPERVISOR, CallQuery(unreviewed_only=True), ANY_TIME) == []
    with pytest.raises(ValidationError, match="no call"):
        review_call(store, sam, silent, "", clock)


def test_follow_ups_are_sorted_into_overdue_today_and_upcoming(store, clock, sam, amy):
    today = date(2026, 11, 23)
    overdue = log_call(store, a_follow_up_call(today - timedelta(days=2)), amy.id, clock)
    due_today = log_call(store, a_follow_up_call(today), amy.id, clock)
    upcoming = log_call(store, a_follow_up_call(today + timedelta(days=3)), amy.id, clock)
    log_call(store, a_follow_up_call(today + timedelta(days=30)), amy.id, clock)  # too far ahead
    listed = follow_ups(store, amy, clock)
    assert [(f.call_id, f.due) for f in listed] == [
        (overdue, Due.OVERDUE), (due_today, Due.TODAY), (upcoming, Due.UPCOMING)]
    assert listed[0].note == "Ring back with the solicitor list"
    assert listed[0].primary_topic == "legal.cao"

    complete_follow_up(store, amy, overdue, clock)
    assert [f.call_id for f in follow_ups(store, sam, clock)] == [due_today, upcoming]
    assert events(store, "follow-up-done") == [("Amy Adviser", f"call {overdue}", None)]


def test_workers_see_and_tick_only_their_own_follow_ups(store, clock, sam, amy):
    bob = a_worker(store, clock, sam, "bob")
    amys = log_call(store, a_follow_up_call(date(2026, 11, 24)), amy.id, clock)
    assert follow_ups(store, bob, clock) == []
    with pytest.raises(PermissionDenied, match="their own follow-ups"):
        complete_follow_up(store, bob, amys, clock)
    assert [f.call_id for f in follow_ups(store, sam, clock)] == [amys]
