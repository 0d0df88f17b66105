"""Logging, editing and listing calls in the store.

The GUI (through :class:`Calls`) and the import (through :func:`log_calls`) both go through the
rules of :mod:`advice_desk.calls.record`, so a call in the store always has valid codes, at least
one topic with exactly one primary, at least one outcome, and no personal details unless the
caller agreed.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import date, datetime
from typing import TypeVarTuple

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from advice_desk.calls import search
from advice_desk.calls.drafts import end_draft
from advice_desk.calls.history import CallQuery, CallSummary
from advice_desk.calls.record import CallDetails, StoredCall, normalise, validate
from advice_desk.clock import Clock, uk_day_and_minute, uk_day_end, uk_day_start
from advice_desk.figures import rollup
from advice_desk.figures.rollup import CallFacts, Change
from advice_desk.people import audit
from advice_desk.people.manager import Manager
from advice_desk.people.permissions import WORKER_WINDOW, Actor, require_call
from advice_desk.reference import lists as reference
from advice_desk.reference.hours import HoursPolicy
from advice_desk.settings import hours_policy_in
from advice_desk.store.engine import Store
from advice_desk.store.models import Call, CallOutcome, CallTopic, Topic, User
from advice_desk.validation import FieldError, ValidationError

Ts = TypeVarTuple("Ts")

SORTABLE = {
    "started_at": col(Call.started_at),
    "worker": col(User.display_name),
    "caller_type": col(Call.caller_type),
    "primary_topic": col(CallTopic.topic_code),
    "duration_s": col(Call.duration_s),
}


# --- writing -----------------------------------------------------------------------------

def _active_topics(session: Session) -> set[str]:
    return set(session.exec(select(Topic.code).where(col(Topic.retired).is_(False))))


def _checked(details: CallDetails, allowed_topics: set[str], clock: Clock,
             kept_authority: str | None = None) -> CallDetails:
    details = normalise(details)
    errors = validate(details, allowed_topics, clock, kept_authority)
    if errors:
        raise ValidationError(errors)
    return details


def _call_columns(details: CallDetails, policy: HoursPolicy) -> dict[str, object]:
    columns = {f.name: getattr(details, f.name) for f in fields(CallDetails)
               if f.name not in ("topics", "outcomes", "referred_to", "children_age_bands")}
    columns["in_hours"] = policy.is_open(details.started_at)
    columns["local_date"], columns["local_minute"] = uk_day_and_minute(details.started_at)
    columns["children_age_bands"] = ";".join(details.children_age_bands) or None
    columns["duration_s"] = (int((details.ended_at - details.started_at).total_seconds())
                             if details.ended_at else None)
    return columns


def _fill(call: Call, details: CallDetails, policy: HoursPolicy) -> None:
    for name, value in _call_columns(details, policy).items():
        setattr(call, name, value)


def _outcome_rows(details: CallDetails) -> list[tuple[str, str]]:
    """The (outcome, referred_to) rows stored for a call."""
    rows = [(o, "") for o in details.outcomes if o != "referred"]
    if "referred" in details.outcomes:
        rows += [("referred", r) for r in details.referred_to]
    return rows


def _write_codes(session: Session, call_id: int, details: CallDetails) -> None:
    session.add_all(CallTopic(call_id=call_id, topic_code=code, is_primary=(i == 0))
                    for i, code in enumerate(details.topics))
    session.add_all(CallOutcome(call_id=call_id, outcome=o, referred_to=r)
                    for o, r in _outcome_rows(details))


def _facts(call: Call, topics: Sequence[str] = (),
           outcomes: Sequence[tuple[str, str]] = ()) -> CallFacts:
    """What of ``call`` (as it is now, with these codes) the figures read."""
    return CallFacts(day=call.local_date, minute=call.local_minute, kind=call.kind,
                     in_hours=call.in_hours, worker_id=call.worker_id,
                     caller_type=call.caller_type, arrangement=call.arrangement,
                     local_authority=call.local_authority, safeguarding=call.safeguarding,
                     duration_s=call.duration_s, topics=tuple(topics),
                     outcomes=tuple(outcomes), withdrawn=call.withdrawn_at is not None,
                     reviewed=call.reviewed_at is not None, follow_up_on=call.follow_up_on,
                     follow_up_done=call.follow_up_done_at is not None)


def _stored_facts(session: Session, call: Call) -> CallFacts:
    """What the stored call adds to the figures, read before it changes."""
    topics = session.exec(select(CallTopic.topic_code)
                          .where(col(CallTopic.call_id) == call.id)).all()
    outcomes = session.exec(select(CallOutcome.outcome, CallOutcome.referred_to)
                            .where(col(CallOutcome.call_id) == call.id)).all()
    return _facts(call, topics, [(o, r) for o, r in outcomes])


def _count(session: Session, before: CallFacts | None, after: CallFacts | None) -> None:
    """Bring the rollup in step with a call that was ``before`` and is now ``after`` (None:
    not there), in the session's transaction."""
    connection = session.connection()
    codes = [*(before.topics if before else ()), *(after.topics if after else ())]
    tops = rollup.top_topics(connection, codes)
    change = Change()
    if after is not None:
        change.add(rollup.contributions(after, tops))
    if before is not None:
        change.add(rollup.contributions(before, tops), -1)
    rollup.apply(connection, change)


def log_calls(store: Store, calls: Sequence[CallDetails], worker_id: int, clock: Clock
              ) -> list[int]:
    """Save several calls of one worker in one transaction: all of them, or (on any error)
    none. Raises :class:`ValidationError`. The import's path; a signed-in worker logs with
    :meth:`Calls.log`."""
    with store.write() as session:
        allowed, policy = _active_topics(session), hours_policy_in(session)
        return [_insert(session, details, worker_id, clock, allowed, policy)
                for details in calls]


def _insert(session: Session, details: CallDetails, worker_id: int, clock: Clock,
            allowed: set[str], policy: HoursPolicy, key: str | None = None) -> int:
    """Add one call with content in the caller's transaction; returns its id. Raises
    :class:`ValidationError`, and IntegrityError when a call with this key is stored."""
    details = _checked(details, allowed, clock)
    now = clock.now()
    call = Call(kind="data", worker_id=worker_id, created_at=now, updated_at=now,
                idempotency_key=key)
    _fill(call, details, policy)
    session.add(call)
    session.flush()
    assert call.id is not None
    _write_codes(session, call.id, details)
    _count(session, None, _facts(call, details.topics, _outcome_rows(details)))
    return call.id


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


def recompute_in_hours(store: Store, batch: int = 20_000) -> int:
    """Set ``in_hours`` on every call from the current hours policy; returns how many changed.

    For after a policy change (a closure added for a past day, new sessions), so reports agree
    with the hours as they now stand.
    """
    changed = 0
    last_id = 0
    while True:
        with store.write() as session:
            policy = hours_policy_in(session)
            rows = session.connection().execute(
                sa.select(col(Call.id), col(Call.started_at), col(Call.in_hours),
                          col(Call.local_date), col(Call.local_minute), col(Call.withdrawn_at))
                .where(col(Call.id) > last_id).order_by(col(Call.id)).limit(batch)).all()
            if not rows:
                return changed
            flips: dict[int, bool] = {}
            change = Change()
            for call_id, started, was_in, day, minute, withdrawn in rows:
                assert call_id is not None
                last_id = call_id
                is_in = policy.is_open(started)
                if is_in != was_in:
                    flips[call_id] = is_in
                    if day is not None and withdrawn is None:
                        _count_flip(change, day, minute, was_in, is_in)
            rollup.apply(session.connection(), change)
            for value in (True, False):
                ids = [call_id for call_id, flipped in flips.items() if flipped is value]
                if ids:
                    session.exec(sa.update(Call).where(col(Call.id).in_(ids))
                                 .values(in_hours=value))
            changed += len(flips)


def _count_flip(change: Change, day: date, minute: int | None, was_in: bool | None,
                is_in: bool) -> None:
    """A call's in-hours flag changed: it moves between in and out of hours, and into or out
    of its slot."""
    sign = 1 if is_in else -1
    change.counts[day, rollup.IN_HOURS, rollup.YES if was_in else rollup.NO] -= 1
    change.counts[day, rollup.IN_HOURS, rollup.YES if is_in else rollup.NO] += 1
    if minute is not None and bool(was_in) != is_in:
        change.counts[day, rollup.SLOT, rollup.slot_of(minute)] += sign


# --- reading -----------------------------------------------------------------------------

def _details(session: Session, call: Call) -> CallDetails:
    topics = session.exec(select(CallTopic.topic_code).where(col(CallTopic.call_id) == call.id)
                          .order_by(col(CallTopic.is_primary).desc(), col(CallTopic.topic_code)))
    outcome_rows = session.exec(select(CallOutcome).where(col(CallOutcome.call_id) == call.id)
                                .order_by(col(CallOutcome.outcome),
                                          col(CallOutcome.referred_to))).all()
    order = [o.code for o in reference.helpline().outcomes]
    outcomes = sorted({o.outcome for o in outcome_rows}, key=order.index)
    values = {f.name: getattr(call, f.name) for f in fields(CallDetails)
              if f.name not in ("topics", "outcomes", "referred_to", "children_age_bands")}
    return CallDetails(
        **values,
        children_age_bands=tuple((call.children_age_bands or "").split(";")) if
        call.children_age_bands else (),
        topics=tuple(topics),
        outcomes=tuple(outcomes),
        referred_to=tuple(o.referred_to for o in outcome_rows if o.referred_to),
    )


def _conditions(query: CallQuery, dialect: str, walk: bool = False
                ) -> list[sa.ColumnElement[bool]]:
    """What a history row must meet for the query (``walk``: see
    :func:`search.matching_calls`)."""
    conditions: list[sa.ColumnElement[bool]] = []
    found = search.matching_calls(query.text, dialect, walk)
    if found is not None:
        conditions.append(found)
    if query.date_from is not None:
        conditions.append(col(Call.started_at) >= uk_day_start(query.date_from))
    if query.date_to is not None:
        conditions.append(col(Call.started_at) < uk_day_end(query.date_to))
    if query.worker_id is not None:
        conditions.append(col(Call.worker_id) == query.worker_id)
    if query.started_after is not None:
        conditions.append(col(Call.started_at) >= query.started_after)
    if query.unreviewed_only:
        conditions += [col(Call.reviewed_at).is_(None), col(Call.kind) == "data"]
    if query.safeguarding_only:
        conditions.append(col(Call.safeguarding).is_(True))
    if query.topic:
        # EXISTS, not IN: the newest-first walk stops at the first page of matches.
        named = (select(CallTopic.call_id).correlate(Call)
                 .where(col(CallTopic.call_id) == col(Call.id),
                        sa.or_(col(CallTopic.topic_code) == query.topic,
                               col(CallTopic.topic_code).startswith(query.topic + "."))))
        conditions.append(named.exists())
    return conditions


def _unfiltered(query: CallQuery) -> bool:
    """Whether ``query`` shows every call (in whatever order)."""
    return replace(query, sort="started_at", descending=True) == CallQuery()


def _walk(connection: sa.Connection, matches: int | None, rows_wanted: int | None) -> bool:
    """On SQLite, with ``matches`` calls matching the search: whether to find ``rows_wanted``
    rows by walking the calls (:func:`search.walk_the_calls`)."""
    if matches is None:
        return False
    calls = connection.execute(sa.select(sa.func.max(col(Call.id)))).scalar() or 0
    return search.walk_the_calls(matches, calls, rows_wanted)


def _joined(statement: sa.Select[*Ts], sort: str | None = None
            ) -> sa.Select[*Ts]:
    """``statement`` with each call's worker and primary topic (if any) beside it; with
    ``sort``, only what sorting by it needs."""
    if sort in (None, "worker"):
        statement = statement.join(User, col(User.id) == col(Call.worker_id))
    if sort in (None, "primary_topic"):
        statement = statement.outerjoin(
            CallTopic, sa.and_(col(CallTopic.call_id) == col(Call.id),
                               col(CallTopic.is_primary).is_(True)))
    return statement


def _unique(joined: str | None) -> str:
    return ", ".join(dict.fromkeys((joined or "").split(","))) if joined else ""


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
                    call_id = _insert(session, details, worker_id, self.clock,
                                      _active_topics(session), hours_policy_in(session), key)
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
            _count(session, None, _facts(call))
            return call.id

    def correct(self, call_id: int, kind: str | None) -> None:
        """Correct a non-data call logged by mistake: change it to another non-data ``kind``,
        or (``kind`` None) withdraw it. A withdrawn call is kept, marked with who withdrew it
        and when, and left out of every figure. Audited; workers may correct their own calls
        of the last seven days, supervisors any. Raises :class:`ValidationError` for a call
        with content (edit it instead), one already withdrawn, or an unknown kind."""
        if kind is not None:
            _require_non_data_kind(kind)
        clock = self.clock
        with self.store.write() as session:
            call = _call_for(session, self.actor, call_id, clock)
            if call.kind == "data":
                raise ValidationError([FieldError(
                    "kind", f"call {call_id} has content: edit it instead")])
            if call.withdrawn_at is not None:
                raise ValidationError([FieldError(
                    "kind", f"call {call_id} was withdrawn already")])
            if kind == call.kind:
                return
            now = clock.now()
            call.updated_at = now
            before = _facts(call)
            if kind is None:
                call.withdrawn_at, call.withdrawn_by_id = now, self.actor.id
                audit.record(session, clock, self.actor, "call-withdrawn", f"call {call_id}",
                             {"kind": call.kind})
            else:
                audit.record(session, clock, self.actor, "call-corrected", f"call {call_id}",
                             {"from": call.kind, "to": kind})
                call.kind = kind
            _count(session, before, _facts(call))

    def update(self, call_id: int, details: CallDetails, key: str | None = None,
               drafted: bool = False) -> builtins.list[str]:
        """Replace what is recorded about a call; returns the names of the fields that changed.

        Topics retired since the call was logged may stay on it, and so may a retired (split)
        authority code; they cannot be newly added.
        The audit trail records which fields changed, never their values. With ``drafted``
        the actor's draft of the form with ``key`` is deleted in the same transaction.
        """
        clock = self.clock
        with self.store.write() as session:
            call = _call_for(session, self.actor, call_id, clock)
            if call.withdrawn_at is not None:  # it would come back into the figures
                raise ValidationError([FieldError(
                    "kind", f"call {call_id} was withdrawn: it cannot be edited")])
            before = _details(session, call)
            details = _checked(details, _active_topics(session) | set(before.topics), clock,
                               before.local_authority)
            changed = [f.name for f in fields(CallDetails)
                       if _comparable(before, f.name) != _comparable(details, f.name)]
            if drafted:
                end_draft(session, self._worker_id(), key)
            if not changed:
                return []
            counted = _stored_facts(session, call)
            _fill(call, details, hours_policy_in(session))
            call.kind = "data"
            call.updated_at = clock.now()
            session.exec(delete(CallTopic).where(col(CallTopic.call_id) == call_id))
            session.exec(delete(CallOutcome).where(col(CallOutcome.call_id) == call_id))
            _write_codes(session, call_id, details)
            _count(session, counted, _facts(call, details.topics, _outcome_rows(details)))
            audit.record(session, clock, self.actor, "call-edited", f"call {call_id}",
                         {"fields": changed})
            return changed

    def get(self, call_id: int) -> StoredCall:
        with self.store.read() as session:
            call = _call_for(session, self.actor, call_id, self.clock)
            assert call.id is not None
            return StoredCall(id=call.id, kind=call.kind, worker_id=call.worker_id,
                              in_hours=call.in_hours, details=_details(session, call),
                              reviewed_at=call.reviewed_at, review_note=call.review_note,
                              withdrawn_at=call.withdrawn_at)

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
            page = (_joined(sa.select(col(Call.id)), query.sort)
                    .where(*self._conditions(connection, query, offset + limit
                                             if query.sort == "started_at" else None))
                    .order_by(*order).offset(offset).limit(limit))
            statement = (_joined(sa.select(
                col(Call.id), col(Call.started_at), col(Call.kind), col(User.display_name),
                col(Call.caller_type), col(CallTopic.topic_code), outcomes,
                col(Call.duration_s), col(Call.safeguarding), col(Call.follow_up_on),
                col(Call.reviewed_at), col(Call.withdrawn_at)))
                .where(col(Call.id).in_(page)).order_by(*order))
            rows = connection.execute(statement).all()
        return [CallSummary(id=r[0], started_at=r[1], kind=r[2], worker=r[3], caller_type=r[4],
                            primary_topic=r[5], outcomes=_unique(r[6]), duration_s=r[7],
                            safeguarding=r[8], follow_up_on=r[9], reviewed=r[10] is not None,
                            withdrawn=r[11] is not None)
                for r in rows]

    def count(self, query: CallQuery) -> int:
        """How many calls :meth:`list` would give for ``query``, every page together."""
        query = self._visible(query)
        with self.store.read() as session:
            connection = session.connection()
            matches = search.index_matches(connection, query.text)
            if matches is not None and _unfiltered(replace(query, text="")):
                return matches  # the search alone: the index counts it
            conditions = _conditions(query, connection.dialect.name,
                                     _walk(connection, matches, None))
            statement = sa.select(sa.func.count()).select_from(Call).where(*conditions)
            return int(connection.execute(statement).scalar_one())

    def _conditions(self, connection: sa.Connection, query: CallQuery, rows_wanted: int | None
                    ) -> builtins.list[sa.ColumnElement[bool]]:
        """The query's conditions, the search planned for ``rows_wanted`` rows in the order of
        the start (None: every row read, see :func:`search.walk_the_calls`)."""
        matches = search.index_matches(connection, query.text)
        return _conditions(query, connection.dialect.name,
                           _walk(connection, matches, rows_wanted))

    def _worker_id(self) -> int:
        assert self.actor.id is not None, "calls are logged by a signed-in worker"
        return self.actor.id
