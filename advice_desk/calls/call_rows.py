"""A call's rows in the store: written from its checked details, read back, counted in figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from sqlmodel import Session, col, select

from advice_desk.calls.record import CallDetails, normalise, validate
from advice_desk.clock import Clock, uk_day_and_minute
from advice_desk.figures import rollup
from advice_desk.figures.rollup import CallFacts, Change
from advice_desk.reference import lists as reference
from advice_desk.reference.hours import HoursPolicy
from advice_desk.settings import hours_policy_in
from advice_desk.store.engine import Store
from advice_desk.store.models import Call, CallOutcome, CallTopic, Topic
from advice_desk.validation import ValidationError


def active_topics(session: Session) -> set[str]:
    return set(session.exec(select(Topic.code).where(col(Topic.retired).is_(False))))


def checked_details(details: CallDetails, allowed_topics: set[str], clock: Clock,
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


def fill_call(call: Call, details: CallDetails, policy: HoursPolicy) -> None:
    for name, value in _call_columns(details, policy).items():
        setattr(call, name, value)


def outcome_rows(details: CallDetails) -> list[tuple[str, str]]:
    """The (outcome, referred_to) rows stored for a call."""
    rows = [(o, "") for o in details.outcomes if o != "referred"]
    if "referred" in details.outcomes:
        rows += [("referred", r) for r in details.referred_to]
    return rows


def write_codes(session: Session, call_id: int, details: CallDetails) -> None:
    session.add_all(CallTopic(call_id=call_id, topic_code=code, is_primary=(i == 0))
                    for i, code in enumerate(details.topics))
    session.add_all(CallOutcome(call_id=call_id, outcome=o, referred_to=r)
                    for o, r in outcome_rows(details))


def facts_of(call: Call, topics: Sequence[str] = (),
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


def stored_facts(session: Session, call: Call) -> CallFacts:
    """What the stored call adds to the figures, read before it changes."""
    topics = session.exec(select(CallTopic.topic_code)
                          .where(col(CallTopic.call_id) == call.id)).all()
    outcomes = session.exec(select(CallOutcome.outcome, CallOutcome.referred_to)
                            .where(col(CallOutcome.call_id) == call.id)).all()
    return facts_of(call, topics, [(o, r) for o, r in outcomes])


def count_in_figures(session: Session, before: CallFacts | None, after: CallFacts | None) -> None:
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
        allowed, policy = active_topics(session), hours_policy_in(session)
        return [insert_call(session, details, worker_id, clock, allowed, policy)
                for details in calls]


def insert_call(session: Session, details: CallDetails, worker_id: int, clock: Clock,
                allowed: set[str], policy: HoursPolicy, key: str | None = None) -> int:
    """Add one call with content in the caller's transaction; returns its id. Raises
    :class:`ValidationError`, and IntegrityError when a call with this key is stored."""
    details = checked_details(details, allowed, clock)
    now = clock.now()
    call = Call(kind="data", worker_id=worker_id, created_at=now, updated_at=now,
                idempotency_key=key)
    fill_call(call, details, policy)
    session.add(call)
    session.flush()
    assert call.id is not None
    write_codes(session, call.id, details)
    count_in_figures(session, None, facts_of(call, details.topics, outcome_rows(details)))
    return call.id


def details_of(session: Session, call: Call) -> CallDetails:
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
