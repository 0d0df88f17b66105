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

import sqlalchemy as sa
from sqlmodel import col

from advice_desk.clock import uk_today
from advice_desk.figures import rollup
from advice_desk.people import audit
from advice_desk.people.manager import Manager
from advice_desk.people.permissions import Action, PermissionDenied, require
from advice_desk.store.models import Call, CallTopic, User
from advice_desk.store.versions import require_version, touch
from advice_desk.validation import FieldError, ValidationError

UPCOMING_DAYS = 14
MAX_REVIEW_NOTE = 2_000


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


def _due(due_on: date, today: date) -> Due:
    if due_on < today:
        return Due.OVERDUE
    return Due.TODAY if due_on == today else Due.UPCOMING


class Review(Manager):
    """A supervisor's review of calls, and the follow-ups the actor may see and tick off."""

    def call(self, call_id: int, note: str, version: int | None = None) -> None:
        """Mark a call with content reviewed, with an optional note; with ``version``, refused
        (:class:`CallChanged`) when the call changed since it was read at that version."""
        actor, clock = self.actor, self.clock
        require(actor, Action.REVIEW)
        note = note.strip()
        if len(note) > MAX_REVIEW_NOTE:
            raise ValidationError([FieldError("review_note",
                                              f"is longer than {MAX_REVIEW_NOTE} characters")])
        with self.store.write() as session:
            call = session.get(Call, call_id)
            if call is None or call.kind != "data":
                raise ValidationError([FieldError("id",
                                                  f"there is no call {call_id} to review")])
            require_version(session, call, version)
            if call.reviewed_at is None and call.withdrawn_at is None:
                rollup.reviewed(session.connection(), call.local_date)
            call.reviewed_by_id = actor.id
            call.reviewed_at = clock.now()
            touch(call, actor.id, call.reviewed_at)
            call.review_note = note or None
            audit.record(session, clock, actor, "call-reviewed", f"call {call_id}",
                         {"with note": bool(note)})

    def follow_ups(self) -> list[FollowUp]:
        """Open follow-ups due up to two weeks ahead, the most urgent first."""
        today = uk_today(self.clock)
        statement = (
            sa.select(col(Call.id), col(Call.follow_up_on), col(Call.follow_up_note),
                   col(User.display_name), col(Call.caller_type), col(CallTopic.topic_code))
            .join(User, col(User.id) == col(Call.worker_id))
            .outerjoin(CallTopic, (col(CallTopic.call_id) == col(Call.id))
                       & col(CallTopic.is_primary).is_(True))
            .where(col(Call.follow_up_on).is_not(None), col(Call.follow_up_done_at).is_(None),
                   col(Call.follow_up_on) <= today + timedelta(days=UPCOMING_DAYS))
            .order_by(col(Call.follow_up_on), col(Call.id)))
        if not self.actor.is_supervisor:
            statement = statement.where(col(Call.worker_id) == self.actor.id)
        with self.store.read() as session:
            rows = session.connection().execute(statement).all()
        follow_ups = []
        for call_id, due_on, note, worker, caller, topic in rows:
            assert call_id is not None and due_on is not None  # the query asks for both
            follow_ups.append(FollowUp(call_id, due_on, _due(due_on, today), note, worker,
                                       caller, topic))
        return follow_ups

    def complete_follow_up(self, call_id: int) -> None:
        """Tick off a follow-up: the actor's own, or anyone's for a supervisor."""
        actor, clock = self.actor, self.clock
        with self.store.write() as session:
            call = session.get(Call, call_id)
            if call is None or call.follow_up_on is None:
                raise ValidationError([FieldError("id", f"call {call_id} has no follow-up")])
            if not actor.is_supervisor and call.worker_id != actor.id:
                raise PermissionDenied(f"{actor.name} can only tick off their own follow-ups")
            if call.follow_up_done_at is None:
                rollup.follow_up_done(session.connection(), call.follow_up_on)
            call.follow_up_done_at = clock.now()
            touch(call, actor.id, call.follow_up_done_at)
            audit.record(session, clock, actor, "follow-up-done", f"call {call_id}")
