"""The audit trail: sign-ins, edits of saved calls, reviews, exports, erasures, settings,
taxonomy and user changes. Written by the core inside the same transaction as the change it
records (always a write transaction: it holds the write lock); never updated, deleted or
replaced (the database refuses all three), and chained (:mod:`advice_desk.store.audit_chain`)
so that what the database cannot stop its owner doing is found by ``advice-desk audit verify``.
Details name fields, never the personal values in them. Every service records with
:func:`record`; supervisors read and verify the trail through :class:`AuditTrail`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from advice_desk.clock import Clock, uk_day_end, uk_day_start
from advice_desk.people.manager import Manager
from advice_desk.people.permissions import Action, Actor, require
from advice_desk.store import audit_anchor, audit_chain, audit_guards
from advice_desk.store.audit_anchor import Anchor
from advice_desk.store.audit_chain import Verdict
from advice_desk.store.engine import Store
from advice_desk.store.models import AuditEvent

# What a detail may hold: counts, flags, codes and lists of field names; :func:`describe`
# shows each as a person reads it.
AuditDetail = Mapping[str, str | int | float | bool | Sequence[str | int] | None]


def record(session: Session, clock: Clock, actor: Actor | None, action: str,
           subject: str | None = None, detail: AuditDetail | None = None,
           actor_name: str | None = None) -> None:
    """Add one event to the trail, in the caller's write transaction: chained to the newest
    event, read under the write lock; this PC's anchor moves on once the transaction commits."""
    session.flush()  # earlier events of this transaction first: the newest is read below
    event = AuditEvent(
        at=clock.now(), actor_id=actor.id if actor else None,
        actor=actor_name or (actor.name if actor else "unknown"), action=action,
        subject=subject, detail=json.dumps(detail, sort_keys=True) if detail else None)
    place = audit_chain.next_link(session.connection(), event.at, event.actor_id, event.actor,
                                  event.action, event.subject, event.detail)
    event.seq, event.link = place.seq, place.link
    session.add(event)
    session.flush()
    assert event.id is not None
    if ANCHOR_AFTER_COMMIT not in session.info:
        sa.event.listen(session, "after_commit", _move_anchor)
        sa.event.listen(session, "after_rollback", _forget_anchor)
        session.info[ANCHOR_REPLACES] = _replaced_by_a_restore(session.connection(), place)
    session.info[ANCHOR_AFTER_COMMIT] = Anchor(place.store_id, place.seq, event.id, place.link)


ANCHOR_AFTER_COMMIT = "advice_desk.audit.anchor"
ANCHOR_REPLACES = "advice_desk.audit.anchor.replaces"


def _replaced_by_a_restore(connection: sa.Connection, place: audit_chain.Next) -> bool:
    """Whether this PC's anchor is ahead of the event being added only because it is of a
    trail a server restore replaced: then the new event's anchor replaces it (otherwise the
    anchor would stay on the old trail, and a cut of what this PC writes after the restore
    would pass). Ahead for any other reason (a cut tail) it stays, as evidence."""
    current = audit_anchor.read_anchor(audit_anchor.anchor_path(place.store_id))
    if current is None or current.store != place.store_id or current.count < place.seq:
        return False
    return audit_chain.superseding_restore(connection, current) is not None


def _move_anchor(session: Session) -> None:
    anchor = session.info.pop(ANCHOR_AFTER_COMMIT, None)
    replaces = bool(session.info.pop(ANCHOR_REPLACES, False))
    if isinstance(anchor, Anchor):
        # A failed write (disk full) leaves the anchor behind, which verify accepts; the change
        # itself is committed and must not be reported as failed.
        with suppress(OSError):
            audit_anchor.write_anchor(audit_anchor.anchor_path(anchor.store), anchor,
                                      only_forward=not replaces)


def _forget_anchor(session: Session) -> None:
    session.info.pop(ANCHOR_AFTER_COMMIT, None)
    session.info.pop(ANCHOR_REPLACES, None)


def anchor_path(store: Store) -> Path:
    """This PC's anchor file of ``store``: the newest event it saw committed (for backups)."""
    with store.read() as session:
        return audit_anchor.anchor_path(audit_chain.store_id(session.connection()))


def chain_head(store: Store) -> Anchor | None:
    """The newest event of ``store``'s trail as an anchor (None when the trail is empty)."""
    with store.read() as session:
        return audit_chain.chain_head(session.connection())


def verify(store: Store) -> Verdict:
    """Walk the whole trail against this PC's key and anchor (``advice-desk audit verify``).
    The anchor is read before the walk's snapshot starts: an event committed in between
    makes the trail longer than the anchor, never shorter."""
    anchor = audit_anchor.read_anchor(anchor_path(store), strict=True)
    with store.read() as session:
        return audit_chain.verify(session.connection(), anchor)


def missing_guards(store: Store) -> list[str]:
    """The trail's guards (triggers) that are missing, disabled or changed, by name."""
    with store.read() as session:
        return audit_guards.missing_guards(session.connection())


GUARDS_PUT_BACK = "audit-guards-put-back"


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

    def verify(self) -> Verdict:
        """Whether the trail is whole; supervisors only."""
        require(self.actor, Action.AUDIT)
        return verify(self.store)

    def replace_lost_key(self) -> int:
        """The audit key was lost: chain on with a new one from an event saying so (the events
        before can then be checked only with the lost key). Returns that event's position."""
        require(self.actor, Action.AUDIT)
        with self.store.write() as session:
            audit_chain.replace_lost_key(session.connection())
            record(session, self.clock, self.actor, audit_chain.KEY_REPLACED, "audit key")
            anchor = session.info[ANCHOR_AFTER_COMMIT]
            assert isinstance(anchor, Anchor)
            return anchor.count

    def missing_guards(self) -> list[str]:
        """The trail's guards that are not in place; supervisors only."""
        require(self.actor, Action.AUDIT)
        return missing_guards(self.store)

    def put_back_guards(self) -> list[str]:
        """Put back the guards that are not in place, recorded in the trail (which guards);
        supervisors only. Returns them."""
        require(self.actor, Action.AUDIT)
        with self.store.write() as session:
            put_back = audit_guards.put_back_guards(session.connection())
            if put_back:
                record(session, self.clock, self.actor, GUARDS_PUT_BACK, "audit trail",
                       {"guards": put_back})
        return put_back

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


CALLS_DONE = {"subject-access": "saved for the person", "store-restored": "in the copy restored"}


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
        case "guards", list():
            return f"guards {', '.join(str(name) for name in value)} put back"
        case "replaced events", int():
            return f"replacing a trail of {_calls(value).replace('call', 'event')}"
        case "replaced last id", _:
            return ""
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
