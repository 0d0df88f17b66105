"""Subject access (PRODUCT.md §7): find every call of a person and give them, as one file,
everything the store holds about them. Supervisors only, audited; audit details give counts,
never the name, phone or email searched for.

A supervisor's search (:meth:`SubjectAccess.search`) may match a part of a name, so it lists
the calls found (date, name and contact details as stored) for the supervisor to tick; only
the ticked calls are then saved or erased.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from advice_desk.clock import to_uk
from advice_desk.files import atomic_file
from advice_desk.people import audit
from advice_desk.people.manager import Manager
from advice_desk.people.permissions import Action, require
from advice_desk.privacy.classification import CALL_FIELDS, Sensitivity
from advice_desk.privacy.identity import PersonQuery, SearchBy, normal_form
from advice_desk.reference import lists as reference
from advice_desk.store.models import Call, CallOutcome, CallTopic, Topic

_BATCH = 500  # ids per statement, well under every database's limit of bound parameters
_SEARCHED = {"name": Call.caller_name, "phone": Call.caller_phone, "email": Call.caller_email}

# Fields of a call that say something about the caller: all but the staff and the bookkeeping.
_ABOUT_THE_CALLER = tuple(
    name for name, sensitivity in CALL_FIELDS.items()
    if sensitivity is not Sensitivity.STAFF and name not in (
        "id", "started_at", "local_date", "local_minute", "legal_hold", "personal_erased_at",
        "created_at", "updated_at"))


def _phone_prefilter(key: str) -> sa.ColumnElement[bool]:
    """True of every stored phone whose normal form could be ``key`` (and of some others):
    the digits after a leading 0 appear in it in order, whatever lies between them. The normal
    form only drops non-digits and turns a leading 44 into 0, so no match is ever left out."""
    tail = key[1:] if key.startswith("0") else key
    return col(Call.caller_phone).like("%" + "%".join(tail) + "%")


def calls_of(session: Session, by: SearchBy, key: str,
             where: Iterable[sa.ColumnElement[bool]] = ()) -> list[int]:
    """Ids of every call whose name, phone or email (``by``) has the normal form ``key``,
    oldest id first (see :meth:`PersonQuery.key`); ``where``: further conditions on the
    call. The one match of a person: subject access, erasure and repeat callers use it."""
    column = _SEARCHED[by]
    statement = select(Call.id, column).where(col(column).is_not(None), *where)
    if by == "phone" and key.isdigit():
        statement = statement.where(_phone_prefilter(key))
    rows = session.exec(statement.order_by(col(Call.id))).all()
    return [call_id for call_id, stored in rows
            if call_id is not None and normal_form(by, stored) == key]


def calls_naming(session: Session, part: str) -> list[int]:
    """Ids of every call whose caller's name holds ``part`` (already in normal form: any
    case, spaces around ignored), oldest id first."""
    rows = session.exec(select(Call.id, Call.caller_name)
                        .where(col(Call.caller_name).is_not(None)).order_by(col(Call.id))).all()
    return [call_id for call_id, stored in rows
            if call_id is not None and part in normal_form("name", stored)]


@dataclass(frozen=True)
class FoundCall:
    """One call a search found, as the supervisor checks it is the right person's."""

    call_id: int
    started_at: datetime
    caller_name: str | None
    caller_phone: str | None
    caller_email: str | None
    legal_hold: bool


class SubjectAccess(Manager):
    """Finding a person's calls and saving them for the person."""

    def find(self, query: PersonQuery) -> list[int]:
        """Ids of every call of a person, oldest id first, by name (any case, spaces around
        ignored), phone (any UK format: 07911 123456 and +44 7911 123456 match) or email (any
        case)."""
        require(self.actor, Action.ERASE)
        key = query.key()
        with self.store.read() as session:
            return calls_of(session, query.by, key)

    def search(self, query: PersonQuery) -> list[FoundCall]:
        """The calls a person may have made, oldest first, to tick before saving or erasing
        any: by a part of the name (any case: "margaret" finds "Margaret Example" and
        "Margaret Other"), or by phone or email as :meth:`find`. Audited: how many calls were
        found and by what, never the text searched for."""
        require(self.actor, Action.ERASE)
        key = query.key()
        with self.store.write() as session:
            ids = calls_naming(session, key) if query.by == "name" else calls_of(
                session, query.by, key)
            found = [FoundCall(c.id, c.started_at, c.caller_name, c.caller_phone,
                               c.caller_email, c.legal_hold)
                     for c in calls_by_id(session, ids) if c.id is not None]
            audit.record(session, self.clock, self.actor, "person-search", None,
                         {"by": query.by, "calls": len(found)})
        return found

    def save_subject_access(self, ids: Sequence[int], path: Path) -> None:
        """Save the calls ``ids`` as one Markdown file: for each call its date, topics,
        outcomes and every field stored about the caller. Written whole or not at all;
        audited (how many calls, never who)."""
        require(self.actor, Action.ERASE)
        with self.store.read() as session:
            calls = calls_by_id(session, ids)
            topics = topic_labels(session, ids)
            outcomes = outcome_labels(session, ids)
        lines = _heading(len(calls), self.clock.now())
        for number, call in enumerate(calls, start=1):
            assert call.id is not None
            lines += _call_lines(number, call, topics.get(call.id, []),
                                 outcomes.get(call.id, []))
        with atomic_file(path) as f:
            f.write("\n".join(lines))
        with self.store.write() as session:
            audit.record(session, self.clock, self.actor, "subject-access", None,
                         {"calls": len(calls)})


def calls_by_id(session: Session, ids: Sequence[int]) -> list[Call]:
    """The calls ``ids``, oldest first."""
    ids = list(ids)
    calls = [call for start in range(0, len(ids), _BATCH) for call in session.exec(
        select(Call).where(col(Call.id).in_(ids[start:start + _BATCH])))]
    return sorted(calls, key=lambda call: (call.started_at, call.id or 0))


def topic_labels(session: Session, ids: Sequence[int]) -> dict[int, list[str]]:
    """The labels of each call's topics, the primary first."""
    topic_label = {t.code: t.label for t in session.exec(select(Topic))}
    topics: dict[int, list[str]] = {}
    for call_id, code in session.exec(
            select(CallTopic.call_id, CallTopic.topic_code).where(
                col(CallTopic.call_id).in_(list(ids)))
            .order_by(col(CallTopic.is_primary).desc(), col(CallTopic.topic_code))):
        topics.setdefault(call_id, []).append(topic_label.get(code, code))
    return topics


def outcome_labels(session: Session, ids: Sequence[int]) -> dict[int, list[str]]:
    """Each call's outcomes as labels, with whom the caller was referred to."""
    helpline = reference.helpline()
    outcome_label = {c.code: c.label for c in helpline.outcomes}
    referral_label = {c.code: c.label for c in helpline.referral_targets}
    outcomes: dict[int, list[str]] = {}
    for row in session.exec(select(CallOutcome).where(col(CallOutcome.call_id).in_(list(ids)))
                            .order_by(col(CallOutcome.outcome), col(CallOutcome.referred_to))):
        text = outcome_label.get(row.outcome, row.outcome)
        if row.referred_to:
            text += f" ({referral_label.get(row.referred_to, row.referred_to)})"
        outcomes.setdefault(row.call_id, []).append(text)
    return outcomes


def _heading(count: int, now: datetime) -> list[str]:
    return [f"# Subject access: calls held by {reference.helpline().name}", "",
            f"Produced {_uk_time(now)}. {count} call{'' if count == 1 else 's'} found.", ""]


def _call_lines(number: int, call: Call, topics: list[str], outcomes: list[str]) -> list[str]:
    lines = [f"## Call {number}: {_uk_time(call.started_at)}", "",
             f"- Reference: call {call.id}",
             f"- Topics: {', '.join(topics) or 'none'}",
             f"- Outcomes: {', '.join(outcomes) or 'none'}"]
    for name in _ABOUT_THE_CALLER:
        value = getattr(call, name)
        if value is None or value == "":
            continue
        lines.append(f"- {name.replace('_', ' ').capitalize()}: {_shown(value)}")
    if call.personal_erased_at is not None:
        lines.append(f"- Personal details erased: {_shown(call.personal_erased_at)}")
    lines.append("")
    return lines


def _uk_time(at: datetime) -> str:
    return f"{to_uk(at):%Y-%m-%d %H:%M} (UK time)"


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return _uk_time(value)
    return str(value)
