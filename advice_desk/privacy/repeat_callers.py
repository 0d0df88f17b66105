"""Repeat callers (PRODUCT.md §1): while a worker types the phone number or email of a caller
who agreed to store their details, the caller's earlier consented calls, by anyone.

The role rule is kept here, not in the window: a worker receives :class:`EarlierCall`, which
holds only the date, the topics, the outcomes and the follow-up (no notes, no names, no
contact details); a supervisor receives :class:`EarlierCallInFull`. The caller is matched as
subject access matches a person (:func:`~advice_desk.privacy.subject_access.calls_of`, the
normal forms of :mod:`advice_desk.privacy.identity`). Every lookup is audited with what it was
matched by and how many calls it found, never the number or the address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from advice_desk.people import audit
from advice_desk.people.manager import Manager
from advice_desk.privacy.identity import MIN_PHONE_DIGITS, SearchBy, normal_form
from advice_desk.privacy.subject_access import calls_by_id, calls_of, outcome_labels, topic_labels
from advice_desk.store.models import Call, User

SHOWN = 20  # the newest earlier calls a lookup returns; `count` says how many there are


@dataclass(frozen=True)
class EarlierCall:
    """An earlier call of the caller as a worker sees it."""

    started_at: datetime
    topics: tuple[str, ...]
    outcomes: tuple[str, ...]
    follow_up_on: date | None
    follow_up_done: bool


@dataclass(frozen=True)
class EarlierCallInFull(EarlierCall):
    """An earlier call of the caller as a supervisor sees it: everything."""

    call_id: int
    worker: str
    caller_name: str | None
    caller_phone: str | None
    caller_email: str | None
    follow_up_note: str | None
    notes: str | None


@dataclass(frozen=True)
class EarlierCalls:
    """What one lookup found: how many earlier calls, and the newest :data:`SHOWN` of them,
    newest first."""

    count: int
    calls: tuple[EarlierCall, ...]


NOTHING = EarlierCalls(0, ())


def _keys(phone: str | None, email: str | None) -> dict[SearchBy, str]:
    """The normal forms worth looking up: a phone number with enough digits, an email with
    an @ and something either side."""
    keys: dict[SearchBy, str] = {}
    number = normal_form("phone", phone)
    if len(number) >= MIN_PHONE_DIGITS:
        keys["phone"] = number
    address = normal_form("email", email)
    user, at, domain = address.partition("@")
    if user and at and domain:
        keys["email"] = address
    return keys


class RepeatCallers(Manager):
    """The earlier calls of the caller on the phone."""

    def earlier_calls(self, phone: str | None, email: str | None,
                      excluding: int | None = None) -> EarlierCalls:
        """The earlier consented calls whose phone or email is the caller's (in any format),
        leaving out the call ``excluding`` (the one being edited). Workers get only
        :class:`EarlierCall`s; supervisors :class:`EarlierCallInFull`. Nothing is looked up
        (or audited) until the phone or the email is complete enough to find someone."""
        keys = _keys(phone, email)
        if not keys:
            return NOTHING
        consented = (col(Call.consent_to_store_details).is_(True),
                     col(Call.personal_erased_at).is_(None))
        with self.store.write() as session:
            ids = sorted({call_id for by, key in keys.items()
                          for call_id in calls_of(session, by, key, consented)
                          if call_id != excluding})
            calls = calls_by_id(session, ids)[::-1][:SHOWN]
            shown = self._shown(session, calls)
            audit.record(session, self.clock, self.actor, "repeat-caller-lookup", None,
                         {"by": sorted(keys), "calls": len(ids)})
        return EarlierCalls(len(ids), shown)

    def _shown(self, session: Session, calls: list[Call]) -> tuple[EarlierCall, ...]:
        ids = [call.id for call in calls if call.id is not None]
        topics, outcomes = topic_labels(session, ids), outcome_labels(session, ids)
        workers = {user.id: user.display_name for user in session.exec(
            select(User).where(col(User.id).in_({call.worker_id for call in calls})))}
        shown: list[EarlierCall] = []
        for call in calls:
            assert call.id is not None
            seen = (call.started_at, tuple(topics.get(call.id, ())),
                    tuple(outcomes.get(call.id, ())), call.follow_up_on,
                    call.follow_up_done_at is not None)
            if self.actor.is_supervisor:
                shown.append(EarlierCallInFull(
                    *seen, call_id=call.id, worker=workers.get(call.worker_id, ""),
                    caller_name=call.caller_name, caller_phone=call.caller_phone,
                    caller_email=call.caller_email, follow_up_note=call.follow_up_note,
                    notes=call.notes))
            else:
                shown.append(EarlierCall(*seen))
        return tuple(shown)
