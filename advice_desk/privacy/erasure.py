"""Erasure (PRODUCT.md §7): a person's details taken out of every call on request, and the
legal hold that keeps a call's details whatever is asked.

Erasing a call sets exactly :data:`privacy.classification.PERSONAL_CALL_FIELDS` to NULL and stamps
``personal_erased_at``; rows are never deleted and categorical fields never touched, so every
statistic stays as it was. After an erasure the store purges old copies of the erased values
(``secure_delete`` plus a checkpoint, see :meth:`Store.purge_erased`). Supervisors only, audited;
audit details give counts, never the name, phone or email searched for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from advice_desk.people import audit
from advice_desk.people.manager import Manager
from advice_desk.people.permissions import Action, require
from advice_desk.privacy.classification import PERSONAL_CALL_FIELDS
from advice_desk.privacy.identity import PersonQuery
from advice_desk.privacy.subject_access import calls_of
from advice_desk.store import search_index
from advice_desk.store.models import Call
from advice_desk.store.versions import touch

BATCH = 500  # ids per statement, well under every database's limit of bound parameters

_PERSONAL_COLUMNS = [getattr(Call, name) for name in PERSONAL_CALL_FIELDS]


def has_personal_data() -> sa.ColumnElement[bool]:
    """True of a call that still holds any personal field."""
    return sa.or_(*(column.is_not(None) for column in _PERSONAL_COLUMNS))


def erase_calls(session: Session, ids: Sequence[int], now: datetime,
                by: int | None = None) -> None:
    """Set the personal fields of the calls ``ids`` to NULL, stamped as erased at ``now``
    and as changed by the user ``by`` (None: the app); each call's version goes up, so a form
    that opened one before cannot write its details back.
    The search index's triggers take the erased words out of it; the index is then merged so
    that none of its pages keeps them either."""
    values = {name: None for name in PERSONAL_CALL_FIELDS} | {
        "personal_erased_at": now, "updated_at": now, "updated_by_id": by,
        "version": Call.version + 1}
    for start in range(0, len(ids), BATCH):
        session.execute(sa.update(Call).where(col(Call.id).in_(ids[start:start + BATCH]))
                        .values(**values))
    if ids:
        search_index.purge(session.connection())


def _unheld(session: Session, ids: list[int]) -> list[int]:
    held: set[int] = set()
    for start in range(0, len(ids), BATCH):
        held.update(i for i in session.exec(select(Call.id).where(
            col(Call.id).in_(ids[start:start + BATCH]), col(Call.legal_hold).is_(True)))
            if i is not None)
    return [i for i in ids if i not in held]


class Erasure(Manager):
    """Erasing a person's details, and the legal hold that stops it."""

    def erase(self, query: PersonQuery, dry_run: bool = False) -> int:
        """Erase the personal fields of every call of a person (found as by
        :meth:`SubjectAccess.find`), keeping the calls and their statistics. Calls on legal
        hold are left alone (see :meth:`held_calls`). Returns how many calls were (with
        ``dry_run``: would be) changed."""
        require(self.actor, Action.ERASE)
        key = query.key()
        if dry_run:
            with self.store.read() as session:
                return len(_unheld(session, calls_of(session, query.by, key)))
        with self.store.write() as session:
            found = calls_of(session, query.by, key)
            ids = _unheld(session, found)
            if ids:
                erase_calls(session, ids, self.clock.now(), self.actor.id)
            audit.record(session, self.clock, self.actor, "erasure", None,
                         {"calls": len(ids), "held": len(found) - len(ids), "by": query.by})
        if ids:
            self.store.purge_erased()
        return len(ids)

    def erase_calls(self, ids: Sequence[int]) -> int:
        """Erase the personal fields of the calls ``ids`` (those a supervisor ticked in a
        search's list), as :meth:`erase` does; calls on legal hold are left alone. Returns how
        many calls were changed; audited with counts only."""
        require(self.actor, Action.ERASE)
        with self.store.write() as session:
            wanted = list(dict.fromkeys(ids))
            ids = _unheld(session, wanted)
            if ids:
                erase_calls(session, ids, self.clock.now(), self.actor.id)
            audit.record(session, self.clock, self.actor, "erasure", None,
                         {"calls": len(ids), "held": len(wanted) - len(ids), "by": "ticked"})
        if ids:
            self.store.purge_erased()
        return len(ids)

    def held_calls(self, ids: Sequence[int]) -> list[int]:
        """Those of ``ids`` that are on legal hold."""
        require(self.actor, Action.ERASE)
        with self.store.read() as session:
            return [i for i in session.exec(select(Call.id).where(
                col(Call.id).in_(list(ids)), col(Call.legal_hold).is_(True))
                .order_by(col(Call.id))) if i is not None]

    def set_legal_hold(self, call_id: int, held: bool) -> None:
        """Put a call on legal hold (retention then leaves it alone) or release it; audited."""
        require(self.actor, Action.ERASE)
        with self.store.write() as session:
            call = session.get(Call, call_id)
            if call is None:
                raise LookupError(f"there is no call {call_id}")
            if call.legal_hold != held:
                call.legal_hold = held
                touch(call, self.actor.id, self.clock.now())
                session.add(call)
                audit.record(session, self.clock, self.actor, "legal-hold", f"call {call_id}",
                             {"held": held})
