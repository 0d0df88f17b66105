"""The audit trail: sign-ins, edits of saved calls, reviews, exports, erasures, settings,
taxonomy and user changes. Written by the core inside the same transaction as the change it
records; never updated or deleted (the database refuses both). Details name fields, never the
personal values in them. Every service records with :func:`record`; supervisors read the
trail through :class:`AuditTrail`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, select

from advice_desk.clock import Clock, uk_day_end, uk_day_start
from advice_desk.people.manager import Manager
from advice_desk.people.permissions import Action, Actor, require
from advice_desk.store.models import AuditEvent

# What a detail may hold: counts, flags, codes and lists of field names; :func:`describe`
# shows each as a person reads it.
AuditDetail = Mapping[str, str | int | float | bool | Sequence[str | int] | None]


def record(session: Session, clock: Clock, actor: Actor | None, action: str,
           subject: str | None = None, detail: AuditDetail | None = None,
           actor_name: str | None = None) -> None:
    """Add one event to the trail, in the caller's transaction."""
    session.add(AuditEvent(
        at=clock.now(), actor_id=actor.id if actor else None,
        actor=actor_name or (actor.name if actor else "unknown"), action=action,
        subject=subject, detail=json.dumps(detail, sort_keys=True) if detail else None))


@dataclass(frozen=True)
class AuditQuery:
    date_from: date | None = None
    date_to: date | None = None
    action: str | None = None
    actor: str | None = None


class AuditTrail(Manager):
    """The trail as a supervisor reads it."""

    def events(self, query: AuditQuery, offset: int = 0, limit: int = 500) -> list[AuditEvent]:
        """Newest first; supervisors only."""
        require(self.actor, Action.AUDIT)
        statement = select(AuditEvent)
        if query.date_from is not None:
            statement = statement.where(AuditEvent.at >= uk_day_start(query.date_from))
        if query.date_to is not None:
            statement = statement.where(AuditEvent.at < uk_day_end(query.date_to))
        if query.action:
            statement = statement.where(AuditEvent.action == query.action)
        if query.actor:  # any part of the name, any case; % and _ are plain characters
            statement = statement.where(sa.func.lower(AuditEvent.actor).contains(
                query.actor.lower(), autoescape=True))
        statement = statement.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        with self.store.read() as session:
            return list(session.exec(statement.offset(offset).limit(limit)))

    def actions(self) -> list[str]:
        """Every action the trail holds, for the audit window's filter."""
        with self.store.read() as session:
            return sorted(session.exec(select(AuditEvent.action).distinct()))


# Searches audited by what they matched on and how many calls they found, never the text.
FOUND = ("person-search", "repeat-caller-lookup")


def describe(event: AuditEvent) -> str:
    """The detail as a person reads it, in words: ``changed the caller name and notes``,
    ``with a review note``; a detail nobody has worded yet reads ``key: value``."""
    if not event.detail:
        return ""
    detail = json.loads(event.detail)
    if event.action in ("erasure", "retention") and isinstance(detail.get("calls"), int):
        return _erased(event.action, detail)
    if event.action in FOUND and isinstance(detail.get("calls"), int):
        return f"{_calls(detail['calls'])} found by {_words(detail.get('by', 'name'))}"
    if event.action == "call-corrected":
        return f"changed from {_words(detail.get('from'))} to {_words(detail.get('to'))}"
    if event.action == "call-withdrawn":
        return f"withdrawn (logged as {_words(detail.get('kind'))})"
    parts = [_phrase(event.action, str(key), value) for key, value in detail.items()]
    return "; ".join(part for part in parts if part)


def _erased(action: str, detail: dict[str, object]) -> str:
    """``personal details of 3 calls erased (found by phone); 1 call on legal hold kept``."""
    why = (f"older than {detail['months']} months" if action == "retention"
           else f"found by {_words(detail.get('by', 'name'))}")
    text = f"personal details of {_calls(detail['calls'])} erased ({why})"
    held = detail.get("held")
    return f"{text}; {_calls(held)} on legal hold kept" if isinstance(held, int) and held else text


def _words(value: object) -> str:
    """A value in words: a field code reads as words, a list as ``a, b and c``."""
    if isinstance(value, list):
        items = [_words(item) for item in value]
        if not items:
            return "nothing"
        return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
    return str(value).replace("_", " ")


def _calls(count: object) -> str:
    return "1 call" if count == 1 else f"{count} calls"


CALLS_DONE = {"subject-access": "saved for the person"}


def _phrase(action: str, key: str, value: object) -> str:
    match key, value:
        case "fields" | "changed", _:
            return f"changed {_words(value)}"
        case "with note", bool():
            return "with a review note" if value else "without a review note"
        case "first start", bool():
            return "made at the first start" if value else ""
        case "role", _:
            return f"as a {_words(value)}"
        case "held", bool():
            return "legal hold put on" if value else "legal hold lifted"
        case "calls", int():
            return f"{_calls(value)} {CALLS_DONE.get(action, '')}".strip()
        case "months", _:
            return f"older than {value} months"
        case "by", _:
            return f"found by {_words(value)}"
        case "files", _:
            return f"files {_words(value)}"
        case "threshold", _:
            return f"counts under {value} hidden"
        case "k", _:
            return f"k-anonymity with k = {value}"
        case "change", _:
            return _words(value)
        case "label" | "parent" | "position" | "subtopics", _:
            return f"{key} {_words(value)}"
        case "previous label" | "previous position", _:
            return f"was {_words(value)}"
        case _, bool():
            return key if value else f"not {key}"
        case _:
            return f"{key}: {_words(value)}"
