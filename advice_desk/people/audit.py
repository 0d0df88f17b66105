"""The audit trail: sign-ins, edits of saved calls, reviews, exports, erasures, settings,
taxonomy and user changes. Written by the core inside the same transaction as the change it
records; never updated or deleted (the database refuses both). Details name fields, never the
personal values in them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from advice_desk.clock import Clock, uk_day_start
from advice_desk.people.permissions import Action, Actor, require
from advice_desk.store.engine import Store
from advice_desk.store.models import AuditEvent


def record(session: Session, clock: Clock, actor: Actor | None, action: str,
           subject: str | None = None, detail: dict[str, Any] | None = None,
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


def list_events(store: Store, actor: Actor, query: AuditQuery, offset: int = 0,
                limit: int = 500) -> list[AuditEvent]:
    """Newest first; supervisors only."""
    require(actor, Action.AUDIT)
    statement = select(AuditEvent)
    if query.date_from is not None:
        statement = statement.where(AuditEvent.at >= uk_day_start(query.date_from))
    if query.date_to is not None:
        statement = statement.where(
            AuditEvent.at < uk_day_start(query.date_to + timedelta(days=1)))
    if query.action:
        statement = statement.where(AuditEvent.action == query.action)
    if query.actor:  # any part of the name, any case; % and _ are plain characters
        statement = statement.where(sa.func.lower(AuditEvent.actor).contains(
            query.actor.lower(), autoescape=True))
    statement = statement.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    with store.read() as session:
        return list(session.exec(statement.offset(offset).limit(limit)))


def event_actions(store: Store) -> list[str]:
    with store.read() as session:
        return sorted(session.exec(select(AuditEvent.action).distinct()))


def describe(event: AuditEvent) -> str:
    """The detail as a person reads it: ``fields: notes, topics``."""
    if not event.detail:
        return ""
    detail = json.loads(event.detail)
    return "; ".join(f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
                     for key, value in detail.items())


