"""Logging, editing and listing calls in the store.

The GUI (through :class:`Calls`) and the import (through
:func:`~advice_desk.calls.call_rows.log_calls`) both go through the rules of
:mod:`advice_desk.calls.record`, so a call in the store always has valid codes, at least one
topic with exactly one primary, at least one outcome, and no personal details unless the caller
agreed.
"""

from __future__ import annotations

import builtins
from dataclasses import fields, replace
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from advice_desk.calls import search
from advice_desk.calls.call_rows import (
    active_topics,
    checked_details,
    count_in_figures,
    details_of,
    facts_of,
    fill_call,
    insert_call,
    outcome_rows,
    stored_facts,
    write_codes,
)
from advice_desk.calls.drafts import end_draft
from advice_desk.calls.history import CallQuery, CallSummary
from advice_desk.calls.history_sql import (
    SORTABLE,
    history_conditions,
    joined,
    unfiltered,
    unique_outcomes,
    walks,
)
from advice_desk.calls.record import CallDetails, StoredCall
from advice_desk.clock import Clock, uk_day_and_minute
from advice_desk.people import audit
from advice_desk.people.manager import Manager
from advice_desk.people.permissions import WORKER_WINDOW, Actor, require_call
from advice_desk.reference import lists as reference
from advice_desk.settings import hours_policy_in
from advice_desk.store.models import Call, CallOutcome, CallTopic, User
from advice_desk.store.versions import require_version, touch
from advice_desk.validation import FieldError, ValidationError


def _stored_with_key(session: Session, worker_id: int, key: str | None) -> int | None:
    """The id of the worker's call saved from the form with this key, if there is one."""
    if key is None:
        return None
    return session.exec(select(Call.id).where(col(Call.idempotency_key) == key,
                                              col(Call.worker_id) == worker_id)).first()


def _comparable(details: CallDetails, name: str) -> object:
    """A field's value as the store keeps it: only the first (primary) topic has a place;
    the other topics, the outcomes and the referral targets are sets."""
    value = getattr(details, name)
    if name == "topics":
        return (value[:1], sorted(value[1:]))
    if name in ("outcomes", "referred_to"):
        return sorted(value)
    return value


def _require_non_data_kind(kind: str) -> None:
    if kind not in {k.code for k in reference.helpline().non_data_kinds}:
        raise ValidationError([FieldError("kind", f"unknown non-data call {kind!r}")])


def _call_for(session: Session, actor: Actor, call_id: int, clock: Clock) -> Call:
    """The call, if it exists and the actor may open it."""
    call = session.get(Call, call_id)
    if call is None:
        raise ValidationError([FieldError("id", f"there is no call {call_id}")])
    require_call(actor, call.worker_id, call.started_at, clock.now())
    return call


# --- the signed-in person's calls -----------------------------------------------------------

class Calls(Manager):
    """Logging, editing, opening and listing calls, as the actor may."""

    def log(self, details: CallDetails, key: str | None = None, drafted: bool = False) -> int:
        """Save a new call with content, the actor's; returns its id. Raises
        :class:`ValidationError`.

        ``key`` is the idempotency key of the form the call was typed in: when a call with it is
        already stored (a retry, a recovered draft saved again, a second copy of the app), that
        call's id comes back and nothing is added. With ``drafted`` the actor's draft of this
        call is deleted in the same transaction, so a saved call never comes back as a draft.
        """
        worker_id = self._worker_id()
        try:
            with self.store.write() as session:
                call_id = _stored_with_key(session, worker_id, key)
                if call_id is None:
                    call_id = insert_call(session, details, worker_id, self.clock,
                                          active_topics(session), hours_policy_in(session), key)
                if drafted:
                    end_draft(session, worker_id, key)
                return call_id
        except sa.exc.IntegrityError:
            # Another writer stored this key between the look-up and the insert (the unique
            # index caught it): that call is this one.
            with self.store.write() as session:
                call_id = _stored_with_key(session, worker_id, key)
                if call_id is None:
                    raise
                if drafted:
                    end_draft(session, worker_id, key)
                return call_id

    def log_non_data(self, kind: str, started_at: datetime | None = None,
                     key: str | None = None) -> int:
        """Save a call with no content (silent, hang-up, ...) in one step; returns its id.
        A ``key`` already stored returns that call, as for :meth:`log`."""
        _require_non_data_kind(kind)
        now = self.clock.now()
        started_at = started_at or now
        worker_id = self._worker_id()
        with self.store.write() as session:
            stored = _stored_with_key(session, worker_id, key)
            if stored is not None:
                return stored
            local_date, local_minute = uk_day_and_minute(started_at)
            call = Call(kind=kind, started_at=started_at, worker_id=worker_id,
                        local_date=local_date, local_minute=local_minute,
                        in_hours=hours_policy_in(session).is_open(started_at),
                        created_at=now, updated_at=now, idempotency_key=key)
            session.add(call)
            session.flush()
            assert call.id is not None
            count_in_figures(session, None, facts_of(call))
            return call.id

    def correct(self, call_id: int, kind: str | None, version: int | None = None) -> None:
        """Correct a non-data call logged by mistake: change it to another non-data ``kind``,
        or (``kind`` None) withdraw it. A withdrawn call is kept, marked with who withdrew it
        and when, and left out of every figure. Audited; workers may correct their own calls
        of the last seven days, supervisors any. Raises :class:`ValidationError` for a call
        with content (edit it instead), one already withdrawn, or an unknown kind, and
        :class:`CallChanged` when ``version`` is given and the call has changed since."""
        if kind is not None:
            _require_non_data_kind(kind)
        clock = self.clock
        with self.store.write() as session:
            call = _call_for(session, self.actor, call_id, clock)
            require_version(session, call, version)
            if call.kind == "data":
                raise ValidationError([FieldError(
                    "kind", f"call {call_id} has content: edit it instead")])
            if call.withdrawn_at is not None:
                raise ValidationError([FieldError(
                    "kind", f"call {call_id} was withdrawn already")])
            if kind == call.kind:
                return
            now = clock.now()
            touch(call, self.actor.id, now)
            before = facts_of(call)
            was = call.kind
            if kind is None:
                call.withdrawn_at, call.withdrawn_by_id = now, self.actor.id
            else:
                call.kind = kind
            count_in_figures(session, before, facts_of(call))
            # The call's row is written (its version bumped) once, before the audit's flush.
            if kind is None:
                audit.record(session, clock, self.actor, "call-withdrawn", f"call {call_id}",
                             {"kind": was})
            else:
                audit.record(session, clock, self.actor, "call-corrected", f"call {call_id}",
                             {"from": was, "to": kind})

    def update(self, call_id: int, details: CallDetails, key: str | None = None,
               drafted: bool = False, version: int | None = None) -> builtins.list[str]:
        """Replace what is recorded about a call; returns the names of the fields that changed.

        Topics retired since the call was logged may stay on it, and so may a retired (split)
        authority code; they cannot be newly added.
        The audit trail records which fields changed, never their values. With ``drafted``
        the actor's draft of the form with ``key`` is deleted in the same transaction.
        ``version`` is the call's version when the form opened it (:meth:`get`): a call
        changed since then (by another seat) is refused with :class:`CallChanged`, naming who
        changed it and when, and nothing is saved.
        """
        clock = self.clock
        with self.store.write() as session:
            call = _call_for(session, self.actor, call_id, clock)
            require_version(session, call, version)
            if call.withdrawn_at is not None:  # it would come back into the figures
                raise ValidationError([FieldError(
                    "kind", f"call {call_id} was withdrawn: it cannot be edited")])
            before = details_of(session, call)
            details = checked_details(details, active_topics(session) | set(before.topics),
                                      clock, before.local_authority)
            changed = [f.name for f in fields(CallDetails)
                       if _comparable(before, f.name) != _comparable(details, f.name)]
            if drafted:
                end_draft(session, self._worker_id(), key)
            if not changed:
                return []
            counted = stored_facts(session, call)
            fill_call(call, details, hours_policy_in(session))
            call.kind = "data"
            touch(call, self.actor.id, clock.now())
            session.exec(delete(CallTopic).where(col(CallTopic.call_id) == call_id))
            session.exec(delete(CallOutcome).where(col(CallOutcome.call_id) == call_id))
            write_codes(session, call_id, details)
            count_in_figures(session, counted,
                             facts_of(call, details.topics, outcome_rows(details)))
            audit.record(session, clock, self.actor, "call-edited", f"call {call_id}",
                         {"fields": changed})
            return changed

    def get(self, call_id: int) -> StoredCall:
        with self.store.read() as session:
            call = _call_for(session, self.actor, call_id, self.clock)
            assert call.id is not None
            return StoredCall(id=call.id, kind=call.kind, worker_id=call.worker_id,
                              in_hours=call.in_hours, details=details_of(session, call),
                              reviewed_at=call.reviewed_at, review_note=call.review_note,
                              withdrawn_at=call.withdrawn_at, version=call.version)

    def _visible(self, query: CallQuery) -> CallQuery:
        """The query as the actor may ask it: a worker sees only their own calls of the last
        seven days, whatever the query asks (a search included)."""
        if self.actor.is_supervisor:
            return query
        return replace(query, worker_id=self.actor.id,
                       started_after=self.clock.now() - WORKER_WINDOW)

    def list(self, query: CallQuery, offset: int = 0, limit: int = 200
             ) -> builtins.list[CallSummary]:
        """One page of the call history, filtered and sorted by the database.

        The page's ids are found first and only their rows are then built (worker, topic,
        outcomes), so a search with many matches never builds a row for each of them."""
        query = self._visible(query)
        if query.sort not in SORTABLE:
            raise ValueError(f"cannot sort by {query.sort!r}")
        key = SORTABLE[query.sort]
        direction = sa.desc if query.descending else sa.asc
        order = (direction(key), direction(col(Call.id)))
        outcomes = (sa.select(sa.func.aggregate_strings(col(CallOutcome.outcome), ","))
                    .where(col(CallOutcome.call_id) == col(Call.id)).scalar_subquery())
        with self.store.read() as session:
            connection = session.connection()
            page = (joined(sa.select(col(Call.id)), query.sort)
                    .where(*self._conditions(connection, query, offset + limit
                                             if query.sort == "started_at" else None))
                    .order_by(*order).offset(offset).limit(limit))
            statement = (joined(sa.select(
                col(Call.id), col(Call.started_at), col(Call.kind), col(User.display_name),
                col(Call.caller_type), col(CallTopic.topic_code), outcomes,
                col(Call.duration_s), col(Call.safeguarding), col(Call.follow_up_on),
                col(Call.reviewed_at), col(Call.withdrawn_at)))
                .where(col(Call.id).in_(page)).order_by(*order))
            rows = connection.execute(statement).all()
        return [CallSummary(id=r[0], started_at=r[1], kind=r[2], worker=r[3], caller_type=r[4],
                            primary_topic=r[5], outcomes=unique_outcomes(r[6]), duration_s=r[7],
                            safeguarding=r[8], follow_up_on=r[9], reviewed=r[10] is not None,
                            withdrawn=r[11] is not None)
                for r in rows]

    def count(self, query: CallQuery) -> int:
        """How many calls :meth:`list` would give for ``query``, every page together."""
        query = self._visible(query)
        with self.store.read() as session:
            connection = session.connection()
            matches = search.index_matches(connection, query.text)
            if matches is not None and unfiltered(replace(query, text="")):
                return matches  # the search alone: the index counts it
            conditions = history_conditions(query, connection.dialect.name,
                                            walks(connection, matches, None))
            statement = sa.select(sa.func.count()).select_from(Call).where(*conditions)
            return int(connection.execute(statement).scalar_one())

    def _conditions(self, connection: sa.Connection, query: CallQuery, rows_wanted: int | None
                    ) -> builtins.list[sa.ColumnElement[bool]]:
        """The query's conditions, the search planned for ``rows_wanted`` rows in the order of
        the start (None: every row read, see :func:`search.walk_the_calls`)."""
        matches = search.index_matches(connection, query.text)
        return history_conditions(query, connection.dialect.name,
                                  walks(connection, matches, rows_wanted))

    def _worker_id(self) -> int:
        assert self.actor.id is not None, "calls are logged by a signed-in worker"
        return self.actor.id
