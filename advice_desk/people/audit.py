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


def describe(event: AuditEvent) -> str:
    """The detail as a person reads it: ``fields: notes, topics``."""
    if not event.detail:
        return ""
    detail = json.loads(event.detail)
    return "; ".join(f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
                     for key, value in detail.items())


