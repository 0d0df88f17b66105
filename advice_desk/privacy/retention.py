"""People's data (PRODUCT.md §7): retention, subject access and erasure on request.

Erasing a call sets exactly :data:`privacy.PERSONAL_CALL_FIELDS` to NULL and stamps
``personal_erased_at``; rows are never deleted and categorical fields never touched, so every
statistic stays as it was. After an erasure the store purges old copies of the erased values
(``secure_delete`` plus a checkpoint, see :meth:`Store.purge_erased`). Supervisors only, audited;
audit details give counts, never the name, phone or email searched for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from advice_desk import settings
from advice_desk.clock import Clock, to_uk, to_utc
from advice_desk.files import atomic_file
from advice_desk.people import audit
from advice_desk.people.permissions import Action, Actor, require
from advice_desk.privacy.classification import CALL_FIELDS, PERSONAL_CALL_FIELDS, Sensitivity
from advice_desk.reference import lists as reference
from advice_desk.reports.extract import normalise_phone
from advice_desk.store.engine import Store
from advice_desk.store.models import Call, CallOutcome, CallTopic, Topic

RETENTION_MONTHS = "retention_months"
DEFAULT_RETENTION_MONTHS = 12
BATCH = 500  # ids per UPDATE, well under every database's limit of bound parameters

_PERSONAL_COLUMNS = [getattr(Call, name) for name in PERSONAL_CALL_FIELDS]


class SearchError(ValueError):
    """The person to look for is not described well enough; the message says why."""


def retention_months(store: Store) -> int:
    return settings.whole_number(store, RETENTION_MONTHS, DEFAULT_RETENTION_MONTHS)


def months_before(at: datetime, months: int) -> datetime:
    """The same UK wall-clock time ``months`` calendar months earlier (the day clamped to the
    end of a shorter month: 31 May less 3 months is 28 or 29 February)."""
    local = to_uk(at)
    index = local.year * 12 + local.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in range(local.day, 27, -1):
        try:
            return to_utc(local.replace(year=year, month=month, day=day))
        except ValueError:
            continue
    return to_utc(local.replace(year=year, month=month, day=min(local.day, 28)))


def _has_personal_data() -> sa.ColumnElement[bool]:
    return sa.or_(*(column.is_not(None) for column in _PERSONAL_COLUMNS))


def _erase(session: Session, ids: Sequence[int], now: datetime) -> None:
    values = {name: None for name in PERSONAL_CALL_FIELDS} | {"personal_erased_at": now}
    for start in range(0, len(ids), BATCH):
        session.execute(sa.update(Call).where(col(Call.id).in_(ids[start:start + BATCH]))
                        .values(**values))


def apply_retention(store: Store, actor: Actor, clock: Clock, months: int | None = None,
                    dry_run: bool = False) -> int:
    """Erase the personal fields of every call that started more than ``months`` (default:
    the ``retention_months`` setting) before now and is not on legal hold. Returns how many
    calls were (with ``dry_run``: would be) erased; running it again erases none."""
    require(actor, Action.ERASE)
    months = retention_months(store) if months is None else months
    if months < 1:
        raise ValueError(f"the retention period must be 1 month or more, not {months}")
    now = clock.now()
    cut_off = months_before(now, months)
    due = select(Call.id).where(col(Call.started_at) < cut_off,
                                col(Call.legal_hold).is_(False), _has_personal_data())
    if dry_run:
        with store.read() as session:
            return len(session.exec(due).all())
    with store.write() as session:
        ids = [i for i in session.exec(due).all() if i is not None]
        if ids:
            _erase(session, ids, now)
        audit.record(session, clock, actor, "retention", None,
                     {"calls": len(ids), "months": months})
    if ids:
        store.purge_erased()
    return len(ids)


# --- finding a person ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Search:
    name: str | None
    phone: str | None
    email: str | None

    def matches(self, name: str | None, phone: str | None, email: str | None) -> bool:
        if self.name is not None:
            return (name or "").strip().casefold() == self.name
        if self.phone is not None:
            return normalise_phone(phone) == self.phone
        return (email or "").strip().casefold() == self.email


def _search(name: str | None, phone: str | None, email: str | None) -> _Search:
    given = [v for v in (name, phone, email) if v is not None]
    if len(given) != 1:
        raise SearchError("give exactly one of a name, a phone number or an email address")
    if name is not None:
        if not name.strip():
            raise SearchError("the name is empty")
        return _Search(name.strip().casefold(), None, None)
    if phone is not None:
        digits = normalise_phone(phone)
        if len(digits) < 6:
            raise SearchError("the phone number has too few digits")
        return _Search(None, digits, None)
    assert email is not None
    if not email.strip():
        raise SearchError("the email address is empty")
    return _Search(None, None, email.strip().casefold())


def _find(session: Session, search: _Search) -> list[int]:
    column = (Call.caller_name if search.name is not None else
              Call.caller_phone if search.phone is not None else Call.caller_email)
    rows = session.exec(select(Call.id, Call.caller_name, Call.caller_phone, Call.caller_email)
                        .where(col(column).is_not(None)).order_by(Call.id)).all()
    return [row[0] for row in rows if row[0] is not None and search.matches(*row[1:])]


def find_person(store: Store, actor: Actor, name: str | None = None, phone: str | None = None,
                email: str | None = None) -> list[int]:
    """Ids of every call of a person, oldest id first, by exactly one of: name (any case,
    spaces around ignored), phone (any UK format: 07911 123456 and +44 7911 123456 match) or
    email (any case)."""
    require(actor, Action.ERASE)
    search = _search(name, phone, email)
    with store.read() as session:
        return _find(session, search)


def held_calls(store: Store, actor: Actor, ids: Sequence[int]) -> list[int]:
    """Those of ``ids`` that are on legal hold."""
    require(actor, Action.ERASE)
    with store.read() as session:
        return [i for i in session.exec(select(Call.id).where(
            col(Call.id).in_(list(ids)), col(Call.legal_hold).is_(True)).order_by(Call.id))
            if i is not None]


def erase_person(store: Store, actor: Actor, clock: Clock, name: str | None = None,
                 phone: str | None = None, email: str | None = None,
                 dry_run: bool = False) -> int:
    """Erase the personal fields of every call of a person (found as by :func:`find_person`),
    keeping the calls and their statistics. Calls on legal hold are left alone (see
    :func:`held_calls`). Returns how many calls were (with ``dry_run``: would be) changed."""
    require(actor, Action.ERASE)
    search = _search(name, phone, email)
    with store.read() as session:
        if dry_run:
            return len(_unheld(session, _find(session, search)))
    with store.write() as session:
        found = _find(session, search)
        ids = _unheld(session, found)
        if ids:
            _erase(session, ids, clock.now())
        audit.record(session, clock, actor, "erasure", None,
                     {"calls": len(ids), "held": len(found) - len(ids),
                      "by": "name" if search.name is not None else
                      "phone" if search.phone is not None else "email"})
    if ids:
        store.purge_erased()
    return len(ids)


def _unheld(session: Session, ids: list[int]) -> list[int]:
    held: set[int] = set()
    for start in range(0, len(ids), BATCH):
        held.update(i for i in session.exec(select(Call.id).where(
            col(Call.id).in_(ids[start:start + BATCH]), col(Call.legal_hold).is_(True)))
            if i is not None)
    return [i for i in ids if i not in held]


def set_legal_hold(store: Store, actor: Actor, call_id: int, held: bool, clock: Clock) -> None:
    """Put a call on legal hold (retention then leaves it alone) or release it; audited."""
    require(actor, Action.ERASE)
    with store.write() as session:
        call = session.get(Call, call_id)
        if call is None:
            raise LookupError(f"there is no call {call_id}")
        if call.legal_hold != held:
            call.legal_hold = held
            session.add(call)
            audit.record(session, clock, actor, "legal-hold", f"call {call_id}",
                         {"held": held})


# --- subject access ----------------------------------------------------------------------------

# Fields of a call that say something about the caller: all but the staff and the bookkeeping.
_ABOUT_THE_CALLER = tuple(
    name for name, sensitivity in CALL_FIELDS.items()
    if sensitivity is not Sensitivity.STAFF and name not in (
        "id", "started_at", "local_date", "local_minute", "legal_hold", "personal_erased_at",
        "created_at", "updated_at"))


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return f"{to_uk(value):%Y-%m-%d %H:%M} (UK time)"
    return str(value)


def write_subject_access(store: Store, actor: Actor, ids: Sequence[int], path: Path,
                         clock: Clock) -> None:
    """Save the calls ``ids`` as one Markdown file: for each call its date, topics, outcomes
    and every field stored about the caller. Written whole or not at all; audited (how many
    calls, never who)."""
    require(actor, Action.ERASE)
    helpline = reference.helpline()
    outcome_label = {c.code: c.label for c in helpline.outcomes}
    referral_label = {c.code: c.label for c in helpline.referral_targets}
    with store.read() as session:
        calls = session.exec(select(Call).where(col(Call.id).in_(list(ids)))
                             .order_by(Call.started_at, Call.id)).all() if ids else []
        topic_label = {t.code: t.label for t in session.exec(select(Topic))}
        topics: dict[int, list[str]] = {}
        for call_id, code in session.exec(
                select(CallTopic.call_id, CallTopic.topic_code).where(
                    col(CallTopic.call_id).in_(list(ids)))
                .order_by(col(CallTopic.is_primary).desc(), CallTopic.topic_code)):
            topics.setdefault(call_id, []).append(topic_label.get(code, code))
        outcomes: dict[int, list[str]] = {}
        for row in session.exec(select(CallOutcome).where(
                col(CallOutcome.call_id).in_(list(ids)))
                .order_by(CallOutcome.outcome, CallOutcome.referred_to)):
            text = outcome_label.get(row.outcome, row.outcome)
            if row.referred_to:
                text += f" ({referral_label.get(row.referred_to, row.referred_to)})"
            outcomes.setdefault(row.call_id, []).append(text)
    lines = [f"# Subject access: calls held by {helpline.name}", "",
             f"Produced {to_uk(clock.now()):%Y-%m-%d %H:%M} (UK time). "
             f"{len(calls)} call{'' if len(calls) == 1 else 's'} found.", ""]
    for number, call in enumerate(calls, start=1):
        assert call.id is not None
        lines += [f"## Call {number}: {to_uk(call.started_at):%Y-%m-%d %H:%M} (UK time)", "",
                  f"- Reference: call {call.id}",
                  f"- Topics: {', '.join(topics.get(call.id, [])) or 'none'}",
                  f"- Outcomes: {', '.join(outcomes.get(call.id, [])) or 'none'}"]
        for name in _ABOUT_THE_CALLER:
            value = getattr(call, name)
            if value is None or value == "":
                continue
            lines.append(f"- {name.replace('_', ' ').capitalize()}: {_shown(value)}")
        if call.personal_erased_at is not None:
            lines.append(f"- Personal details erased: {_shown(call.personal_erased_at)}")
        lines.append("")
    with atomic_file(path) as f:
        f.write("\n".join(lines))
    with store.write() as session:
        audit.record(session, clock, actor, "subject-access", None, {"calls": len(calls)})
