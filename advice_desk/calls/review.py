"""The supervisor's review of calls, and the follow-ups workers promised callers.

Supervisors mark calls reviewed with a note (audited). Follow-ups are listed as overdue, due
today or upcoming; a worker sees and ticks off the follow-ups of their own calls, whatever the
call's age (the promise outlives the seven days they can open the call itself), a supervisor
sees everyone's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlmodel import col, select

from advice_desk.clock import Clock, uk_today
from advice_desk.people import audit
from advice_desk.people.permissions import Action, Actor, PermissionDenied, require
from advice_desk.store.engine import Store
from advice_desk.store.models import Call, CallTopic, User
from advice_desk.validation import FieldError, ValidationError

UPCOMING_DAYS = 14
MAX_REVIEW_NOTE = 2_000


def review_call(store: Store, actor: Actor, call_id: int, note: str, clock: Clock) -> None:
    require(actor, Action.REVIEW)
    note = note.strip()
    if len(note) > MAX_REVIEW_NOTE:
        raise ValidationError([FieldError("review_note",
                                          f"is longer than {MAX_REVIEW_NOTE} characters")])
    with store.write() as session:
        call = session.get(Call, call_id)
        if call is None or call.kind != "data":
            raise ValidationError([FieldError("id", f"there is no call {call_id} to review")])
        call.reviewed_by_id = actor.id
        call.reviewed_at = clock.now()
        call.review_note = note or None
        audit.record(session, clock, actor, "call-reviewed", f"call {call_id}",
                     {"with note": bool(note)})


class Due(StrEnum):
    OVERDUE = "overdue"
    TODAY = "today"
    UPCOMING = "upcoming"


@dataclass(frozen=True)
class FollowUp:
    call_id: int
    due_on: date
    due: Due
    note: str | None
    worker: str
    caller_type: str | None
    primary_topic: str | None


def follow_ups(store: Store, actor: Actor, clock: Clock) -> list[FollowUp]:
    """Open follow-ups due up to two weeks ahead, the most urgent first."""
    today = uk_today(clock)
    statement = (
        select(Call.id, Call.follow_up_on, Call.follow_up_note, User.display_name,
               Call.caller_type, CallTopic.topic_code)
        .join(User, col(User.id) == Call.worker_id)
        .outerjoin(CallTopic, (col(CallTopic.call_id) == Call.id)
                   & col(CallTopic.is_primary).is_(True))
        .where(col(Call.follow_up_on).is_not(None), col(Call.follow_up_done_at).is_(None),
               col(Call.follow_up_on) <= today + timedelta(days=UPCOMING_DAYS))
        .order_by(Call.follow_up_on, Call.id))
    if not actor.is_supervisor:
        statement = statement.where(Call.worker_id == actor.id)
    with store.read() as session:
        rows = session.exec(statement).all()
    return [FollowUp(call_id, due_on, _due(due_on, today), note, worker, caller, topic)
            for call_id, due_on, note, worker, caller, topic in rows]


def _due(due_on: date, today: date) -> Due:
    if due_on < today:
        return Due.OVERDUE
    return Due.TODAY if due_on == today else Due.UPCOMING


def complete_follow_up(store: Store, actor: Actor, call_id: int, clock: Clock) -> None:
    with store.write() as session:
        call = session.get(Call, call_id)
        if call is None or call.follow_up_on is None:
            raise ValidationError([FieldError("id", f"call {call_id} has no follow-up")])
        if not actor.is_supervisor and call.worker_id != actor.id:
            raise PermissionDenied(f"{actor.name} can only tick off their own follow-ups")
        call.follow_up_done_at = clock.now()
        audit.record(session, clock, actor, "follow-up-done", f"call {call_id}")
