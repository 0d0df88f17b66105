"""Logging, editing and listing calls: the rules a call must follow, whoever enters it.

The GUI, the import and the demo all go through these functions (the demo through the same
validation rules, in bulk), so a call in the store always has valid codes, at least one topic
with exactly one primary, at least one outcome, and no personal details unless the caller agreed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from advice_desk import reference
from advice_desk.clock import Clock, uk_day_start
from advice_desk.models import Call, CallOutcome, CallTopic, Topic, User
from advice_desk.privacy import CONSENT_GATED_FIELDS
from advice_desk.store import Store
from advice_desk.validation import FieldError, ValidationError

MAX_CALL_LENGTH = timedelta(hours=12)
MAX_FUTURE_START = timedelta(minutes=5)
MAX_CHILDREN = 20
MAX_TEXT = 10_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().-]+$")
_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?(\s*\d[A-Z]{2})?$", re.IGNORECASE)


@dataclass(frozen=True)
class CallDetails:
    """What a worker records about a call with content. ``topics[0]`` is the primary topic."""

    started_at: datetime
    ended_at: datetime | None = None
    channel: str = "phone"
    direction: str = "inbound"
    caller_type: str | None = None
    arrangement: str | None = None
    local_authority: str | None = None
    children_count: int | None = None
    children_age_bands: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    referred_to: tuple[str, ...] = ()
    follow_up_on: date | None = None
    follow_up_note: str | None = None
    safeguarding: bool = False
    first_time_caller: str = "unknown"
    how_heard: str | None = None
    consent_to_store_details: bool = False
    caller_name: str | None = None
    caller_phone: str | None = None
    caller_email: str | None = None
    caller_postcode: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class StoredCall:
    id: int
    kind: str
    worker_id: int
    in_hours: bool | None
    details: CallDetails
    reviewed_at: datetime | None = None
    review_note: str | None = None


@dataclass(frozen=True)
class CallQuery:
    """Which calls the history shows, and in what order. Dates are UK calendar days."""

    date_from: date | None = None
    date_to: date | None = None
    topic: str | None = None  # a top-level code also matches its subtopics
    worker_id: int | None = None
    sort: str = "started_at"
    descending: bool = True


@dataclass(frozen=True)
class CallSummary:
    """One row of the call history."""

    id: int
    started_at: datetime
    kind: str
    worker: str
    caller_type: str | None
    primary_topic: str | None
    outcomes: str
    duration_s: int | None
    safeguarding: bool
    follow_up_on: date | None
    reviewed: bool = field(default=False)


SORTABLE = {
    "started_at": Call.started_at,
    "worker": User.display_name,
    "caller_type": Call.caller_type,
    "primary_topic": CallTopic.topic_code,
    "duration_s": Call.duration_s,
}


# --- validation --------------------------------------------------------------------------

def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def normalise(details: CallDetails) -> CallDetails:
    """Trim text, drop details the caller did not agree to, and fill what follows from the rest."""
    texts = {f.name: _clean(getattr(details, f.name)) for f in fields(CallDetails)
             if f.name.startswith("caller_") and f.name != "caller_type"}
    texts["notes"] = _clean(details.notes)
    texts["follow_up_note"] = _clean(details.follow_up_note)
    if not details.consent_to_store_details:
        texts.update(dict.fromkeys(CONSENT_GATED_FIELDS))
    children = details.children_count
    if children is None and details.children_age_bands:
        children = len(details.children_age_bands)
    referred = details.referred_to if "referred" in details.outcomes else ()
    return replace(details, **texts, children_count=children, referred_to=referred,
                   local_authority=_clean(details.local_authority))


def validate(details: CallDetails, allowed_topics: set[str], clock: Clock) -> list[FieldError]:
    """Every problem with a call, each naming its field. Expects :func:`normalise`d details."""
    h = reference.helpline()
    errors: list[FieldError] = []

    def check_code(name: str, value: str | None, choices: Iterable[reference.Choice],
                   required: bool = True) -> None:
        if value is None:
            if required:
                errors.append(FieldError(name, "required"))
        elif value not in {c.code for c in choices}:
            errors.append(FieldError(name, f"unknown code {value!r}"))

    errors += _check_times(details, clock)
    check_code("channel", details.channel, h.channels)
    check_code("direction", details.direction, h.directions)
    check_code("caller_type", details.caller_type, h.caller_types)
    check_code("arrangement", details.arrangement, h.arrangements)
    check_code("first_time_caller", details.first_time_caller, h.first_time_caller)
    check_code("how_heard", details.how_heard, h.how_heard, required=False)
    authority = details.local_authority
    if authority and authority not in reference.local_authority_by_code():
        errors.append(FieldError("local_authority", f"unknown GSS code {authority!r}"))
    errors += _check_children(details)
    errors += _check_list("topics", details.topics, allowed_topics, "topic")
    errors += _check_list("outcomes", details.outcomes, {c.code for c in h.outcomes}, "outcome")
    if "referred" in details.outcomes and not details.referred_to:
        errors.append(FieldError("referred_to", "say who the caller was referred to"))
    errors += _check_list("referred_to", details.referred_to,
                          {c.code for c in h.referral_targets}, "referral", required=False)
    if details.follow_up_note and details.follow_up_on is None:
        errors.append(FieldError("follow_up_on", "a follow-up note needs a follow-up date"))
    errors += _check_contact(details)
    return errors


def _check_times(details: CallDetails, clock: Clock) -> list[FieldError]:
    errors = []
    if details.started_at.tzinfo is None:
        return [FieldError("started_at", "has no time zone")]
    if details.started_at > clock.now() + MAX_FUTURE_START:
        errors.append(FieldError("started_at", "is in the future"))
    if details.ended_at is not None:
        if details.ended_at < details.started_at:
            errors.append(FieldError("ended_at", "is before the start of the call"))
        elif details.ended_at - details.started_at > MAX_CALL_LENGTH:
            errors.append(FieldError("ended_at", "makes the call longer than 12 hours"))
    return errors


def _check_children(details: CallDetails) -> list[FieldError]:
    errors = []
    bands = {c.code for c in reference.helpline().age_bands}
    count = details.children_count
    if count is not None and not 0 <= count <= MAX_CHILDREN:
        errors.append(FieldError("children_count", f"must be between 0 and {MAX_CHILDREN}"))
    errors += [FieldError("children_age_bands", f"unknown age band {b!r}")
               for b in details.children_age_bands if b not in bands]
    if count is not None and len(details.children_age_bands) > count:
        errors.append(FieldError("children_age_bands", "more age bands than children"))
    return errors


def _check_list(name: str, values: tuple[str, ...], allowed: set[str], what: str,
                required: bool = True) -> list[FieldError]:
    if not values:
        return [FieldError(name, f"choose at least one {what}")] if required else []
    errors = [FieldError(name, f"unknown {what} {v!r}") for v in values if v not in allowed]
    if len(set(values)) != len(values):
        errors.append(FieldError(name, f"the same {what} is chosen twice"))
    return errors


def _check_contact(details: CallDetails) -> list[FieldError]:
    errors = []
    if details.caller_email and not _EMAIL.match(details.caller_email):
        errors.append(FieldError("caller_email", "is not an email address"))
    if details.caller_phone and not (
            _PHONE.match(details.caller_phone)
            and 6 <= sum(ch.isdigit() for ch in details.caller_phone) <= 15):
        errors.append(FieldError("caller_phone", "is not a phone number"))
    if details.caller_postcode and not _POSTCODE.match(details.caller_postcode):
        errors.append(FieldError("caller_postcode", "is not a UK postcode"))
    for name in ("notes", "follow_up_note", "caller_name"):
        if len(getattr(details, name) or "") > MAX_TEXT:
            errors.append(FieldError(name, f"is longer than {MAX_TEXT} characters"))
    return errors


# --- writing -----------------------------------------------------------------------------

def _active_topics(session: Session) -> set[str]:
    return set(session.exec(select(Topic.code).where(col(Topic.retired).is_(False))))


def _checked(details: CallDetails, allowed_topics: set[str], clock: Clock) -> CallDetails:
    details = normalise(details)
    errors = validate(details, allowed_topics, clock)
    if errors:
        raise ValidationError(errors)
    return details


def _call_columns(details: CallDetails) -> dict[str, object]:
    columns = {f.name: getattr(details, f.name) for f in fields(CallDetails)
               if f.name not in ("topics", "outcomes", "referred_to", "children_age_bands")}
    columns["children_age_bands"] = ";".join(details.children_age_bands) or None
    columns["duration_s"] = (int((details.ended_at - details.started_at).total_seconds())
                             if details.ended_at else None)
    return columns


def _write_codes(session: Session, call_id: int, details: CallDetails) -> None:
    session.add_all(CallTopic(call_id=call_id, topic_code=code, is_primary=(i == 0))
                    for i, code in enumerate(details.topics))
    session.add_all(CallOutcome(call_id=call_id, outcome=o) for o in details.outcomes
                    if o != "referred")
    if "referred" in details.outcomes:
        session.add_all(CallOutcome(call_id=call_id, outcome="referred", referred_to=r)
                        for r in details.referred_to)


def log_call(store: Store, details: CallDetails, worker_id: int, clock: Clock) -> int:
    """Save a new call with content; returns its id. Raises :class:`ValidationError`."""
    return log_calls(store, [details], worker_id, clock)[0]


def log_calls(store: Store, calls: Sequence[CallDetails], worker_id: int, clock: Clock
              ) -> list[int]:
    """Save several calls in one transaction: all of them, or (on any error) none."""
    ids = []
    with store.write() as session:
        allowed = _active_topics(session)
        now = clock.now()
        for details in calls:
            details = _checked(details, allowed, clock)
            call = Call(**_call_columns(details), kind="data", worker_id=worker_id,
                        created_at=now, updated_at=now)
            session.add(call)
            session.flush()
            assert call.id is not None
            _write_codes(session, call.id, details)
            ids.append(call.id)
    return ids


def log_non_data_call(store: Store, kind: str, worker_id: int, clock: Clock,
                      started_at: datetime | None = None) -> int:
    """Save a call with no content (silent, hang-up, ...) in one step; returns its id."""
    kinds = {k.code for k in reference.helpline().non_data_kinds}
    if kind not in kinds:
        raise ValidationError([FieldError("kind", f"unknown non-data call {kind!r}")])
    now = clock.now()
    with store.write() as session:
        call = Call(kind=kind, started_at=started_at or now, worker_id=worker_id,
                    created_at=now, updated_at=now)
        session.add(call)
        session.flush()
        assert call.id is not None
        return call.id


def update_call(store: Store, call_id: int, details: CallDetails, clock: Clock) -> list[str]:
    """Replace what is recorded about a call; returns the names of the fields that changed.

    Topics retired since the call was logged may stay on it; they cannot be newly added.
    """
    with store.write() as session:
        call = session.get(Call, call_id)
        if call is None:
            raise ValidationError([FieldError("id", f"there is no call {call_id}")])
        before = _details(session, call)
        details = _checked(details, _active_topics(session) | set(before.topics), clock)
        changed = [f.name for f in fields(CallDetails)
                   if getattr(before, f.name) != getattr(details, f.name)]
        if not changed:
            return []
        for name, value in _call_columns(details).items():
            setattr(call, name, value)
        call.kind = "data"
        call.updated_at = clock.now()
        session.exec(delete(CallTopic).where(col(CallTopic.call_id) == call_id))
        session.exec(delete(CallOutcome).where(col(CallOutcome.call_id) == call_id))
        _write_codes(session, call_id, details)
        return changed


# --- reading -----------------------------------------------------------------------------

def _details(session: Session, call: Call) -> CallDetails:
    topics = session.exec(select(CallTopic.topic_code).where(CallTopic.call_id == call.id)
                          .order_by(col(CallTopic.is_primary).desc(), CallTopic.topic_code))
    outcome_rows = session.exec(select(CallOutcome).where(CallOutcome.call_id == call.id)
                                .order_by(CallOutcome.outcome, CallOutcome.referred_to)).all()
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


def get_call(store: Store, call_id: int) -> StoredCall:
    with store.read() as session:
        call = session.get(Call, call_id)
        if call is None:
            raise ValidationError([FieldError("id", f"there is no call {call_id}")])
        assert call.id is not None
        return StoredCall(id=call.id, kind=call.kind, worker_id=call.worker_id,
                          in_hours=call.in_hours, details=_details(session, call),
                          reviewed_at=call.reviewed_at, review_note=call.review_note)


def _filtered(statement: sa.Select, query: CallQuery) -> sa.Select:
    if query.date_from is not None:
        statement = statement.where(Call.started_at >= uk_day_start(query.date_from))
    if query.date_to is not None:
        statement = statement.where(
            Call.started_at < uk_day_start(query.date_to + timedelta(days=1)))
    if query.worker_id is not None:
        statement = statement.where(Call.worker_id == query.worker_id)
    if query.topic:
        matching = select(CallTopic.call_id).where(
            sa.or_(CallTopic.topic_code == query.topic,
                   col(CallTopic.topic_code).startswith(query.topic + ".")))
        statement = statement.where(col(Call.id).in_(matching))
    return statement


def list_calls(store: Store, query: CallQuery, offset: int = 0, limit: int = 200
               ) -> list[CallSummary]:
    """One page of the call history, filtered and sorted by the database."""
    if query.sort not in SORTABLE:
        raise ValueError(f"cannot sort by {query.sort!r}")
    outcomes = (select(sa.func.aggregate_strings(CallOutcome.outcome, ","))
                .where(CallOutcome.call_id == Call.id).scalar_subquery())
    statement = (
        select(Call.id, Call.started_at, Call.kind, User.display_name, Call.caller_type,
               CallTopic.topic_code, outcomes, Call.duration_s, Call.safeguarding,
               Call.follow_up_on, Call.reviewed_at)
        .join(User, col(User.id) == Call.worker_id)
        .outerjoin(CallTopic, sa.and_(col(CallTopic.call_id) == Call.id,
                                      col(CallTopic.is_primary).is_(True)))
    )
    key = SORTABLE[query.sort]
    direction = sa.desc if query.descending else sa.asc
    statement = (_filtered(statement, query)
                 .order_by(direction(key), direction(Call.id)).offset(offset).limit(limit))
    with store.read() as session:
        rows = session.exec(statement).all()
    return [CallSummary(id=r[0], started_at=r[1], kind=r[2], worker=r[3], caller_type=r[4],
                        primary_topic=r[5], outcomes=_unique(r[6]), duration_s=r[7],
                        safeguarding=r[8], follow_up_on=r[9], reviewed=r[10] is not None)
            for r in rows]


def _unique(joined: str | None) -> str:
    return ", ".join(dict.fromkeys((joined or "").split(","))) if joined else ""


def topic_labels(store: Store, include_retired: bool = True) -> dict[str, Topic]:
    """All topics by code, in display order (parents before their subtopics)."""
    with store.read() as session:
        statement = select(Topic).order_by(Topic.position)
        if not include_retired:
            statement = statement.where(col(Topic.retired).is_(False))
        topics = session.exec(statement).all()
    parents = [t for t in topics if t.parent_code is None]
    ordered: dict[str, Topic] = {}
    for parent in parents:
        ordered[parent.code] = parent
        ordered.update((t.code, t) for t in topics if t.parent_code == parent.code)
    return ordered
